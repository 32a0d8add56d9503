package httpapi

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/pakta-id/pakta/pledge"
)

// TestBadSubmissions: every kind of bad input to POST /v1/entries gets the
// right 4xx with a JSON error, and leaves the tree exactly as it was.
func TestBadSubmissions(t *testing.T) {
	e := newEnv(t, nil, Options{})
	ctx := context.Background()
	alice, bob, revoked := e.enroll(1), e.enroll(2), e.enroll(3)
	if _, err := e.log.Append(ctx, e.sign(&pledge.Revocation{Type: pledge.TypeRevocation, KID: revoked.key.KeyID(), Reason: "perangkat hilang"}, e.Registrar)); err != nil {
		t.Fatal(err)
	}
	first, err := e.log.Append(ctx, e.sign(e.pledgeStatement(alice.p, "Pemilu 2024"), alice.key))
	if err != nil {
		t.Fatal(err)
	}
	stranger, strangerRaw := seedKey(t, "stranger")

	kid := alice.key.KeyID()
	hdr := pledgeHeader(kid)
	// payload is a valid pledge by bob (not yet pledged) as JSON, changed by mod.
	payload := func(mod func(*pledge.Pledge)) []byte {
		st := e.pledgeStatement(bob.p, "Pemilu 2024")
		if mod != nil {
			mod(st)
		}
		return mustJSON(t, st)
	}
	bobSigned := func(mod func(*pledge.Pledge)) []byte {
		return rawCompact(pledgeHeader(bob.key.KeyID()), payload(mod), bob.raw)
	}
	// editJSON replaces the first old in bob's payload.
	editJSON := func(old, new string) []byte {
		p := payload(nil)
		if !bytes.Contains(p, []byte(old)) {
			t.Fatalf("payload lacks %q", old)
		}
		return rawCompact(pledgeHeader(bob.key.KeyID()), bytes.Replace(p, []byte(old), []byte(new), 1), bob.raw)
	}
	good := e.sign(e.pledgeStatement(bob.p, "Pemilu 2024"), bob.key)
	parts := strings.Split(string(good), ".")
	hs256 := func() []byte {
		h := []byte(`{"alg":"HS256","kid":"` + bob.key.KeyID() + `","typ":"pakta-pledge+jws"}`)
		input := b64url.EncodeToString(h) + "." + b64url.EncodeToString(payload(nil))
		mac := hmac.New(sha256.New, bob.raw.Public().(ed25519.PublicKey))
		mac.Write([]byte(input))
		return []byte(input + "." + b64url.EncodeToString(mac.Sum(nil)))
	}()
	algNone := []byte(b64url.EncodeToString([]byte(`{"alg":"none","kid":"`+bob.key.KeyID()+`","typ":"pakta-pledge+jws"}`)) + "." + parts[1] + ".")
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	bigPayload := payload(func(p *pledge.Pledge) { p.Place = strings.Repeat("M", 17<<10) })
	jsonJWS := func(payloadB64, sigs string) []byte {
		return []byte(`{"payload":"` + payloadB64 + `","signatures":` + sigs + `}`)
	}
	oneSig := `[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]`

	tests := []struct {
		name        string
		contentType string
		body        []byte
		status      int
		want        string // in the error message
	}{
		{"garbage", MediaTypeJOSE, []byte("hello, world"), 400, "parts"},
		{"empty body", MediaTypeJOSE, nil, 400, "empty"},
		{"whitespace only", MediaTypeJOSE, []byte(" \r\n\t\n"), 400, "empty"},
		{"leading whitespace", MediaTypeJOSE, append([]byte(" "), good...), 400, "base64"},
		{"NUL bytes", MediaTypeJOSE, []byte("\x00\x00.\x00.\x00"), 400, ""},
		{"truncated JWS", MediaTypeJOSE, good[:len(good)-10], 400, ""},
		{"truncated to two parts", MediaTypeJOSE, []byte(parts[0] + "." + parts[1]), 400, "2 parts"},
		{"four parts", MediaTypeJOSE, append(bytes.Clone(good), ".e30"...), 400, "4 parts"},
		{"trailing data", MediaTypeJOSE, append(bytes.Clone(good), "garbage"...), 400, ""},
		{"bad signature", MediaTypeJOSE, []byte(parts[0] + "." + parts[1] + "." + b64url.EncodeToString(make([]byte, 64))), 400, ""},
		{"alg none", MediaTypeJOSE, algNone, 400, "none"},
		{"HS256 with the public key", MediaTypeJOSE, hs256, 400, "HS256"},
		{"unknown kid", MediaTypeJOSE, e.sign(e.pledgeStatement(person(9), "Pemilu 2024"), stranger), 403, "neither enrolled"},
		{"alice's kid, stranger's signature", MediaTypeJOSE, rawCompact(pledgeHeader(kid), payload(func(p *pledge.Pledge) { p.Signer = alice.p; p.Election = "Pilkada 2024" }), strangerRaw), 400, ""},
		{"someone else's key", MediaTypeJOSE, rawCompact(hdr, payload(nil), alice.raw), 403, "signer differs in id"},
		{"wrong typ", MediaTypeJOSE, rawCompact([]byte(`{"alg":"EdDSA","kid":"`+bob.key.KeyID()+`","typ":"pakta-enrollment+jws"}`), payload(nil), bob.raw), 400, "typ"},
		{"no typ", MediaTypeJOSE, rawCompact([]byte(`{"alg":"EdDSA","kid":"`+bob.key.KeyID()+`"}`), payload(nil), bob.raw), 400, "typ"},
		{"crit header", MediaTypeJOSE, rawCompact([]byte(`{"alg":"EdDSA","kid":"`+bob.key.KeyID()+`","typ":"pakta-pledge+jws","crit":["exp"]}`), payload(nil), bob.raw), 400, "crit"},
		{"invalid NIP", MediaTypeJOSE, bobSigned(func(p *pledge.Pledge) { p.Signer.ID = "19870315201001100" }), 400, ""},
		{"NIP with an impossible birth date", MediaTypeJOSE, bobSigned(func(p *pledge.Pledge) { p.Signer.ID = "198702302010011002" }), 400, ""},
		{"date is not the date of signed_at", MediaTypeJOSE, bobSigned(func(p *pledge.Pledge) { p.Date = "2023-11-26" }), 400, "date"},
		{"template hash mismatch", MediaTypeJOSE, bobSigned(func(p *pledge.Pledge) { p.Template.SHA256 = pledge.TextHash("another text") }), 400, ""},
		{"far-future signed_at", MediaTypeJOSE, bobSigned(func(p *pledge.Pledge) { p.SignedAt, p.Date = "2024-11-27T08:15:00+08:00", "2024-11-27" }), 400, "after the log recorded it"},
		{"signed_at too old", MediaTypeJOSE, bobSigned(func(p *pledge.Pledge) { p.SignedAt, p.Date = "2023-09-01T08:15:00+08:00", "2023-09-01" }), 400, "more than 3 days"},
		{"revoked key", MediaTypeJOSE, e.sign(e.pledgeStatement(revoked.p, "Pemilu 2024"), revoked.key), 403, "revoked"},
		{"enrollment by a non-registrar", MediaTypeJOSEJSON, func() []byte {
			jws, _ := pledge.Enroll(&pledge.Enrollment{Type: pledge.TypeEnrollment, Subject: person(8), JWK: stranger.Public(), ValidFrom: "2023-11-01T00:00:00+07:00"}, bob.key, stranger)
			return jws
		}(), 403, "registrar"},
		{"conflicting duplicate", MediaTypeJOSE, e.sign(e.pledgeStatement(alice.p, "Pemilu 2024"), alice.key), 409, "already pledged"},
		{"duplicate member", MediaTypeJOSE, editJSON(`"type":"pledge",`, `"type":"pledge","type":"pledge",`), 400, "duplicate"},
		{"unknown member", MediaTypeJOSE, editJSON(`"type":"pledge",`, `"type":"pledge","extra":1,`), 400, "unknown"},
		{"member name in another case", MediaTypeJOSE, editJSON(`"place":`, `"Place":`), 400, ""},
		{"huge number", MediaTypeJOSE, editJSON(`"type":"pledge",`, `"type":"pledge","supersedes":1e400,`), 400, ""},
		{"number past uint64", MediaTypeJOSE, editJSON(`"type":"pledge",`, `"type":"pledge","supersedes":18446744073709551616,`), 400, ""},
		{"negative supersedes", MediaTypeJOSE, editJSON(`"type":"pledge",`, `"type":"pledge","supersedes":-1,`), 400, ""},
		{"deeply nested member in the payload", MediaTypeJOSE, editJSON(`"type":"pledge",`, `"type":"pledge","x":`+deep(5000)+`,`), 400, ""},
		{"payload nested past the depth limit", MediaTypeJOSE, rawCompact(pledgeHeader(bob.key.KeyID()), []byte(deep(10001)), bob.raw), 413, "limit"}, // 20 KiB: the size limit comes first
		{"invalid UTF-8", MediaTypeJOSE, editJSON(`"Mamuju"`, "\"Mam\xffuju\""), 400, ""},
		{"trailing data in the payload", MediaTypeJOSE, rawCompact(pledgeHeader(bob.key.KeyID()), append(payload(nil), "{}"...), bob.raw), 400, ""},
		{"payload is not an object", MediaTypeJOSE, rawCompact(pledgeHeader(bob.key.KeyID()), []byte(`[1,2,3]`), bob.raw), 400, ""},
		{"padded base64url", MediaTypeJOSE, []byte(parts[0] + "=." + parts[1] + "." + parts[2]), 400, "base64"},
		{"zero-signature JSON JWS", MediaTypeJOSEJSON, jsonJWS(parts[1], `[]`), 400, "no signatures"},
		{"JSON JWS with an unprotected header", MediaTypeJOSEJSON, []byte(`{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","header":{"kid":"x"},"signature":"` + parts[2] + `"}]}`), 400, ""},
		{"JSON JWS with trailing data", MediaTypeJOSEJSON, append(jsonJWS(parts[1], oneSig), "{}"...), 400, ""},
		{"deeply nested JSON JWS", MediaTypeJOSEJSON, []byte(`{"payload":` + deep(25000) + `}`), 400, ""},
		{"compact JWS sent as JSON", MediaTypeJOSEJSON, good, 400, MediaTypeJOSE},
		{"JSON JWS sent as compact", MediaTypeJOSE, jsonJWS(parts[1], oneSig), 400, MediaTypeJOSEJSON},
		{"payload over 16 KiB", MediaTypeJOSE, rawCompact(pledgeHeader(bob.key.KeyID()), bigPayload, bob.raw), 413, "limit"},
		{"JWS over 60 KiB", MediaTypeJOSE, append(bytes.Clone(good), bytes.Repeat([]byte("A"), 62<<10-len(good))...), 413, "limit"},
		{"body over 64 KiB", MediaTypeJOSE, bytes.Repeat([]byte("A"), 64<<10+1), 413, "limit"},
		{"body of 1 MiB", MediaTypeJOSE, bytes.Repeat([]byte("A"), 1<<20), 413, "limit"},
		{"text/plain", "text/plain", good, 415, ""},
		{"application/json", "application/json", good, 415, ""},
		{"no Content-Type", "", good, 415, ""},
		{"application/jose+xml", "application/jose+xml", good, 415, ""},
		{"malformed Content-Type", "application/jose;;", good, 415, ""},
		{"multipart", "multipart/form-data; boundary=x", good, 415, ""},
	}
	if len(tests) < 20 {
		t.Fatal("too few cases")
	}
	signedBefore, _ := e.log.Checkpoint()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eb := errorOf(t, e.do("POST", "/v1/entries", tt.contentType, tt.body), tt.status)
			t.Logf("%d %s", tt.status, eb.Error)
			if !strings.Contains(eb.Error, tt.want) {
				t.Errorf("error %q does not contain %q", eb.Error, tt.want)
			}
			if tt.status == 409 {
				if idx, ok := eb.Detail["index"].(float64); !ok || uint64(idx) != first.Index {
					t.Errorf("409 detail %v, want index %d", eb.Detail, first.Index)
				}
			}
			if signed, _ := e.log.Checkpoint(); !bytes.Equal(signed, signedBefore) {
				t.Fatalf("the refused submission changed the tree")
			}
		})
	}
	if r := e.get("/checkpoint"); !bytes.Equal(r.body, signedBefore) {
		t.Fatal("the served checkpoint changed")
	}
	// The good one is still accepted afterwards.
	if r := e.submit(good); r.status != 201 {
		t.Fatalf("%d %s", r.status, r.body)
	}
}
