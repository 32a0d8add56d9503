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

// BenchmarkParseBundle: ParseBundle alone on the same vector (JSON, base64,
// entries and proofs read, no signature checked), the part of
// BenchmarkVerifyBundle that is not cryptography.
func BenchmarkParseBundle(b *testing.B) {
	bundle := readVector(b, "pledge-eddsa.pakta.json")
	b.SetBytes(int64(len(bundle)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseBundle(bundle); err != nil {
			b.Fatal(err)
		}
	}
}
