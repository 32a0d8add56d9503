package pledge

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-json-experiment/json"
)

// go-jose is the oracle of verifySignature: on the same bytes and the same
// key, pakta's verdict must be go-jose's (sigcheck.go says why pakta checks
// signatures itself).

// sigKeys are fixed keys of the four algorithms, so that the fuzz corpus
// stays signed by keys the fuzz target knows. The RSA key is the x5c
// vectors' signer; the ES256 scalar and the Ed25519 seed come from names.
type sigKeys struct {
	ed, es, ps, rs *PrivateKey
	rsaPriv        *rsa.PrivateKey
	esPriv         *ecdsa.PrivateKey
}

func fixedSigKeys(t testing.TB) *sigKeys {
	t.Helper()
	k := &sigKeys{ed: seedKey(t, "employee")}
	d := sha256.Sum256([]byte("pakta test key es256"))
	es, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		t.Fatal(err)
	}
	k.esPriv = es
	if k.es, err = NewPrivateKey(es, ES256); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../testdata/keys/vectors-x5c-signer.key.pem")
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("vectors-x5c-signer.key.pem: no PEM block")
	}
	rk, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	k.rsaPriv = rk.(*rsa.PrivateKey)
	if k.ps, err = NewPrivateKey(k.rsaPriv, PS256); err != nil {
		t.Fatal(err)
	}
	if k.rs, err = NewPrivateKey(k.rsaPriv, RS256); err != nil {
		t.Fatal(err)
	}
	return k
}

// publicKeys is every fixed public key. The RSA key is given without an
// alg, so that it checks both PS256 and RS256 (its kid, the thumbprint, is
// the same either way).
func (k *sigKeys) publicKeys() []*PublicKey {
	rsaBoth, _ := NewPublicKey(&k.rsaPriv.PublicKey)
	return []*PublicKey{k.ed.Public(), k.es.Public(), rsaBoth}
}

// rawSign signs input for alg with the standard library directly, for
// signatures go-jose would not make (another salt length, a header it would
// not write).
func rawSign(t testing.TB, priv crypto.Signer, alg string, input []byte, pss *rsa.PSSOptions) []byte {
	t.Helper()
	h := sha256.Sum256(input)
	switch alg {
	case EdDSA:
		return ed25519.Sign(priv.(ed25519.PrivateKey), input)
	case ES256:
		r, s, err := ecdsa.Sign(rand.Reader, priv.(*ecdsa.PrivateKey), h[:])
		if err != nil {
			t.Fatal(err)
		}
		return append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	case RS256:
		sig, err := rsa.SignPKCS1v15(rand.Reader, priv.(*rsa.PrivateKey), crypto.SHA256, h[:])
		if err != nil {
			t.Fatal(err)
		}
		return sig
	case PS256:
		if pss == nil {
			pss = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}
		}
		sig, err := rsa.SignPSS(rand.Reader, priv.(*rsa.PrivateKey), crypto.SHA256, h[:], pss)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	t.Fatalf("rawSign: algorithm %s", alg)
	return nil
}

// craftCompact returns a compact JWS of payload with header {alg, kid, typ}
// and the signature sign makes over its signing input.
func craftCompact(t testing.TB, alg, kid string, payload []byte, sign func(input []byte) []byte) []byte {
	t.Helper()
	hdr, err := json.Marshal(map[string]string{"alg": alg, "kid": kid, "typ": HeaderType(TypePledge)}, json.Deterministic(true))
	if err != nil {
		t.Fatal(err)
	}
	input := rawURL.EncodeToString(hdr) + "." + rawURL.EncodeToString(payload)
	return []byte(input + "." + rawURL.EncodeToString(sign([]byte(input))))
}

// withSignature replaces a compact JWS's signature.
func withSignature(jws []byte, f func(sig []byte) []byte) []byte {
	i := bytes.LastIndexByte(jws, '.')
	sig, err := rawURL.DecodeString(string(jws[i+1:]))
	if err != nil {
		panic(err)
	}
	out := append([]byte(nil), jws[:i+1]...)
	return append(out, rawURL.EncodeToString(f(bytes.Clone(sig)))...)
}

// joseVerdict is go-jose's verdict on signature i of data with key: parse
// (the same allow-list as pakta's) and verify that signature alone. parsed
// is false when go-jose cannot read data at all.
func joseVerdict(data []byte, i int, key crypto.PublicKey) (parsed, ok bool) {
	algs := make([]jose.SignatureAlgorithm, len(Algorithms))
	for i, a := range Algorithms {
		algs[i] = jose.SignatureAlgorithm(a)
	}
	var obj *jose.JSONWebSignature
	var err error
	if len(data) > 0 && data[0] == '{' {
		obj, err = jose.ParseSignedJSON(string(data), algs)
	} else {
		obj, err = jose.ParseSignedCompact(string(data), algs)
	}
	if err != nil || i >= len(obj.Signatures) {
		return false, false
	}
	one := *obj
	one.Signatures = obj.Signatures[i : i+1]
	_, err = one.Verify(key)
	return true, err == nil
}

// highS returns r || N−s: the other valid encoding of an ECDSA signature.
func highS(sig []byte) []byte {
	n := elliptic.P256().Params().N
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(n, s)
	return append(sig[:32:32], s.FillBytes(make([]byte, 32))...)
}

// ed25519Order is L, the order of the Ed25519 base point.
var ed25519Order, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)

// sPlusL returns R || S+L: the same point equation, a non-canonical S.
func sPlusL(sig []byte) []byte {
	le := func(b []byte) []byte { // little-endian <-> big-endian
		out := bytes.Clone(b)
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		return out
	}
	s := new(big.Int).SetBytes(le(sig[32:]))
	s.Add(s, ed25519Order)
	return append(sig[:32:32], le(s.FillBytes(make([]byte, 32)))...)
}

func flipBit(b []byte) []byte { b[len(b)/2] ^= 0x01; return b }

type sigCase struct {
	name string
	jws  []byte
	key  *PublicKey // the key the verdicts are asked for
	// raw, when key is nil, is a key pakta cannot hold (NewPublicKey
	// refuses it): only the signature checks are compared.
	raw  crypto.PublicKey
	want bool // go-jose v4.1.8's verdict, written down
}

func sigCases(t *testing.T) []sigCase {
	k := fixedSigKeys(t)
	p := testPledge(t)
	payload, err := marshalStatement(p)
	if err != nil {
		t.Fatal(err)
	}
	other := seedKey(t, "registrar")
	var cs []sigCase
	add := func(name string, jws []byte, key *PublicKey, want bool) {
		cs = append(cs, sigCase{name: name, jws: jws, key: key, want: want})
	}
	type algKey struct {
		alg  string
		priv *PrivateKey
		raw  crypto.Signer
	}
	for _, a := range []algKey{
		{EdDSA, k.ed, edPriv(k.ed)}, {ES256, k.es, k.esPriv}, {PS256, k.ps, k.rsaPriv}, {RS256, k.rs, k.rsaPriv},
	} {
		pub := a.priv.Public()
		signed, err := Sign(p, a.priv) // by go-jose
		if err != nil {
			t.Fatal(err)
		}
		js, err := SignJSON(p, a.priv)
		if err != nil {
			t.Fatal(err)
		}
		add(a.alg+"/valid", signed, pub, true)
		add(a.alg+"/valid-json", js, pub, true)
		add(a.alg+"/valid-raw-stdlib", craftCompact(t, a.alg, a.priv.KeyID(), payload, func(in []byte) []byte { return rawSign(t, a.raw, a.alg, in, nil) }), pub, true)
		add(a.alg+"/flipped-signature-bit", withSignature(signed, flipBit), pub, false)
		add(a.alg+"/truncated-signature", withSignature(signed, func(s []byte) []byte { return s[:len(s)-1] }), pub, false)
		add(a.alg+"/extended-signature", withSignature(signed, func(s []byte) []byte { return append(s, 0) }), pub, false)
		add(a.alg+"/leading-zero-added", withSignature(signed, func(s []byte) []byte { return append([]byte{0}, s...) }), pub, false)
		add(a.alg+"/zero-signature", withSignature(signed, func(s []byte) []byte { return make([]byte, len(s)) }), pub, false)
		add(a.alg+"/wrong-key", signed, other.Public(), false)
		// The header names the verifying key but another key signed.
		add(a.alg+"/signed-by-another-key", craftCompact(t, EdDSA, k.ed.KeyID(), payload, func(in []byte) []byte { return ed25519.Sign(edPriv(other), in) }), k.ed.Public(), false)
		p2 := *p
		p2.Place = "Makassar"
		payload2, _ := marshalStatement(&p2)
		add(a.alg+"/payload-replaced", []byte(string(signed[:bytes.IndexByte(signed, '.')+1])+rawURL.EncodeToString(payload2)+string(signed[bytes.LastIndexByte(signed, '.'):])), pub, false)
		// Wrong alg for the key type: the key signs with its own
		// algorithm over a header naming another one.
		for _, wrong := range Algorithms {
			isRSA := func(alg string) bool { return alg == PS256 || alg == RS256 }
			if wrong == a.alg || isRSA(a.alg) && isRSA(wrong) {
				continue // PS256 against RS256: the cases after the loop
			}
			add(a.alg+"/header-says-"+wrong, craftCompact(t, wrong, a.priv.KeyID(), payload, func(in []byte) []byte { return rawSign(t, a.raw, a.alg, in, nil) }), pub, false)
		}
	}
	esPub := k.es.Public()
	es := func(f func([]byte) []byte) []byte {
		return craftCompact(t, ES256, k.es.KeyID(), payload, func(in []byte) []byte { return f(rawSign(t, k.esPriv, ES256, in, nil)) })
	}
	add("ES256/high-s", es(highS), esPub, true)
	add("ES256/r-zero", es(func(s []byte) []byte { clear(s[:32]); return s }), esPub, false)
	add("ES256/s-zero", es(func(s []byte) []byte { clear(s[32:]); return s }), esPub, false)
	add("ES256/s-is-n", es(func(s []byte) []byte { elliptic.P256().Params().N.FillBytes(s[32:]); return s }), esPub, false)
	// s sent in 33 bytes, a zero first: the same integers, 65 bytes.
	add("ES256/s-leading-zero-added-65-bytes", es(func(s []byte) []byte {
		return append(append(s[:32:32], 0), s[32:]...)
	}), esPub, false)
	add("ES256/asn1-der", es(func(s []byte) []byte {
		r, ss := new(big.Int).SetBytes(s[:32]), new(big.Int).SetBytes(s[32:])
		der, err := asn1Sig(r, ss)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}), esPub, false)
	// r with a leading zero byte, sent in 63 bytes: the same integers, but
	// go-jose wants exactly 64.
	var short []byte
	for range 4096 {
		if jws := es(func(s []byte) []byte { return s }); leadingZero(jws) {
			short = withSignature(jws, func(s []byte) []byte { return s[1:] })
			add("ES256/r-leading-zero-kept-64-bytes", jws, esPub, true)
			break
		}
	}
	if short == nil {
		t.Fatal("no ECDSA signature with a leading zero in 4096 tries")
	}
	add("ES256/r-leading-zero-dropped-63-bytes", short, esPub, false)

	edPub := k.ed.Public()
	ed := func(f func([]byte) []byte) []byte {
		return craftCompact(t, EdDSA, k.ed.KeyID(), payload, func(in []byte) []byte { return f(ed25519.Sign(edPriv(k.ed), in)) })
	}
	add("EdDSA/s-plus-l", ed(sPlusL), edPub, false)
	// The identity as public key: R = identity, S = 0 satisfies the
	// cofactorless equation for every message. crypto/ed25519, and so
	// go-jose's Verify, accepts it; pakta's check must not differ. go-jose's
	// JWK code refuses such a key, and so NewPublicKey does: no pakta
	// PublicKey can be one.
	identity := make(ed25519.PublicKey, ed25519.PublicKeySize)
	identity[0] = 1 // the point (0, 1), of order 1
	forged := craftCompact(t, EdDSA, k.ed.KeyID(), payload, func([]byte) []byte {
		sig := make([]byte, ed25519.SignatureSize)
		sig[0] = 1
		return sig
	})
	cs = append(cs, sigCase{name: "EdDSA/small-order-key-trivial-signature", jws: forged, raw: identity, want: true})

	rsaPub, _ := NewPublicKey(&k.rsaPriv.PublicKey)
	ps := func(opts *rsa.PSSOptions) []byte {
		return craftCompact(t, PS256, rsaPub.KeyID(), payload, func(in []byte) []byte { return rawSign(t, k.rsaPriv, PS256, in, opts) })
	}
	add("PS256/salt-0", ps(&rsa.PSSOptions{SaltLength: 0}), rsaPub, true)
	add("PS256/salt-max", ps(&rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}), rsaPub, true)
	add("PS256/salt-20", ps(&rsa.PSSOptions{SaltLength: 20}), rsaPub, true)
	add("PS256/sha256-salt-but-rs256-header", craftCompact(t, RS256, rsaPub.KeyID(), payload, func(in []byte) []byte { return rawSign(t, k.rsaPriv, PS256, in, nil) }), rsaPub, false)
	add("RS256/pkcs1-signature-but-ps256-header", craftCompact(t, PS256, rsaPub.KeyID(), payload, func(in []byte) []byte { return rawSign(t, k.rsaPriv, RS256, in, nil) }), rsaPub, false)
	rs := craftCompact(t, RS256, rsaPub.KeyID(), payload, func(in []byte) []byte { return rawSign(t, k.rsaPriv, RS256, in, nil) })
	add("RS256/shorter-than-modulus", withSignature(rs, func(s []byte) []byte { return s[1:] }), rsaPub, false)
	add("RS256/signature-plus-modulus", withSignature(rs, func(s []byte) []byte {
		v := new(big.Int).SetBytes(s)
		v.Add(v, k.rsaPriv.N)
		return v.Bytes()
	}), rsaPub, false)
	return cs
}

// leadingZero reports whether a compact JWS's signature begins with 0x00.
func leadingZero(jws []byte) bool {
	i := bytes.LastIndexByte(jws, '.')
	sig, _ := rawURL.DecodeString(string(jws[i+1:]))
	return len(sig) > 0 && sig[0] == 0
}

// asn1Sig is the DER SEQUENCE of two INTEGERs (an X.509-style ECDSA
// signature), for the case of a JWS that carries it instead of r || s.
func asn1Sig(r, s *big.Int) ([]byte, error) {
	enc := func(v *big.Int) []byte {
		b := v.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return append([]byte{0x02, byte(len(b))}, b...)
	}
	body := append(enc(r), enc(s)...)
	return append([]byte{0x30, byte(len(body))}, body...), nil
}

// TestSignatureAgreesWithJose: on every case, the signature check of the
// one strict parse gives go-jose's verdict on the same bytes, and the one
// written down; pakta's whole Verify accepts only what go-jose verifies.
func TestSignatureAgreesWithJose(t *testing.T) {
	for _, c := range sigCases(t) {
		t.Run(c.name, func(t *testing.T) {
			key := c.raw
			if c.key != nil {
				key = c.key.Key()
			}
			parsed, joseOK := joseVerdict(c.jws, 0, key)
			if joseOK != c.want {
				t.Errorf("go-jose says %v, the table %v: has go-jose changed?", joseOK, c.want)
			}
			j, err := ParseUnvalidated(c.jws)
			if err != nil {
				t.Fatalf("the strict parse refuses the case: %v", err)
			}
			if !parsed {
				t.Fatal("the strict parse accepts what go-jose cannot parse")
			}
			h := j.Headers[0]
			if got := verifySignature(key, h.Algorithm, j.signingInput(0), j.sigBytes[0]); got != joseOK {
				t.Errorf("verifySignature says %v, go-jose %v", got, joseOK)
			}
			if c.key == nil {
				if _, err := NewPublicKey(c.raw); err == nil {
					t.Error("NewPublicKey accepts a key pakta must not hold")
				}
				return
			}
			_, err = j.Verify(VerifyOptions{Keys: NewKeySet(c.key)})
			if (err == nil) != c.want || (err == nil && !joseOK) {
				t.Errorf("Verify: %v, want ok=%v (go-jose %v)", err, c.want, joseOK)
			}
		})
	}
}

// FuzzSignatureAgreesWithJose mutates signed JWSs (compact and JSON, the
// four algorithms): whenever pakta verifies one, go-jose parses and verifies
// it with the same keys; whenever the strict parse reads one, every
// signature's verdict is go-jose's, for each of the fixed keys.
func FuzzSignatureAgreesWithJose(f *testing.F) {
	k := fixedSigKeys(f)
	keys := k.publicKeys()
	set := NewKeySet(keys...)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, verr := Verify(data, VerifyOptions{Keys: set})
		if verr == nil {
			for i, s := range v.Signers {
				if parsed, ok := joseVerdict(data, i, s.Key.Key()); !parsed || !ok {
					t.Fatalf("pakta verifies signature %d, go-jose does not (parsed %v)", i, parsed)
				}
			}
		}
		j, err := ParseUnvalidated(data)
		if err != nil {
			return
		}
		for i, h := range j.Headers {
			for _, key := range keys {
				parsed, joseOK := joseVerdict(data, i, key.Key())
				if !parsed {
					t.Fatalf("the strict parse reads it, go-jose cannot")
				}
				if got := verifySignature(key.Key(), h.Algorithm, j.signingInput(i), j.sigBytes[i]); got != joseOK {
					t.Fatalf("signature %d (%s) with key %s: pakta %v, go-jose %v", i, h.Algorithm, key.KeyID(), got, joseOK)
				}
			}
		}
	})
}

// TestWriteSigFuzzSeeds writes the seed corpus of
// FuzzSignatureAgreesWithJose with -update: every table case whose strict
// parse succeeds, and a JWS with two signatures (an enrollment).
func TestWriteSigFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzSignatureAgreesWithJose")
	if !*update {
		if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) == 0 {
			t.Fatalf("no seed corpus in %s (run go test ./pledge -run TestWriteSigFuzzSeeds -update)", dir)
		}
		return
	}
	k := fixedSigKeys(t)
	os.MkdirAll(dir, 0o755)
	write := func(name string, b []byte) {
		content := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range sigCases(t) {
		if _, err := ParseUnvalidated(c.jws); err == nil {
			write(strings.ReplaceAll(c.name, "/", "-"), c.jws)
		}
	}
	enr, err := Enroll(testEnrollment(t, k.ed), k.es, k.ed)
	if err != nil {
		t.Fatal(err)
	}
	write("enrollment-ES256-EdDSA-json", enr)
}

// TestReadTokenSignatureAgreesWithJose: a read token's signature is checked
// by the same function, on the token as received: its verdict is go-jose's.
func TestReadTokenSignatureAgreesWithJose(t *testing.T) {
	k := fixedSigKeys(t)
	now := time.Unix(1_800_000_000, 0)
	c, err := NewReadClaims(ReadTarget{Aud: "pakta.test/log", Method: "GET", Path: "/v1/me"}, now, 0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []*PrivateKey{k.ed, k.es, k.ps, k.rs} {
		tok, err := SignRead(c, key)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			tok  []byte
			want bool
		}{
			{"valid", tok, true},
			{"flipped-signature-bit", withSignature(tok, flipBit), false},
			{"truncated-signature", withSignature(tok, func(s []byte) []byte { return s[:len(s)-1] }), false},
			{"extended-signature", withSignature(tok, func(s []byte) []byte { return append(s, 0) }), false},
		} {
			t.Run(key.Algorithm()+"/"+tc.name, func(t *testing.T) {
				rt, err := ParseReadToken(tc.tok)
				if err != nil {
					t.Fatal(err)
				}
				parsed, joseOK := joseVerdict(tc.tok, 0, key.Public().Key())
				if !parsed || joseOK != tc.want {
					t.Errorf("go-jose: parsed %v, verifies %v; the table says %v", parsed, joseOK, tc.want)
				}
				if err := rt.Verify(key.Public(), nil); (err == nil) != joseOK {
					t.Errorf("Verify: %v; go-jose verifies: %v", err, joseOK)
				}
			})
		}
	}
}
