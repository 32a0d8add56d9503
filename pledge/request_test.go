package pledge

import (
	"bytes"
	"crypto/rand"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRequestRoundTrip(t *testing.T) {
	reg, emp := seedKey(t, "registrar"), seedKey(t, "employee")
	e := testEnrollment(t, emp)
	req, err := SignRequest(e, emp)
	if err != nil {
		t.Fatal(err)
	}
	v, err := VerifyRequest(req, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Signers) != 1 || !v.Signers[0].Key.Equal(emp.Public()) || v.Headers[0].Type != "pakta-enrollment+jws" {
		t.Fatalf("signers %+v headers %+v", v.Signers, v.Headers)
	}
	// The request alone is not a logged enrollment: Verify still wants a
	// registrar.
	if _, err := Verify(req, VerifyOptions{Keys: NewKeySet(reg.Public())}); err == nil || !strings.Contains(err.Error(), "registrar must sign") {
		t.Fatalf("Verify of a bare request: %v, want a registrar's signature required", err)
	}
	// Countersigned: the employee's signature first, then the registrar's,
	// over the same payload bytes; and now it verifies as an enrollment.
	full, err := Countersign(req, reg)
	if err != nil {
		t.Fatal(err)
	}
	fv, err := Verify(full, VerifyOptions{Keys: NewKeySet(reg.Public())})
	if err != nil {
		t.Fatal(err)
	}
	if len(fv.Signers) != 2 || !fv.Signers[0].Key.Equal(emp.Public()) || !fv.Signers[1].Key.Equal(reg.Public()) {
		t.Fatalf("countersigned signers: %+v", fv.Signers)
	}
	if !bytes.Equal(fv.Payload, v.Payload) {
		t.Fatal("countersigning changed the payload")
	}
	// A countersigned enrollment is not a request.
	if _, err := VerifyRequest(full, VerifyOptions{}); err == nil || !strings.Contains(err.Error(), "compact JWS with one signature") {
		t.Fatalf("VerifyRequest of a countersigned enrollment: %v", err)
	}
}

func TestRequestRefusals(t *testing.T) {
	emp, other := seedKey(t, "employee"), seedKey(t, "other")
	e := testEnrollment(t, emp)
	good, err := SignRequest(e, emp)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(good), ".")
	byOther, _ := Sign(e, other)
	pl, _ := Sign(testPledge(t), emp)
	for _, tc := range []struct {
		name string
		jws  []byte
		opts VerifyOptions
		want string
	}{
		{"signed by another key", byOther, VerifyOptions{}, "not by the enrolled key"},
		{"bad signature", []byte(parts[0] + "." + parts[1] + "." + flipB64(parts[2])), VerifyOptions{}, "not valid"},
		{"wrong typ", craft(`{"alg":"EdDSA","kid":"`+emp.KeyID()+`","typ":"pakta-pledge+jws"}`, mustB64Decode(t, parts[1]), edPriv(emp)), VerifyOptions{}, "typ"},
		{"no typ", craft(`{"alg":"EdDSA","kid":"`+emp.KeyID()+`"}`, mustB64Decode(t, parts[1]), edPriv(emp)), VerifyOptions{}, "typ"},
		{"alg not allowed", good, VerifyOptions{Algorithms: []string{ES256}}, "not allowed"},
		{"alg none", []byte(b64(`{"alg":"none","kid":"`+emp.KeyID()+`","typ":"pakta-enrollment+jws"}`) + "." + parts[1] + "."), VerifyOptions{}, "not accepted"},
		{"a pledge", pl, VerifyOptions{}, "holds an enrollment, not a pledge"},
		{"JSON serialization", mustSignJSON(t, e, emp), VerifyOptions{}, "compact JWS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyRequest(tc.jws, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
	if _, err := SignRequest(e, other); err == nil {
		t.Fatal("SignRequest with a key that is not the enrolled one succeeded")
	}
}

func mustB64Decode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := rawURL.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func b64(s string) string { return rawURL.EncodeToString([]byte(s)) }

func mustSignJSON(t *testing.T, st Statement, keys ...*PrivateKey) []byte {
	t.Helper()
	b, err := SignJSON(st, keys...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadToken(t *testing.T) {
	key, other := seedKey(t, "registrar"), seedKey(t, "other")
	now := time.Unix(1_800_000_000, 0)
	target := ReadTarget{Aud: "pakta.test/log", Method: "GET", Path: "/v1/enrollment-requests", RawQuery: "limit=10"}
	c, err := NewReadClaims(target, now, 0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := SignRead(c, key)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := ParseReadToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Verify(key.Public(), nil); err != nil {
		t.Fatal(err)
	}
	if err := rt.Check(target, now); err != nil {
		t.Fatal(err)
	}
	if rt.Header.Type != "pakta-read+jws" || rt.Header.KeyID != key.KeyID() || len(rt.Claims.Nonce) != 32 {
		t.Fatalf("token %+v", rt)
	}
	if err := rt.Verify(other.Public(), nil); err == nil {
		t.Error("verified with another key")
	}
	if err := rt.Verify(key.Public(), []string{ES256}); err == nil {
		t.Error("verified with EdDSA not allowed")
	}
	for _, tc := range []struct {
		name   string
		target ReadTarget
		at     time.Time
		want   string
	}{
		{"other log", ReadTarget{"pakta.test/other", "GET", target.Path, target.RawQuery}, now, "for log"},
		{"other method", ReadTarget{target.Aud, "POST", target.Path, target.RawQuery}, now, "method"},
		{"other path", ReadTarget{target.Aud, "GET", "/v1/enrollment-requests/123-456", target.RawQuery}, now, "path"},
		{"other query", ReadTarget{target.Aud, "GET", target.Path, "limit=11"}, now, "query"},
		{"expired", target, now.Add(time.Minute), "expired"},
		{"issued in the future", target, now.Add(-6 * time.Minute), "after the server's time"},
	} {
		if err := rt.Check(tc.target, tc.at); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// Within the skew, a token issued "in the future" is fine.
	if err := rt.Check(target, now.Add(-4*time.Minute)); err != nil {
		t.Errorf("iat 4 minutes ahead: %v", err)
	}

	// Malformed tokens.
	parts := strings.Split(string(tok), ".")
	payload := mustB64Decode(t, parts[1])
	hdr := `{"alg":"EdDSA","kid":"` + key.KeyID() + `","typ":"pakta-read+jws"}`
	withPayload := func(old, new string) []byte {
		return craft(hdr, bytes.Replace(payload, []byte(old), []byte(new), 1), edPriv(key))
	}
	long := c.EXP - c.IAT + 241 // 301 seconds
	for _, tc := range []struct {
		name string
		tok  []byte
		want string
	}{
		{"two parts", []byte(parts[0] + "." + parts[1]), "compact JWS"},
		{"wrong typ", craft(`{"alg":"EdDSA","kid":"`+key.KeyID()+`","typ":"pakta-pledge+jws"}`, payload, edPriv(key)), "typ"},
		{"unknown member", withPayload(`"type":"read"`, `"type":"read","x":1`), "unknown"},
		{"duplicate member", withPayload(`"type":"read"`, `"type":"read","type":"read"`), "duplicate"},
		{"short nonce", withPayload(c.Nonce, "abc"), "nonce"},
		{"nonce with a slash", withPayload(c.Nonce, strings.Repeat("a/", 10)), "nonce"},
		{"lifetime over 300s", withPayload(`"exp":`+itoa(c.EXP), `"exp":`+itoa(c.IAT+long)), "more than the 300"},
		{"exp before iat", withPayload(`"exp":`+itoa(c.EXP), `"exp":`+itoa(c.IAT-1)), "not after iat"},
		{"bad query hash", withPayload(c.QuerySHA256, strings.ToUpper(c.QuerySHA256)), "query_sha256"},
		{"other type", withPayload(`"type":"read"`, `"type":"pledge"`), "type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseReadToken(tc.tok)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
