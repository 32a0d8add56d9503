package pledge

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse: no input panics, and whatever verifies re-verifies identically.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(vectors, "*"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("a.b.c"))
	f.Add([]byte(`{"payload":"","signatures":[]}`))
	reg, emp := goldenKeys(f)
	keys := NewKeySet(reg.Public(), emp.Public())
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := Parse(data)
		if err != nil {
			return
		}
		if !bytes.Equal(j.Raw, data) {
			t.Fatal("Raw is not the input")
		}
		v1, err1 := j.Verify(VerifyOptions{Keys: keys})
		v2, err2 := Verify(data, VerifyOptions{Keys: keys})
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("verification is not repeatable: %v / %v", err1, err2)
		}
		if err1 != nil {
			return
		}
		if !bytes.Equal(v1.Payload, v2.Payload) || !reflect.DeepEqual(v1.Statement, v2.Statement) || len(v1.Signers) != len(v2.Signers) {
			t.Fatal("two verifications read the JWS differently")
		}
		for i := range v1.Signers {
			if v1.Signers[i].Key.KeyID() != v2.Signers[i].Key.KeyID() {
				t.Fatal("signers differ")
			}
		}
	})
}

// FuzzParseKey: no input panics; an accepted public key re-reads as itself.
func FuzzParseKey(f *testing.F) {
	files, _ := filepath.Glob("../testdata/keys/*")
	for _, name := range files {
		b, _ := os.ReadFile(name)
		f.Add(bytes.TrimSpace(b))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePublicKey(data)
		if err != nil {
			return
		}
		b, err := k.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		k2, err := ParsePublicKey(b)
		if err != nil || !k2.Equal(k) {
			t.Fatalf("re-reading %s: %v", b, err)
		}
	})
}
