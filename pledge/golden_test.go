package pledge

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden vectors in ../testdata")

const vectors = "../testdata/jws"

// goldenKeys are the fixed keys of the vectors, also written to
// ../testdata/keys so that other tools can check the vectors.
func goldenKeys(t testing.TB) (registrar, employee *PrivateKey) {
	return seedKey(t, "registrar"), seedKey(t, "employee")
}

// golden returns every vector by file name. Ed25519 signatures are
// deterministic, so the same keys and statements give the same bytes.
func golden(t *testing.T) map[string][]byte {
	reg, emp := goldenKeys(t)
	text := templateText(t)
	out := map[string][]byte{}
	add := func(name string, b []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = b
	}
	p := testPledge(t)
	pj, err := Sign(p, emp)
	add("pledge.jws", pj, err)
	b, err := Enroll(testEnrollment(t, emp), reg, emp)
	add("enrollment.json", b, err)
	b, err = Sign(&Revocation{Type: TypeRevocation, KID: emp.KeyID(), Reason: "perangkat hilang"}, reg)
	add("revocation.jws", b, err)
	b, err = Sign(testTemplate(text), reg)
	add("template.jws", b, err)
	b, err = Countersign(pj, reg)
	add("pledge-countersigned.json", b, err)

	parts := strings.Split(string(pj), ".")
	payload, _ := rawURL.DecodeString(parts[1])
	hdr, _ := rawURL.DecodeString(parts[0])
	out["bad-tampered-payload.jws"] = []byte(parts[0] + "." + rawURL.EncodeToString(bytes.Replace(payload, []byte("Mamuju"), []byte("Majene"), 1)) + "." + parts[2])
	out["bad-tampered-signature.jws"] = []byte(parts[0] + "." + parts[1] + "." + flipB64(parts[2]))
	out["bad-alg-none.jws"] = craft(strings.Replace(string(hdr), `"EdDSA"`, `"none"`, 1), payload, nil)
	out["bad-typ-mismatch.jws"] = craft(strings.Replace(string(hdr), "pakta-pledge+jws", "pakta-template+jws", 1), payload, edPriv(emp))
	out["bad-other-key-same-kid.jws"] = craft(string(hdr), payload, edPriv(seedKey(t, "other")))
	out["bad-trailing-data.jws"] = append(bytes.Clone(pj), '.')
	return out
}

var goldenErrors = map[string]string{
	"bad-tampered-payload.jws":   "is not valid",
	"bad-tampered-signature.jws": "is not valid",
	"bad-alg-none.jws":           `algorithm "none" is not accepted`,
	"bad-typ-mismatch.jws":       "does not match the payload's type",
	"bad-other-key-same-kid.jws": "is not valid",
	"bad-trailing-data.jws":      "4 parts",
}

func TestGoldenVectors(t *testing.T) {
	reg, emp := goldenKeys(t)
	want := golden(t)
	if *update {
		os.MkdirAll(vectors, 0o755)
		for name, b := range want {
			if err := os.WriteFile(filepath.Join(vectors, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		os.MkdirAll("../testdata/keys", 0o755)
		for name, k := range map[string]*PrivateKey{"registrar": reg, "employee": emp} {
			priv, _ := k.MarshalPrivateJWK()
			pub, _ := k.Public().MarshalJSON()
			os.WriteFile(filepath.Join("../testdata/keys", name+".jwk"), append(priv, '\n'), 0o600)
			os.WriteFile(filepath.Join("../testdata/keys", name+".pub.jwk"), append(pub, '\n'), 0o644)
		}
	}
	keys := NewKeySet(reg.Public(), emp.Public())
	for name, b := range want {
		t.Run(name, func(t *testing.T) {
			got, err := os.ReadFile(filepath.Join(vectors, name))
			if err != nil {
				t.Fatalf("%v (run go test ./pledge -run TestGoldenVectors -update)", err)
			}
			if !bytes.Equal(got, b) {
				t.Fatalf("vector %s changed: signing is no longer deterministic or the format moved", name)
			}
			_, err = Verify(got, VerifyOptions{Keys: keys})
			checkErr(t, err, goldenErrors[name])
		})
	}
	// The key files on disk are the keys the vectors were made with.
	for name, k := range map[string]*PrivateKey{"registrar": reg, "employee": emp} {
		b, err := os.ReadFile(filepath.Join("../testdata/keys", name+".pub.jwk"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParsePublicKey(bytes.TrimSpace(b))
		if err != nil || !p.Equal(k.Public()) {
			t.Fatalf("testdata/keys/%s.pub.jwk: %v", name, err)
		}
	}
}
