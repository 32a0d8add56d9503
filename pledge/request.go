package pledge

import (
	"errors"
	"fmt"
)

// SignRequest signs an enrollment request: the enrollment e signed by the
// enrolled key alone, as a compact JWS (typ pakta-enrollment+jws). It is
// the proof of possession an employee's device sends to the log; a
// registrar later countersigns it (Countersign) into the enrollment that
// is logged. key must be the key e.JWK names.
func SignRequest(e *Enrollment, key *PrivateKey) ([]byte, error) {
	if e.JWK == nil || !e.JWK.Equal(key.Public()) {
		return nil, errors.New("pledge: an enrollment request is signed by the key it enrolls: jwk is not the signing key")
	}
	if key.certs != nil {
		return nil, errors.New("pledge: an enrollment request carries no certificate chain: sign it with the bare key")
	}
	return Sign(e, key)
}

// VerifyRequest parses data as an enrollment request and checks it (see
// JWS.VerifyRequest).
func VerifyRequest(data []byte, opts VerifyOptions) (*Verified, error) {
	j, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return j.VerifyRequest(opts)
}

// VerifyRequest checks an enrollment request: a compact JWS whose payload is
// a valid enrollment and whose one signature is by the enrolled key itself
// (typ pakta-enrollment+jws, no x5c), with an algorithm in opts.Algorithms.
// Only the enrolled key is consulted: opts.Keys and opts.Roots are ignored.
//
// It is not Verify: a request is not yet an enrollment the log accepts,
// which Verify (and the log) still refuse without a registrar's signature.
func (j *JWS) VerifyRequest(opts VerifyOptions) (*Verified, error) {
	e, ok := j.Statement.(*Enrollment)
	if !ok {
		return nil, fmt.Errorf("pledge: an enrollment request holds an enrollment, not a %s", j.Statement.StatementType())
	}
	if !j.Compact || len(j.Headers) != 1 {
		return nil, fmt.Errorf("pledge: an enrollment request is a compact JWS with one signature, by the enrolled key; this one is a JSON serialization with %d signatures", len(j.Headers))
	}
	h := j.Headers[0]
	if h.Chain != nil {
		return nil, errors.New("pledge: an enrollment request carries no certificate chain (x5c): it is signed by the enrolled key alone")
	}
	if h.KeyID != e.JWK.KeyID() {
		return nil, fmt.Errorf("pledge: the enrollment request is signed by key %s, not by the enrolled key %s: a request proves possession of the key it enrolls", h.KeyID, e.JWK.KeyID())
	}
	v, _, err := j.verifySignatures(VerifyOptions{Algorithms: opts.Algorithms})
	if err != nil {
		return nil, err
	}
	return v, nil
}
