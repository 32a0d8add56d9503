package pledge

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, alg := range []string{EdDSA, ES256} {
		t.Run(alg, func(t *testing.T) {
			k, err := GenerateKey(alg, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			jws, err := Sign(testPledge(t), k)
			if err != nil {
				t.Fatal(err)
			}
			v, err := Verify(jws, VerifyOptions{Keys: NewKeySet(k.Public())})
			if err != nil {
				t.Fatal(err)
			}
			if !v.Compact || len(v.Signers) != 1 || !v.Signers[0].Key.Equal(k.Public()) {
				t.Fatalf("unexpected result %+v", v)
			}
			p := v.Statement.(*Pledge)
			if p.Signer.ID != "198703152010011002" || p.Date != "2023-11-27" {
				t.Fatalf("statement %+v", p)
			}
			if v.Headers[0].Type != "pakta-pledge+jws" || v.Headers[0].KeyID != k.KeyID() || v.Headers[0].Algorithm != alg {
				t.Fatalf("header %+v", v.Headers[0])
			}
		})
	}
}

func TestEnrollmentSignatures(t *testing.T) {
	reg, emp := seedKey(t, "registrar"), seedKey(t, "employee")
	regs := NewKeySet(reg.Public())
	e := testEnrollment(t, emp)

	good, err := Enroll(e, reg, emp)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verify(good, VerifyOptions{Keys: regs})
	if err != nil {
		t.Fatal(err)
	}
	if v.Compact || len(v.Signers) != 2 || !v.Signers[0].Key.Equal(reg.Public()) || !v.Signers[1].Key.Equal(emp.Public()) {
		t.Fatalf("signers %+v", v.Signers)
	}

	onlyRegistrar, _ := SignJSON(e, reg)
	if _, err := Verify(onlyRegistrar, VerifyOptions{Keys: regs}); err == nil || !strings.Contains(err.Error(), "proof of possession") {
		t.Errorf("enrollment without proof of possession: %v", err)
	}
	onlySubject, _ := SignJSON(e, emp)
	if _, err := Verify(onlySubject, VerifyOptions{Keys: regs}); err == nil || !strings.Contains(err.Error(), "registrar must sign") {
		t.Errorf("enrollment signed only by the subject: %v", err)
	}
	other := seedKey(t, "other")
	byStranger, _ := SignJSON(e, other, emp)
	if _, err := Verify(byStranger, VerifyOptions{Keys: regs}); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("enrollment by an unknown registrar: %v, want ErrUnknownKey", err)
	}
	if _, err := Enroll(e, reg, other); err == nil {
		t.Error("Enroll with a subject key that is not the enrolled jwk succeeded")
	}
}

func TestCountersign(t *testing.T) {
	emp, witness := seedKey(t, "employee"), seedKey(t, "witness")
	single, err := Sign(testPledge(t), emp)
	if err != nil {
		t.Fatal(err)
	}
	both, err := Countersign(single, witness)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(single), ".")
	var g generalJSON
	if err := json.Unmarshal(both, &g); err != nil {
		t.Fatal(err)
	}
	if g.Payload != parts[1] || g.Signatures[0].Protected != parts[0] || g.Signatures[0].Signature != parts[2] {
		t.Fatal("countersigning changed the original signature or payload")
	}
	v, err := Verify(both, VerifyOptions{Keys: NewKeySet(emp.Public(), witness.Public())})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Signers) != 2 {
		t.Fatalf("%d signers", len(v.Signers))
	}
	// The same key twice is refused.
	twice, err := Countersign(single, emp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(twice, VerifyOptions{Keys: NewKeySet(emp.Public())}); err == nil || !strings.Contains(err.Error(), "signed twice") {
		t.Errorf("two signatures by one key: %v", err)
	}
}

// TestAttacks: every forged or malformed JWS fails with one definite error.
func TestAttacks(t *testing.T) {
	emp, other := seedKey(t, "employee"), seedKey(t, "other")
	keys := NewKeySet(emp.Public())
	p := testPledge(t)
	payload, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	hdr := func(alg, typ, extra string) string {
		return `{"alg":"` + alg + `","kid":"` + emp.KeyID() + `","typ":"` + typ + `"` + extra + `}`
	}
	good := craft(hdr("EdDSA", "pakta-pledge+jws", ""), payload, edPriv(emp))
	if _, err := Verify(good, VerifyOptions{Keys: keys}); err != nil {
		t.Fatalf("the crafted baseline does not verify: %v", err)
	}
	goodJSON, _ := SignJSON(p, emp)
	countersigned, _ := Countersign(good, other)

	// HS256 keyed with the public key bytes: the classic algorithm confusion.
	hsInput := rawURL.EncodeToString([]byte(hdr("HS256", "pakta-pledge+jws", ""))) + "." + rawURL.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(emp.Public().Key().(ed25519.PublicKey)))
	mac.Write([]byte(hsInput))
	hs256 := []byte(hsInput + "." + rawURL.EncodeToString(mac.Sum(nil)))

	// A JSON JWS whose second signature is corrupted.
	var g generalJSON
	json.Unmarshal(countersigned, &g)
	g.Signatures[1].Signature = flipB64(g.Signatures[1].Signature)
	oneBad, _ := json.Marshal(g)
	var gNone generalJSON
	json.Unmarshal(goodJSON, &gNone)
	gNone.Signatures = []rawSignature{}
	noSigs, _ := json.Marshal(gNone)

	parts := strings.Split(string(good), ".")
	tests := []struct {
		name    string
		jws     []byte
		keys    *KeySet
		wantErr string
		is      error
	}{
		{"alg none", craft(hdr("none", "pakta-pledge+jws", ""), payload, nil), keys, `algorithm "none" is not accepted`, nil},
		{"HS256 with the public key as secret", hs256, keys, `algorithm "HS256" is not accepted`, nil},
		{"ES512", craft(hdr("ES512", "pakta-pledge+jws", ""), payload, edPriv(emp)), keys, "not accepted", nil},
		{"another key's signature under the right kid", craft(hdr("EdDSA", "pakta-pledge+jws", ""), payload, edPriv(other)), keys, "is not valid", nil},
		{"typ says enrollment, payload is a pledge", craft(hdr("EdDSA", "pakta-enrollment+jws", ""), payload, edPriv(emp)), keys, "does not match the payload's type", nil},
		{"no typ", craft(`{"alg":"EdDSA","kid":"`+emp.KeyID()+`"}`, payload, edPriv(emp)), keys, "does not match", nil},
		{"plain JWT typ", craft(hdr("EdDSA", "JWT", ""), payload, edPriv(emp)), keys, "does not match", nil},
		{"unknown crit", craft(hdr("EdDSA", "pakta-pledge+jws", `,"crit":["exp"]`), payload, edPriv(emp)), keys, "crit", nil},
		{"b64 false", craft(hdr("EdDSA", "pakta-pledge+jws", `,"b64":false,"crit":["b64"]`), payload, edPriv(emp)), keys, "", nil},
		{"unknown header member", craft(hdr("EdDSA", "pakta-pledge+jws", `,"jku":"https://evil.example"`), payload, edPriv(emp)), keys, "jku", nil},
		{"embedded jwk header", craft(hdr("EdDSA", "pakta-pledge+jws", `,"jwk":{}`), payload, edPriv(emp)), keys, "jwk", nil},
		{"duplicate header member", craft(`{"alg":"EdDSA","alg":"none","kid":"`+emp.KeyID()+`","typ":"pakta-pledge+jws"}`, payload, edPriv(emp)), keys, "duplicate", nil},
		{"no kid", craft(`{"alg":"EdDSA","typ":"pakta-pledge+jws"}`, payload, edPriv(emp)), keys, "no \"kid\"", nil},
		{"unknown kid", craft(`{"alg":"EdDSA","kid":"`+other.KeyID()+`","typ":"pakta-pledge+jws"}`, payload, edPriv(other)), keys, "", ErrUnknownKey},
		{"payload over the limit", craft(hdr("EdDSA", "pakta-pledge+jws", ""), append(append([]byte{}, payload...), make([]byte, MaxPayloadSize)...), edPriv(emp)), keys, "", ErrTooLarge},
		{"JWS over the limit", make([]byte, MaxJWSSize+1), keys, "", ErrTooLarge},
		{"empty", nil, keys, "empty", nil},
		{"two parts", []byte(parts[0] + "." + parts[1]), keys, "3 (header", nil},
		{"four parts", append(append([]byte{}, good...), []byte(".x")...), keys, "4 parts", nil},
		{"trailing newline", append(append([]byte{}, good...), '\n'), keys, "base64url", nil},
		{"padded payload", []byte(parts[0] + "." + parts[1] + "=." + parts[2]), keys, "base64url", nil},
		{"tampered payload", []byte(parts[0] + "." + rawURL.EncodeToString([]byte(strings.Replace(string(payload), "Mamuju", "Majene", 1))) + "." + parts[2]), keys, "is not valid", nil},
		{"tampered signature", []byte(parts[0] + "." + parts[1] + "." + flipB64(parts[2])), keys, "is not valid", nil},
		{"JSON with no signatures", noSigs, keys, "no signatures", nil},
		{"JSON with one bad signature among good ones", oneBad, NewKeySet(emp.Public(), other.Public()), "signature 1 by key", nil},
		{"JSON with an unprotected header", []byte(strings.Replace(string(goodJSON), `"signature":`, `"header":{"kid":"x"},"signature":`, 1)), keys, "header", nil},
		{"flattened JSON", []byte(`{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`), keys, "protected", nil},
		{"JSON with trailing garbage", append(append([]byte{}, goodJSON...), []byte(" x")...), keys, "JSON", nil},
		{"invalid statement inside a valid signature", craft(hdr("EdDSA", "pakta-pledge+jws", ""), payloadWith(t, p, "date", `"2023-11-28"`), edPriv(emp)), keys, "falls on", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(tt.jws, VerifyOptions{Keys: tt.keys})
			if err == nil {
				t.Fatal("verified, want an error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("error %q is not %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestAlgorithmAllowList(t *testing.T) {
	k, _ := GenerateKey(ES256, rand.Reader)
	jws, _ := Sign(testPledge(t), k)
	_, err := Verify(jws, VerifyOptions{Keys: NewKeySet(k.Public()), Algorithms: []string{EdDSA}})
	checkErr(t, err, "not allowed here")
}

func flipB64(s string) string {
	b, _ := rawURL.DecodeString(s)
	b[len(b)/2] ^= 1
	return rawURL.EncodeToString(b)
}

// testCA makes a root and an RSA leaf certificate whose subject
// serialNumber is the signer's NIP, valid in 2023–2024.
type testCA struct {
	root     *x509.Certificate
	rootKey  *rsa.PrivateKey
	pool     *x509.CertPool
	leafKey  *PrivateKey
	leafCert []byte
}

func newTestCA(t *testing.T, serialNumber string, notBefore, notAfter time.Time) *testCA {
	t.Helper()
	rootKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Root CA"},
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	leafRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Andi Pratama", SerialNumber: serialNumber},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, &leafRSA.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(root)
	lk, err := NewPrivateKey(leafRSA, PS256)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{root: root, rootKey: rootKey, pool: pool, leafKey: lk, leafCert: leafDER}
}

func TestCertificateBackedSignatures(t *testing.T) {
	y := func(y int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC) }
	nip := testPerson().ID
	valid := newTestCA(t, nip, y(2023), y(2025))
	tests := []struct {
		name    string
		ca      *testCA
		roots   *x509.CertPool
		wantErr string
	}{
		{"valid chain", valid, valid.pool, ""},
		{"no roots trusted", valid, nil, "no roots are trusted"},
		{"wrong root", valid, newTestCA(t, nip, y(2023), y(2025)).pool, "unknown authority"},
		{"expired at signed_at", newTestCA(t, nip, y(2021), y(2023)), nil, "expired"},
		{"not yet valid at signed_at", newTestCA(t, nip, y(2024), y(2026)), nil, "expired or is not yet valid"},
		{"serialNumber is someone else", newTestCA(t, "199001012015032001", y(2023), y(2025)), nil, "not the signer's id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			roots := tt.roots
			if roots == nil && tt.wantErr != "no roots are trusted" {
				roots = tt.ca.pool
			}
			k, err := tt.ca.leafKey.WithCertificates([][]byte{tt.ca.leafCert})
			if err != nil {
				t.Fatal(err)
			}
			jws, err := Sign(testPledge(t), k)
			if err != nil {
				t.Fatal(err)
			}
			v, err := Verify(jws, VerifyOptions{Roots: roots})
			checkErr(t, err, tt.wantErr)
			if err == nil && (len(v.Signers[0].Chain) != 2 || v.Headers[0].Algorithm != PS256) {
				t.Fatalf("signer %+v", v.Signers[0])
			}
		})
	}
	other := seedKey(t, "other")
	if _, err := other.WithCertificates([][]byte{valid.leafCert}); err == nil {
		t.Error("a certificate for another key was accepted")
	}
}

func TestRSAPKCS1(t *testing.T) {
	ca := newTestCA(t, testPerson().ID, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	k, err := NewPrivateKey(ca.leafKey.jwk.Key.(*rsa.PrivateKey), RS256)
	if err != nil {
		t.Fatal(err)
	}
	k, _ = k.WithCertificates([][]byte{ca.leafCert})
	jws, err := Sign(testPledge(t), k)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(jws, VerifyOptions{Roots: ca.pool}); err != nil {
		t.Fatal(err)
	}
}

func TestParseUnvalidated(t *testing.T) {
	emp := seedKey(t, "employee")
	hdr := `{"alg":"EdDSA","kid":"` + emp.KeyID() + `","typ":"pakta-pledge+jws"}`
	// A validly signed pledge whose date is not the date of its signed_at.
	bad := craft(hdr, payloadWith(t, testPledge(t), "date", `"2023-11-28"`), edPriv(emp))
	if _, err := Parse(bad); err == nil || !strings.Contains(err.Error(), "date") {
		t.Fatalf("Parse = %v, want the date rule", err)
	}
	j, err := ParseUnvalidated(bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Verify(VerifyOptions{Keys: NewKeySet(emp.Public())}); err != nil {
		t.Fatalf("the signature is valid: %v", err)
	}
	if err := j.Statement.Validate(); err == nil {
		t.Fatal("Validate accepted a wrong date")
	}
	if _, err := Verify(bad, VerifyOptions{Keys: NewKeySet(emp.Public())}); err == nil {
		t.Fatal("Verify accepted a wrong date")
	}
	// Syntax stays strict: an unknown member is still an error.
	if _, err := ParseUnvalidated(craft(hdr, payloadWith(t, testPledge(t), "extra", `1`), edPriv(emp))); err == nil {
		t.Fatal("ParseUnvalidated accepted an unknown member")
	}
	// An enrollment without a jwk has no key to check: an error, not a panic.
	reg := seedKey(t, "registrar")
	ehdr := `{"alg":"EdDSA","kid":"` + reg.KeyID() + `","typ":"pakta-enrollment+jws"}`
	noJWK := craft(ehdr, payloadWith(t, testEnrollment(t, emp), "jwk", ""), edPriv(reg))
	j, err = ParseUnvalidated(noJWK)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Verify(VerifyOptions{Keys: NewKeySet(reg.Public())}); err == nil {
		t.Fatal("Verify accepted an enrollment without jwk")
	}
}
