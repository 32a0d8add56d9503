package pledge

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// RFC 7638 §3.1: the thumbprint of the example RSA key.
func TestThumbprintRFC7638(t *testing.T) {
	const jwk = `{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256"}`
	k, err := ParsePublicKey([]byte(jwk))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := k.KeyID(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Fatalf("kid %s, want %s", got, want)
	}
	if k.Algorithm() != RS256 {
		t.Fatalf("alg %s", k.Algorithm())
	}
}

func TestParseKeys(t *testing.T) {
	ed := seedKey(t, "employee")
	edPub, _ := ed.Public().MarshalJSON()
	edPrivJWK, _ := ed.MarshalPrivateJWK()
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	inject := func(b []byte, member string) []byte {
		return bytes.Replace(b, []byte("{"), []byte("{"+member+","), 1)
	}
	tests := []struct {
		name    string
		jwk     string
		private bool
		wantErr string
	}{
		{"ed25519 public", string(edPub), false, ""},
		{"ed25519 private", string(edPrivJWK), true, ""},
		{"private where public wanted", string(edPrivJWK), false, "this is a private key"},
		{"public where private wanted", string(edPub), true, "this is a public key"},
		{"kid that is not the thumbprint", string(bytes.Replace(edPub, []byte(ed.KeyID()), []byte(seedKey(t, "x").KeyID()), 1)), false, "not the key's thumbprint"},
		{"unknown member", string(inject(edPub, `"x5u":"https://example.org"`)), false, "x5u"},
		{"duplicate member", string(inject(edPub, `"kty":"RSA"`)), false, "duplicate"},
		{"use enc", string(inject(edPub, `"use":"enc"`)), false, `"use" is "enc"`},
		{"symmetric key", `{"kty":"oct","k":"c2VjcmV0"}`, false, "never accepted"},
		{"no kty", `{"crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`, false, "kty"},
		{"ES256 alg on an Ed25519 key", string(inject(edPub, `"alg":"ES256"`)), false, "does not fit"},
		{"trailing data", string(edPub) + "{}", false, "after top-level value"},
		{"P-384", jwkOf(t, &p384.PublicKey), false, "only P-256"},
		{"RSA 1024", jwkOf(t, &small.PublicKey), false, "too small"},
		{"oversized", `{"kty":"OKP","pad":"` + strings.Repeat("a", MaxKeySize) + `"}`, false, "over the"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.private {
				_, err = ParsePrivateKey([]byte(tt.jwk))
			} else {
				_, err = ParsePublicKey([]byte(tt.jwk))
			}
			checkErr(t, err, tt.wantErr)
		})
	}
}

func jwkOf(t *testing.T, pub any) string {
	t.Helper()
	// go-jose marshals any key; our own constructors would refuse these.
	b, err := (&PublicKey{jwk: jsonWebKey(pub)}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPrivateKeyNeverPrinted(t *testing.T) {
	k := seedKey(t, "employee")
	jwk, _ := k.MarshalPrivateJWK()
	var m struct{ D string }
	if err := unmarshalLoose(jwk, &m); err != nil || m.D == "" {
		t.Fatalf("no d in %s", jwk)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("k", "key", k)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%+v %#v %s %v", k, k, k, *k), logged.String()} {
		if strings.Contains(s, m.D) {
			t.Fatalf("secret printed: %s", s)
		}
		if !strings.Contains(s, k.KeyID()) {
			t.Fatalf("kid not printed: %s", s)
		}
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	k, err := GenerateKey("", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv := filepath.Join(dir, "employee.jwk")
	if err := WritePrivateKeyFile(priv, k); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(priv)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("private key file mode %#o", st.Mode().Perm())
	}
	if err := WritePrivateKeyFile(priv, k); err == nil {
		t.Fatal("overwrote an existing private key file")
	}
	back, err := ReadPrivateKeyFile(priv)
	if err != nil {
		t.Fatal(err)
	}
	if back.KeyID() != k.KeyID() || back.Algorithm() != EdDSA {
		t.Fatal("key changed on the way through a file")
	}
	os.Chmod(priv, 0o644)
	if _, err := ReadPrivateKeyFile(priv); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable private key was read: %v", err)
	}
	pub := filepath.Join(dir, "employee.pub.jwk")
	if err := WritePublicKeyFile(pub, k.Public()); err != nil {
		t.Fatal(err)
	}
	p, err := ReadPublicKeyFile(pub)
	if err != nil || !p.Equal(k.Public()) {
		t.Fatalf("public key file: %v", err)
	}
	if _, err := ReadPublicKeyFile(priv); err == nil {
		t.Fatal("a private key file was read as public")
	}
}

func TestGenerateKey(t *testing.T) {
	for _, alg := range []string{"", EdDSA, ES256} {
		k, err := GenerateKey(alg, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(k.KeyID()) != 43 {
			t.Fatalf("kid %q", k.KeyID())
		}
	}
	for _, alg := range []string{PS256, "HS256", "none"} {
		if _, err := GenerateKey(alg, rand.Reader); err == nil {
			t.Errorf("GenerateKey(%q) succeeded", alg)
		}
	}
}

func TestKeySet(t *testing.T) {
	a, b := seedKey(t, "a"), seedKey(t, "b")
	s := NewKeySet(a.Public(), b.Public())
	if s.Len() != 2 {
		t.Fatal(s.Len())
	}
	if k, err := s.ResolveKey(a.KeyID()); err != nil || !k.Equal(a.Public()) {
		t.Fatal(err)
	}
	var empty *KeySet
	if _, ok := empty.Lookup(a.KeyID()); ok || empty.Len() != 0 {
		t.Fatal("nil set found a key")
	}
}
