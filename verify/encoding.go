package verify

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseDecimal parses an unsigned ASCII decimal with no sign and no leading
// zeros ("0" itself is fine), as tlog-checkpoint and tlog-proof require. A
// single accepted spelling per number is what makes parse→marshal exact.
func parseDecimal(s string) (uint64, error) {
	if s == "" {
		return 0, errors.New("empty number")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("number %q is not an unsigned decimal", s)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("number %q has a leading zero", s)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("number %q does not fit in 64 bits", s)
	}
	return n, nil
}

// decodeBase64 decodes standard, padded base64 and accepts only the canonical
// spelling: the std decoder alone would skip CR and LF and, without Strict,
// accept non-zero padding bits, so several strings would decode to one value.
//
// Strict decoding already rejects every other spelling but those with CR or
// LF in them (wrong padding, non-zero padding bits, characters outside the
// alphabet all fail), so the canonical check is that s has neither: no
// second encoding of the result, which for an entry of a kilobyte or two
// was a string as long as s made only to be compared.
func decodeBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid base64 %q: %w", abbrev(s), err)
	}
	if strings.ContainsAny(s, "\r\n") || base64.StdEncoding.EncodedLen(len(b)) != len(s) {
		return nil, fmt.Errorf("base64 %q is not in canonical form", abbrev(s))
	}
	return b, nil
}

// hashB64Len is the length of a 32-byte hash in padded base64.
const hashB64Len = 44

// decodeHash decodes one base64 SHA-256 hash. A proof holds one per tree
// level, so the usual case (44 canonical characters) decodes in place,
// without allocating; anything else takes decodeBase64, for its error.
func decodeHash(s string) ([32]byte, error) {
	var h [32]byte
	if len(s) == hashB64Len && !strings.ContainsAny(s, "\r\n") {
		var src [hashB64Len]byte // on the stack, as []byte(s) would not be
		var buf [33]byte         // DecodedLen(44): the decoder wants room for 33
		copy(src[:], s)
		if n, err := base64.StdEncoding.Strict().Decode(buf[:], src[:]); err == nil && n == len(h) {
			copy(h[:], buf[:n])
			return h, nil
		}
	}
	b, err := decodeBase64(s)
	if err != nil {
		return h, err
	}
	if len(b) != len(h) {
		return h, fmt.Errorf("hash %q is %d bytes, want %d", abbrev(s), len(b), len(h))
	}
	copy(h[:], b)
	return h, nil
}

// checkText requires valid UTF-8 without ASCII control characters other than
// newline: the rule note.Open applies to a whole signed note, applied early so
// that a malformed note is reported as malformed rather than as a bad signature.
func checkText(s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return fmt.Errorf("invalid UTF-8 at byte %d", i)
			}
		}
		if r < 0x20 && r != '\n' {
			return fmt.Errorf("control character %U at byte %d", r, i)
		}
	}
	return nil
}

// abbrev shortens a value quoted in an error so that hostile input cannot make
// error messages arbitrarily long.
func abbrev(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
