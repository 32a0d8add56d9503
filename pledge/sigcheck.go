package pledge

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"math/big"
)

// One parse per JWS. pakta's strict parser (ParseUnvalidated,
// ParseReadToken) is the only reader of a JWS: it has already fixed what
// every header and the payload mean, so a second reading by go-jose would
// only cost time (its parse and its re-encoding of the signing input were
// about a sixth of a signature check) and add a second opinion to keep in
// step. go-jose v4 cannot check a signature without its own parse (its
// verifiers are unexported), so pakta checks each signature itself, with
// the standard library's primitives only (no signature math of its own), on
// the signing input as received: ASCII(protected || "." || payload), the two
// base64url strings exactly as the JWS carries them, never re-encoded.
//
// verifySignature accepts exactly what go-jose v4 (asymmetric.go,
// verifyPayload) accepts for pakta's four algorithms:
//   - EdDSA: ed25519.Verify over the signing input (S ≥ L refused, small-order
//     public keys not refused, as crypto/ed25519 does);
//   - ES256: a P-256 key, a signature of exactly 64 bytes read as r || s,
//     ecdsa.Verify of SHA-256 (a high S is accepted, as ECDSA allows);
//   - RS256: rsa.VerifyPKCS1v15 with SHA-256;
//   - PS256: rsa.VerifyPSS with SHA-256 and nil options (any salt length).
//
// go-jose stays pakta's signer and JWK reader, and the oracle of the tests:
// TestSignatureAgreesWithJose and FuzzSignatureAgreesWithJose check that it
// gives the same verdict on the same bytes.
//
// The caller has checked that alg is one key signs with; a key of another
// type than alg needs is refused here too, as go-jose refuses it.
func verifySignature(key crypto.PublicKey, alg string, signingInput, sig []byte) bool {
	switch k := key.(type) {
	case ed25519.PublicKey:
		// ed25519.Verify panics on a key of another length; go-jose
		// would too, but a PublicKey never holds one.
		return alg == EdDSA && len(k) == ed25519.PublicKeySize && ed25519.Verify(k, signingInput, sig)
	case *ecdsa.PublicKey:
		const size = 32 // bytes of r and of s on P-256
		if alg != ES256 || k == nil || k.Curve != elliptic.P256() || len(sig) != 2*size {
			return false
		}
		h := sha256.Sum256(signingInput)
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(k, h[:], r, s)
	case *rsa.PublicKey:
		if k == nil {
			return false
		}
		h := sha256.Sum256(signingInput)
		switch alg {
		case RS256:
			return rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], sig) == nil
		case PS256:
			return rsa.VerifyPSS(k, crypto.SHA256, h[:], sig, nil) == nil
		}
	}
	return false
}
