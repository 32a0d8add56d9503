package verify

import "testing"

// BenchmarkVerifyBundle verifies the EdDSA pledge vector with its enrollment
// (two inclusion proofs, one checkpoint signature, three JWS signatures),
// from the file's bytes to the report, with no claim.
func BenchmarkVerifyBundle(b *testing.B) {
	_, policy := readVectors(b)
	bundle := readVector(b, "pledge-eddsa.pakta.json")
	b.SetBytes(int64(len(bundle)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := VerifyBytes(bundle, policy, nil)
		if err != nil || !r.Passed() {
			b.Fatalf("%v\n%s", err, r.Text())
		}
	}
}
