package verify

import (
	"encoding/base64"
	"reflect"
	"testing"

	"github.com/go-json-experiment/json"
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

// FuzzDecodeBundleJSON: decodeBundleJSON, which runs the token pass only
// when it can matter, fails exactly when and as the token pass followed by
// the decoder does, and decodes the same members.
func FuzzDecodeBundleJSON(f *testing.F) {
	s := fuzzSeeds(f)
	f.Add(s.bundle)
	f.Add(s.bundleX5C)
	for _, b := range []string{
		`{"v":2,"entry":null,"proof":"x","key":{}}`, `{"v":2,"key":{"enrollment":null}}`,
		`{"v":2,"v":2}`, `{"v":2} {}`, `{"v":2,"x":1}`, `{"v":"2"}`, "{\"v\":2,\"entry\":\"\xff\"}",
		`{"v":2,"entry":"null","key":{}}`, `[null]`, `{"V":2}`,
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var ref bundleJSON
		refErr := checkJSONSyntax(b)
		if refErr == nil {
			refErr = json.Unmarshal(b, &ref, json.RejectUnknownMembers(true))
		}
		got, err := decodeBundleJSON(b)
		if (err == nil) != (refErr == nil) || (err != nil && err.Error() != refErr.Error()) {
			t.Fatalf("decodeBundleJSON(%q): %v, want %v", b, err, refErr)
		}
		if err == nil && !reflect.DeepEqual(got, ref) {
			t.Fatalf("decodeBundleJSON(%q) = %+v, want %+v", b, got, ref)
		}
	})
}
