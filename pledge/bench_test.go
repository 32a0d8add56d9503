package pledge

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

func benchKeys(b *testing.B) map[string]*PrivateKey {
	es, err := GenerateKey(ES256, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	ca := newTestCA(&testing.T{}, testPerson().ID, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	return map[string]*PrivateKey{EdDSA: seedKey(b, "employee"), ES256: es, PS256: ca.leafKey}
}

func BenchmarkSign(b *testing.B) {
	p := testPledge(b)
	for _, alg := range []string{EdDSA, ES256, PS256} {
		k := benchKeys(b)[alg]
		b.Run(alg, func(b *testing.B) {
			for b.Loop() {
				if _, err := Sign(p, k); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify is Parse + Verify of a compact pledge: strict header and
// payload decoding, statement validation and the signature check. Compare
// with BenchmarkVerifyBareJose, go-jose alone on the same token.
func BenchmarkVerify(b *testing.B) {
	p := testPledge(b)
	for _, alg := range []string{EdDSA, ES256, PS256} {
		k := benchKeys(b)[alg]
		jws, err := Sign(p, k)
		if err != nil {
			b.Fatal(err)
		}
		opts := VerifyOptions{Keys: NewKeySet(k.Public())}
		b.Run(alg, func(b *testing.B) {
			b.SetBytes(int64(len(jws)))
			for b.Loop() {
				if _, err := Verify(jws, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifyBareJose(b *testing.B) {
	p := testPledge(b)
	for _, alg := range []string{EdDSA, ES256, PS256} {
		k := benchKeys(b)[alg]
		jws, err := Sign(p, k)
		if err != nil {
			b.Fatal(err)
		}
		pub := k.Public().Key()
		algs := []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)}
		b.Run(alg, func(b *testing.B) {
			b.SetBytes(int64(len(jws)))
			for b.Loop() {
				obj, err := jose.ParseSignedCompact(string(jws), algs)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := obj.Verify(pub); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
