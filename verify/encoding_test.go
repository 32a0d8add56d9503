package verify

import (
	"encoding/base64"
	"testing"
)

// FuzzDecodeBase64: decodeBase64 and decodeHash accept exactly the strings
// that are the standard encoding of what they decode to (the definition of
// canonical), which their fast checks stand in for.
func FuzzDecodeBase64(f *testing.F) {
	for _, s := range []string{
		"", "QQ==", "QR==", "QQ=", "QQ", "QUJD", "QU\nJD", "QUJD\r\n", "Q Q==",
		base64.StdEncoding.EncodeToString(make([]byte, 32)),
		base64.StdEncoding.EncodeToString(make([]byte, 32))[:42] + "B=",
		base64.StdEncoding.EncodeToString(make([]byte, 32))[:40] + "\nAAA=",
		base64.StdEncoding.EncodeToString(make([]byte, 31)) + "AA==",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, refErr := base64.StdEncoding.Strict().DecodeString(s)
		canonical := refErr == nil && base64.StdEncoding.EncodeToString(ref) == s
		b, err := decodeBase64(s)
		if (err == nil) != canonical {
			t.Fatalf("decodeBase64(%q): err %v, but canonical = %v", s, err, canonical)
		}
		if err == nil && string(b) != string(ref) {
			t.Fatalf("decodeBase64(%q) = %x, want %x", s, b, ref)
		}
		h, err := decodeHash(s)
		if want := canonical && len(ref) == 32; (err == nil) != want {
			t.Fatalf("decodeHash(%q): err %v, want ok = %v", s, err, want)
		}
		if err == nil && string(h[:]) != string(ref) {
			t.Fatalf("decodeHash(%q) = %x, want %x", s, h, ref)
		}
	})
}
