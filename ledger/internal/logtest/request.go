package logtest

import (
	"time"

	"github.com/pakta-id/pakta/pledge"
)

// RequestStatement is subject's enrollment of key as a request makes it:
// valid from validFrom (when the device signs it), in WITA, with no end.
func RequestStatement(subject pledge.Person, key *pledge.PrivateKey, validFrom time.Time) *pledge.Enrollment {
	return &pledge.Enrollment{
		Type: pledge.TypeEnrollment, Subject: subject, JWK: key.Public(),
		ValidFrom: validFrom.In(time.FixedZone("WITA", 8*3600)).Format(time.RFC3339),
	}
}

// Request is subject's enrollment request for key, signed by key alone at
// validFrom.
func (f *Fixture) Request(subject pledge.Person, key *pledge.PrivateKey, validFrom time.Time) []byte {
	f.t.Helper()
	jws, err := pledge.SignRequest(RequestStatement(subject, key, validFrom), key)
	if err != nil {
		f.t.Fatal(err)
	}
	return jws
}
