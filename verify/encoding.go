package verify

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
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
func decodeBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid base64 %q: %w", abbrev(s), err)
	}
	if base64.StdEncoding.EncodeToString(b) != s {
		return nil, fmt.Errorf("base64 %q is not in canonical form", abbrev(s))
	}
	return b, nil
}

// decodeHash decodes one base64 SHA-256 hash.
func decodeHash(s string) ([32]byte, error) {
	var h [32]byte
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
