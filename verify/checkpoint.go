package verify

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// ErrCheckpoint marks every failure to accept a signed checkpoint: malformed
// note or body, no valid signature by the log key, or a wrong origin. Callers
// use it to name the failing check ("checkpoint"); the message says which.
var ErrCheckpoint = errors.New("verify: checkpoint check failed")

// maxNoteSignatures bounds the signature lines of a checkpoint note, as
// note.Open does, so that parsing stays cheap however many witnesses cosign.
const maxNoteSignatures = 100

// Checkpoint is the body of a C2SP tlog-checkpoint: the log's origin, its tree
// size and root hash, and optional extension lines (opaque, non-empty).
type Checkpoint struct {
	Origin     string
	Size       uint64
	Root       [32]byte
	Extensions []string
}

// Marshal returns the note text: origin, size, base64 root and each extension
// line, every line ending in a newline. It does not validate: SignCheckpoint
// does.
func (c Checkpoint) Marshal() []byte {
	var b strings.Builder
	b.WriteString(c.Origin)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatUint(c.Size, 10))
	b.WriteByte('\n')
	b.WriteString(base64.StdEncoding.EncodeToString(c.Root[:]))
	b.WriteByte('\n')
	for _, ext := range c.Extensions {
		b.WriteString(ext)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// ParseCheckpoint parses a checkpoint note text (the body, without signatures).
// It accepts exactly the texts Marshal produces: a non-empty origin, a decimal
// size without sign or leading zeros, a canonical base64 32-byte root,
// non-empty extension lines, and a final newline.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	c, err := parseCheckpoint(text)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("verify: checkpoint: %w", err)
	}
	return c, nil
}

func parseCheckpoint(text []byte) (Checkpoint, error) {
	s := string(text)
	if err := checkText(s); err != nil {
		return Checkpoint{}, err
	}
	if !strings.HasSuffix(s, "\n") {
		return Checkpoint{}, errors.New("text does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) < 3 {
		return Checkpoint{}, fmt.Errorf("text has %d lines, want at least 3 (origin, size, root)", len(lines))
	}
	var c Checkpoint
	if c.Origin = lines[0]; c.Origin == "" {
		return Checkpoint{}, errors.New("empty origin line")
	}
	size, err := parseDecimal(lines[1])
	if err != nil {
		return Checkpoint{}, fmt.Errorf("tree size: %w", err)
	}
	c.Size = size
	if c.Root, err = decodeHash(lines[2]); err != nil {
		return Checkpoint{}, fmt.Errorf("root hash: %w", err)
	}
	for i, ext := range lines[3:] {
		if ext == "" {
			return Checkpoint{}, fmt.Errorf("extension line %d is empty", i+1)
		}
		c.Extensions = append(c.Extensions, ext)
	}
	return c, nil
}

// SignCheckpoint returns the checkpoint as a signed note, signed by s. It
// refuses a checkpoint that ParseCheckpoint would not read back identically,
// so the log never signs a body a verifier rejects.
func SignCheckpoint(c Checkpoint, s note.Signer) ([]byte, error) {
	text := c.Marshal()
	back, err := parseCheckpoint(text)
	if err != nil {
		return nil, fmt.Errorf("verify: checkpoint: cannot sign: %w", err)
	}
	// A newline inside a field would split it into other lines that may still
	// parse; compare the fields, not the bytes.
	if back.Origin != c.Origin || !slices.Equal(back.Extensions, c.Extensions) {
		return nil, errors.New("verify: checkpoint: cannot sign: a field contains a newline")
	}
	signed, err := note.Sign(&note.Note{Text: string(text)}, s)
	if err != nil {
		return nil, fmt.Errorf("verify: checkpoint: signing with key %q: %w", s.Name(), err)
	}
	return signed, nil
}

// OpenCheckpoint checks that signed is a checkpoint note signed by v and that
// its origin is origin, and returns the parsed body and the opened note.
// Signatures by other keys (witness cosignatures, a rotated log key) are
// allowed and left in the note's UnverifiedSigs, as C2SP signed-note requires.
// Every error wraps ErrCheckpoint; those from note.Open (such as
// *note.InvalidSignatureError and *note.UnverifiedNoteError) are wrapped too.
func OpenCheckpoint(signed []byte, origin string, v note.Verifier) (Checkpoint, *note.Note, error) {
	c, n, err := openCheckpoint(signed, origin, v)
	if err != nil {
		return Checkpoint{}, nil, tagged(ErrCheckpoint, fmt.Errorf("verify: checkpoint: %w", err))
	}
	return c, n, nil
}

func openCheckpoint(signed []byte, origin string, v note.Verifier) (Checkpoint, *note.Note, error) {
	if v == nil {
		return Checkpoint{}, nil, errors.New("no log key given")
	}
	// Check the shape first, so that a malformed note is reported as such and
	// not as a signature failure.
	if _, err := splitNote(signed); err != nil {
		return Checkpoint{}, nil, fmt.Errorf("malformed signed note: %w", err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		var invalid *note.InvalidSignatureError
		var unverified *note.UnverifiedNoteError
		switch {
		case errors.As(err, &invalid):
			return Checkpoint{}, nil, fmt.Errorf("invalid signature by log key %s+%08x: %w", v.Name(), v.KeyHash(), err)
		case errors.As(err, &unverified):
			return Checkpoint{}, nil, fmt.Errorf("not signed by log key %s+%08x (%d signatures by other keys): %w",
				v.Name(), v.KeyHash(), len(unverified.Note.UnverifiedSigs), err)
		default:
			return Checkpoint{}, nil, fmt.Errorf("malformed signed note: %w", err)
		}
	}
	c, err := parseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("malformed body: %w", err)
	}
	if c.Origin != origin {
		return Checkpoint{}, nil, fmt.Errorf("origin is %q, want %q", abbrev(c.Origin), origin)
	}
	return c, n, nil
}

// splitNote checks the structure of a signed checkpoint note without verifying
// any signature: a strictly valid checkpoint text, a blank line, then one to
// maxNoteSignatures lines "— <name> <base64>", each ending in a newline,
// nothing after. It returns the text. It is stricter than note.Open (canonical
// base64 in signature lines), never looser, so that a proof that parses has one
// spelling and round-trips byte for byte.
func splitNote(signed []byte) ([]byte, error) {
	if err := checkText(string(signed)); err != nil {
		return nil, err
	}
	// The body has no empty line, so the last blank line is the separator,
	// exactly where note.Open splits.
	split := bytes.LastIndex(signed, []byte("\n\n"))
	if split < 0 {
		return nil, errors.New("no blank line before the signatures")
	}
	text, sigs := signed[:split+1], signed[split+2:]
	if _, err := parseCheckpoint(text); err != nil {
		return nil, err
	}
	if len(sigs) == 0 {
		return nil, errors.New("no signature lines")
	}
	if sigs[len(sigs)-1] != '\n' {
		return nil, errors.New("signature lines do not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(string(sigs), "\n"), "\n")
	if len(lines) > maxNoteSignatures {
		return nil, fmt.Errorf("%d signature lines, more than %d", len(lines), maxNoteSignatures)
	}
	for i, line := range lines {
		if err := checkSignatureLine(line); err != nil {
			return nil, fmt.Errorf("signature line %d: %w", i+1, err)
		}
	}
	return text, nil
}

// checkSignatureLine checks "— <key name> <base64(key hash || signature)>".
func checkSignatureLine(line string) error {
	rest, ok := strings.CutPrefix(line, "— ")
	if !ok {
		return fmt.Errorf("%q does not start with an em dash and a space", abbrev(line))
	}
	name, b64, ok := strings.Cut(rest, " ")
	if !ok {
		return fmt.Errorf("%q has no signature after the key name", abbrev(line))
	}
	if name == "" || strings.Contains(name, "+") || strings.IndexFunc(name, unicode.IsSpace) >= 0 || !utf8.ValidString(name) {
		return fmt.Errorf("invalid key name %q", abbrev(name))
	}
	sig, err := decodeBase64(b64)
	if err != nil {
		return err
	}
	if len(sig) < 5 {
		return fmt.Errorf("signature is %d bytes, want a 4-byte key hash and a signature", len(sig))
	}
	return nil
}
