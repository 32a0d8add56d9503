package verify

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// root0 is the canonical base64 of 32 zero bytes, rootA of 32 bytes 0x01..0x20.
const (
	root0 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	rootA = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
)

func TestCheckpointRoundTrip(t *testing.T) {
	var rootBytes [32]byte
	for i := range rootBytes {
		rootBytes[i] = byte(i + 1)
	}
	tests := []struct {
		name string
		text string
		want Checkpoint
	}{
		{"empty tree", "example.org/log\n0\n" + root0 + "\n", Checkpoint{Origin: "example.org/log"}},
		{"size 20852163", "example.org/log\n20852163\n" + rootA + "\n", Checkpoint{Origin: "example.org/log", Size: 20852163, Root: rootBytes}},
		{"max size", "example.org/log\n18446744073709551615\n" + root0 + "\n", Checkpoint{Origin: "example.org/log", Size: 1<<64 - 1}},
		{"extension lines", "example.org/log\n3\n" + root0 + "\nfoo\nbar baz\n", Checkpoint{Origin: "example.org/log", Size: 3, Extensions: []string{"foo", "bar baz"}}},
		{"origin with spaces and plus", "a log + more\n1\n" + root0 + "\n", Checkpoint{Origin: "a log + more", Size: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCheckpoint([]byte(tt.text))
			if err != nil {
				t.Fatalf("ParseCheckpoint: %v", err)
			}
			if c.Origin != tt.want.Origin || c.Size != tt.want.Size || c.Root != tt.want.Root ||
				strings.Join(c.Extensions, "|") != strings.Join(tt.want.Extensions, "|") {
				t.Fatalf("ParseCheckpoint = %+v, want %+v", c, tt.want)
			}
			if got := string(c.Marshal()); got != tt.text {
				t.Fatalf("Marshal = %q, want %q", got, tt.text)
			}
		})
	}
}

func TestParseCheckpointRejects(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"empty", "", "newline"},
		{"no final newline", "example.org/log\n1\n" + root0, "newline"},
		{"two lines", "example.org/log\n1\n", "at least 3"},
		{"empty origin", "\n1\n" + root0 + "\n", "empty origin"},
		{"leading zero in size", "example.org/log\n01\n" + root0 + "\n", "leading zero"},
		{"plus sign in size", "example.org/log\n+1\n" + root0 + "\n", "unsigned decimal"},
		{"minus sign in size", "example.org/log\n-1\n" + root0 + "\n", "unsigned decimal"},
		{"hex size", "example.org/log\n0x1\n" + root0 + "\n", "unsigned decimal"},
		{"size overflows uint64", "example.org/log\n18446744073709551616\n" + root0 + "\n", "64 bits"},
		{"empty size", "example.org/log\n\n" + root0 + "\n", "empty number"},
		{"root without padding", "example.org/log\n1\n" + strings.TrimSuffix(root0, "=") + "\n", "base64"},
		{"root base64url", "example.org/log\n1\n" + "_-" + root0[2:] + "\n", "base64"},
		{"root non-canonical padding bits", "example.org/log\n1\n" + root0[:42] + "B=\n", "base64"},
		{"root 31 bytes", "example.org/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n", "31 bytes"},
		{"root 33 bytes", "example.org/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", "33 bytes"},
		{"empty extension line", "example.org/log\n1\n" + root0 + "\n\n", "extension line 1 is empty"},
		{"CRLF line endings", "example.org/log\r\n1\r\n" + root0 + "\r\n", "control character"},
		{"tab in origin", "example\t.org\n1\n" + root0 + "\n", "control character"},
		{"invalid UTF-8", "example.org/\xfflog\n1\n" + root0 + "\n", "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCheckpoint([]byte(tt.text))
			if err == nil {
				t.Fatalf("ParseCheckpoint = %+v, want error", c)
			}
			if !strings.HasPrefix(err.Error(), "verify: checkpoint: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want prefix and %q", err, tt.want)
			}
		})
	}
}

func TestOpenCheckpoint(t *testing.T) {
	signer, verifier := newTestKey(t, testOrigin)
	otherSigner, otherVerifier := newTestKey(t, testOrigin)
	witness, _ := newTestKey(t, "witness.example")
	l := newTestLog(t, 5)
	signed := l.signedCheckpoint(t, signer)

	c, n, err := OpenCheckpoint(signed, testOrigin, verifier)
	if err != nil {
		t.Fatalf("OpenCheckpoint: %v", err)
	}
	if c.Size != 5 || c.Root != l.checkpoint().Root || len(n.Sigs) != 1 {
		t.Fatalf("OpenCheckpoint = %+v, %d sigs", c, len(n.Sigs))
	}

	cosigned, err := note.Sign(&note.Note{Text: string(l.checkpoint().Marshal())}, signer, witness)
	if err != nil {
		t.Fatal(err)
	}
	byOther := l.signedCheckpoint(t, otherSigner)
	badSig := flipSignatureBit(t, signed)
	wrongOrigin, err := SignCheckpoint(Checkpoint{Origin: "example.org/other", Size: 5, Root: l.checkpoint().Root}, signer)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		signed []byte
		v      note.Verifier
		want   string // "" means success
	}{
		{"signed by log key", signed, verifier, ""},
		{"extra witness cosignature", cosigned, verifier, ""},
		{"signature by another key", byOther, verifier, "not signed by log key"},
		{"verifier of another key", signed, otherVerifier, "not signed by log key"},
		{"tampered signature", badSig, verifier, "invalid signature by log key"},
		{"wrong origin", wrongOrigin, verifier, `origin is "example.org/other", want "example.org/log"`},
		{"no signatures", l.checkpoint().Marshal(), verifier, "malformed"},
		{"trailing garbage", append(bytes.Clone(signed), "garbage"...), verifier, "malformed"},
		{"trailing line", append(bytes.Clone(signed), "garbage\n"...), verifier, "malformed"},
		{"CRLF line endings", bytes.ReplaceAll(signed, []byte("\n"), []byte("\r\n")), verifier, "malformed"},
		{"leading zero in size", bytes.Replace(signed, []byte("\n5\n"), []byte("\n05\n"), 1), verifier, "leading zero"},
		{"nil verifier", signed, nil, "no log key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := OpenCheckpoint(tt.signed, testOrigin, tt.v)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("OpenCheckpoint: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("OpenCheckpoint succeeded, want error containing %q", tt.want)
			}
			if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "verify: checkpoint: ") {
				t.Fatalf("OpenCheckpoint error %q, want ErrCheckpoint containing %q", err, tt.want)
			}
		})
	}
}

// flipSignatureBit flips one bit of the Ed25519 signature (not the key hash)
// in the last signature line, keeping the base64 canonical.
func flipSignatureBit(t *testing.T, signed []byte) []byte {
	t.Helper()
	i := bytes.LastIndex(signed[:len(signed)-1], []byte(" ")) + 1
	sig, err := base64.StdEncoding.DecodeString(string(signed[i : len(signed)-1]))
	if err != nil {
		t.Fatal(err)
	}
	sig[10] ^= 1
	out := append(bytes.Clone(signed[:i]), base64.StdEncoding.EncodeToString(sig)...)
	return append(out, '\n')
}

func TestOpenCheckpointWrapsNoteErrors(t *testing.T) {
	signer, verifier := newTestKey(t, testOrigin)
	other, _ := newTestKey(t, testOrigin)
	l := newTestLog(t, 1)
	_, _, err := OpenCheckpoint(l.signedCheckpoint(t, other), testOrigin, verifier)
	var unverified *note.UnverifiedNoteError
	if !errors.As(err, &unverified) {
		t.Fatalf("error %v does not wrap *note.UnverifiedNoteError", err)
	}
	signed := l.signedCheckpoint(t, signer)
	// Same key name and hash, but the signature is over other text.
	forged := append(bytes.Clone((Checkpoint{Origin: testOrigin, Size: 2}).Marshal()), signed[bytes.LastIndex(signed, []byte("\n\n"))+1:]...)
	_, _, err = OpenCheckpoint(forged, testOrigin, verifier)
	var invalid *note.InvalidSignatureError
	if !errors.As(err, &invalid) {
		t.Fatalf("error %v does not wrap *note.InvalidSignatureError", err)
	}
}

func TestSignCheckpointRefusesInvalid(t *testing.T) {
	signer, _ := newTestKey(t, testOrigin)
	tests := []struct {
		name string
		c    Checkpoint
	}{
		{"empty origin", Checkpoint{}},
		{"newline in origin", Checkpoint{Origin: "a\nb"}},
		{"empty extension", Checkpoint{Origin: testOrigin, Extensions: []string{""}}},
		{"blank line in extension", Checkpoint{Origin: testOrigin, Extensions: []string{"a\n\nb"}}},
		{"newline in extension", Checkpoint{Origin: testOrigin, Extensions: []string{"a\nb"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if b, err := SignCheckpoint(tt.c, signer); err == nil {
				t.Fatalf("SignCheckpoint = %q, want error", b)
			}
		})
	}
}
