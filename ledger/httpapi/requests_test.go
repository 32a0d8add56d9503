package httpapi

import (
	"bytes"
	"crypto/rand"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/ledger/internal/logtest"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// testClock is a settable clock for the log.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// requestEnv is a served log whose policy has, besides the fixture's
// registrar (for agency 7601 here), a registrar for agency 7601 (every person's), one for
// 7602, a retired one for 7601 and an auditor.
type requestEnv struct {
	*env
	clock                       *testClock
	mamuju, other, retired, aud *pledge.PrivateKey
}

func newRequestEnv(t *testing.T, maxPending int) *requestEnv {
	t.Helper()
	re := &requestEnv{clock: &testClock{now: logtest.Morning}}
	re.mamuju, _ = seedKey(t, "mamuju")
	re.other, _ = seedKey(t, "other")
	re.retired, _ = seedKey(t, "retired")
	re.aud, _ = seedKey(t, "auditor")
	re.env = newEnv(t, func(c *ledger.Config) {
		// The fixture's registrar acts for 7601 only here, so that some
		// agency has no registrar.
		fixture := *c.Policy.Registrars[0]
		fixture.Agencies = []string{"7601"}
		regs := append([]*verify.Registrar{&fixture},
			&verify.Registrar{Name: "BKPSDM Mamuju", Agencies: []string{"7601"}, JWK: re.mamuju.Public()},
			&verify.Registrar{Name: "BKPSDM Other", Agencies: []string{"7602"}, JWK: re.other.Public()},
			&verify.Registrar{Name: "Retired", Agencies: []string{"7601"}, JWK: re.retired.Public(), Until: "2023-01-01T00:00:00+08:00"},
		)
		p, err := verify.NewPolicy(c.Policy.Origin, c.Policy.LogKey, regs)
		if err != nil {
			t.Fatal(err)
		}
		p.Readers = []*verify.Reader{{Name: "Inspektorat", Role: verify.RoleAuditor, JWK: re.aud.Public()}}
		b, _ := p.Marshal()
		if p, err = verify.ParsePolicy(b); err != nil {
			t.Fatal(err)
		}
		c.Policy = p
		c.Clock = re.clock.Now
		c.Requests.MaxPending = maxPending
	}, Options{})
	return re
}

func newTestKey(t testing.TB) *pledge.PrivateKey {
	t.Helper()
	k, err := pledge.GenerateKey("", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// request is person n's request for key, signed an hour before the clock.
func (re *requestEnv) request(n int, key *pledge.PrivateKey) []byte {
	return re.Request(person(n), key, re.clock.Now().Add(-time.Hour))
}

func (re *requestEnv) post(jws []byte) response {
	re.t.Helper()
	return re.do("POST", "/v1/enrollment-requests", MediaTypeJOSE, jws)
}

type submitted struct {
	Code    string `json:"code"`
	KID     string `json:"kid"`
	Expires string `json:"expires"`
}

func (re *requestEnv) created(jws []byte, status int) submitted {
	re.t.Helper()
	r := re.post(jws)
	if r.status != status {
		re.t.Fatalf("POST request: %d, want %d: %s", r.status, status, r.body)
	}
	var s submitted
	if err := json.Unmarshal(r.body, &s, json.RejectUnknownMembers(true)); err != nil {
		re.t.Fatalf("answer %s: %v", r.body, err)
	}
	return s
}

// token signs a read token for GET pathQuery with key, issued at iat.
func (re *requestEnv) token(key *pledge.PrivateKey, aud, pathQuery string, iat time.Time) string {
	re.t.Helper()
	path, q, _ := strings.Cut(pathQuery, "?")
	c, err := pledge.NewReadClaims(pledge.ReadTarget{Aud: aud, Method: "GET", Path: path, RawQuery: q}, iat, time.Minute, rand.Reader)
	if err != nil {
		re.t.Fatal(err)
	}
	tok, err := pledge.SignRead(c, key)
	if err != nil {
		re.t.Fatal(err)
	}
	return string(tok)
}

func (re *requestEnv) read(key *pledge.PrivateKey, pathQuery string) response {
	re.t.Helper()
	return re.get(pathQuery, "Authorization", "PaktaSig "+re.token(key, testOrigin, pathQuery, re.clock.Now()))
}

func (re *requestEnv) status(code string) string {
	re.t.Helper()
	r := re.get("/v1/enrollment-requests/" + code)
	if r.status != 200 {
		re.t.Fatalf("status of %s: %d %s", code, r.status, r.body)
	}
	var s struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(r.body, &s, json.RejectUnknownMembers(true)); err != nil {
		re.t.Fatal(err)
	}
	return s.Status
}

func TestRequestSubmitRefusals(t *testing.T) {
	re := newRequestEnv(t, 3)
	key, raw := seedKey(t, "employee 1")
	good := re.request(1, key)
	s := re.created(good, 201)
	if len(s.Code) != 7 || s.Code[3] != '-' || s.KID != key.KeyID() || s.Expires != "2023-11-28T01:00:00Z" {
		t.Fatalf("created %+v", s)
	}
	if again := re.created(good, 200); again != s {
		t.Fatalf("the same request again: %+v, want %+v", again, s)
	}
	parts := strings.Split(string(good), ".")
	payload, _ := b64url.DecodeString(parts[1])
	stranger := newTestKey(t)
	enrolled := re.enroll(5)

	stale := re.Request(person(2), newTestKey(t), re.clock.Now().Add(-25*time.Hour))
	outside := person(2)
	outside.Agency.Code = "9999"
	for _, tc := range []struct {
		name        string
		contentType string
		body        []byte
		status      int
		want        string
	}{
		{"JSON serialization", MediaTypeJOSEJSON, []byte(`{}`), 415, "application/jose"},
		{"no content type", "", good, 415, "application/jose"},
		{"oversized", MediaTypeJOSE, bytes.Repeat([]byte("a"), DefaultMaxBodyBytes+1), 413, "limit"},
		{"empty", MediaTypeJOSE, nil, 400, "empty"},
		{"mis-signed", MediaTypeJOSE, []byte(parts[0] + "." + parts[1] + "." + b64url.EncodeToString(make([]byte, 64))), 400, "not valid"},
		{"signed by another key", MediaTypeJOSE, re.sign(logtest.RequestStatement(person(1), key, re.clock.Now()), stranger), 400, "not by the enrolled key"},
		{"wrong typ", MediaTypeJOSE, rawCompact([]byte(`{"alg":"EdDSA","kid":"`+key.KeyID()+`","typ":"pakta-pledge+jws"}`), payload, raw), 400, "typ"},
		{"wrong alg", MediaTypeJOSE, []byte(b64url.EncodeToString([]byte(`{"alg":"HS256","kid":"`+key.KeyID()+`","typ":"pakta-enrollment+jws"}`)) + "." + parts[1] + "." + parts[2]), 400, "HS256"},
		{"countersigned already", MediaTypeJOSE, re.enrollment(person(1), key), 400, "JSON serialization"},
		{"expired", MediaTypeJOSE, stale, 400, "expired"},
		{"duplicate key, another person", MediaTypeJOSE, re.request(2, key), 409, "one key belongs to one person"},
		{"key already enrolled", MediaTypeJOSE, re.request(5, enrolled.key), 409, "already enrolled"},
		{"unknown subject agency", MediaTypeJOSE, re.Request(outside, newTestKey(t), re.clock.Now()), 403, "unknown subject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := re.do("POST", "/v1/enrollment-requests", tc.contentType, tc.body)
			eb := errorOf(t, r, tc.status)
			if !contains(eb.Error, tc.want) {
				t.Fatalf("error %q, want it to say %q", eb.Error, tc.want)
			}
		})
	}

	// The cap: two more fit (three in all), the fourth is 429.
	re.created(re.request(3, newTestKey(t)), 201)
	re.created(re.request(4, newTestKey(t)), 201)
	r := re.post(re.request(6, newTestKey(t)))
	errorOf(t, r, 429)
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// A pending key still gets its request.
	re.created(good, 200)

	// A day later the requests have expired; the first one, sent again,
	// is a replay (it was signed with a clock 4 minutes ahead, so it is
	// not stale yet).
	re.clock.Set(logtest.Morning.Add(ledger.RequestTTL))
	if got := re.status(s.Code); got != "expired" {
		t.Fatalf("a day later: %s", got)
	}
	early := re.Request(person(7), newTestKey(t), re.clock.Now().Add(4*time.Minute))
	re.created(early, 201)
	re.clock.Set(re.clock.Now().Add(ledger.RequestTTL))
	eb := errorOf(t, re.post(early), 409)
	if !contains(eb.Error, "sign a new request") {
		t.Fatalf("replayed request: %q", eb.Error)
	}
}

type requestContent struct {
	Code    string `json:"code"`
	KID     string `json:"kid"`
	JWS     string `json:"jws"`
	Expires string `json:"expires"`
}

type requestList struct {
	Requests   []requestContent `json:"requests"`
	NextCursor string           `json:"next_cursor"`
}

func TestRequestReads(t *testing.T) {
	re := newRequestEnv(t, 0)
	key := newTestKey(t)
	req := re.request(1, key)
	s := re.created(req, 201)
	path := "/v1/enrollment-requests/" + s.Code + "?full=1"

	// The status is public.
	if got := re.status(s.Code); got != "pending" {
		t.Fatalf("status %s", got)
	}
	errorOf(t, re.get("/v1/enrollment-requests/000-000"), 404)
	errorOf(t, re.get("/v1/enrollment-requests/12-3456"), 400)
	errorOf(t, re.get("/v1/enrollment-requests/"+s.Code+"?full=yes"), 400)

	// The content is the registrar's.
	r := re.read(re.mamuju, path)
	if r.status != 200 {
		t.Fatalf("registrar's read: %d %s", r.status, r.body)
	}
	var c requestContent
	if err := json.Unmarshal(r.body, &c, json.RejectUnknownMembers(true)); err != nil {
		t.Fatal(err)
	}
	if c.Code != s.Code || c.KID != key.KeyID() || c.JWS != string(req) || c.Expires != s.Expires {
		t.Fatalf("content %+v", c)
	}
	if r := re.read(re.aud, path); r.status != 200 {
		t.Fatalf("auditor's read: %d %s", r.status, r.body)
	}

	now := re.clock.Now()
	good := re.token(re.mamuju, testOrigin, path, now)
	parts := strings.Split(good, ".")
	badSig := parts[0] + "." + parts[1] + "." + b64url.EncodeToString(make([]byte, 64))
	stranger, _ := seedKey(t, "stranger")
	for _, tc := range []struct {
		name, auth string
		status     int
		want       string
	}{
		{"no token", "", 401, "restricted read"},
		{"other scheme", "Bearer " + good, 401, "PaktaSig"},
		{"malformed", "PaktaSig not.a-token", 401, "malformed"},
		{"badly signed", "PaktaSig " + badSig, 401, "not valid"},
		{"expired", "PaktaSig " + re.token(re.mamuju, testOrigin, path, now.Add(-2*time.Minute)), 401, "expired"},
		{"issued in the future", "PaktaSig " + re.token(re.mamuju, testOrigin, path, now.Add(6*time.Minute)), 401, "after the server's time"},
		{"for another log", "PaktaSig " + re.token(re.mamuju, "pakta.test/other", path, now), 401, "for log"},
		{"for another path", "PaktaSig " + re.token(re.mamuju, testOrigin, "/v1/enrollment-requests/"+s.Code, now), 401, "query"},
		{"for another code", "PaktaSig " + re.token(re.mamuju, testOrigin, "/v1/enrollment-requests/000-000?full=1", now), 401, "path"},
		{"unknown key", "PaktaSig " + re.token(stranger, testOrigin, path, now), 401, "not a reader"},
		{"the employee's key", "PaktaSig " + re.token(key, testOrigin, path, now), 401, "not a reader"},
		{"another agency's registrar", "PaktaSig " + re.token(re.other, testOrigin, path, now), 403, "does not act for agency"},
		{"a retired registrar", "PaktaSig " + re.token(re.retired, testOrigin, path, now), 403, "retired"},
		{"good", "PaktaSig " + good, 200, ""},
		{"replayed", "PaktaSig " + good, 401, "replayed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.auth != "" {
				hdr = []string{"Authorization", tc.auth}
			}
			r := re.get(path, hdr...)
			if tc.status == 200 {
				if r.status != 200 {
					t.Fatalf("%d %s", r.status, r.body)
				}
				return
			}
			eb := errorOf(t, r, tc.status)
			if !contains(eb.Error, tc.want) {
				t.Fatalf("error %q, want it to say %q", eb.Error, tc.want)
			}
			if tc.status == 401 && r.header.Get("WWW-Authenticate") != "PaktaSig" {
				t.Fatalf("401 without WWW-Authenticate: PaktaSig")
			}
		})
	}

	// The list: the registrar's agencies only, a page at a time.
	for i := 2; i <= 5; i++ {
		re.created(re.request(i, newTestKey(t)), 201)
	}
	var codes []string
	cursor := ""
	for pages := 0; ; pages++ {
		pq := "/v1/enrollment-requests?limit=2"
		if cursor != "" {
			pq += "&cursor=" + cursor
		}
		r := re.read(re.mamuju, pq)
		if r.status != 200 {
			t.Fatalf("list: %d %s", r.status, r.body)
		}
		var l requestList
		if err := json.Unmarshal(r.body, &l, json.RejectUnknownMembers(true)); err != nil {
			t.Fatal(err)
		}
		for _, c := range l.Requests {
			if _, err := pledge.VerifyRequest([]byte(c.JWS), pledge.VerifyOptions{}); err != nil {
				t.Fatalf("listed request %s: %v", c.Code, err)
			}
			codes = append(codes, c.Code)
		}
		if l.NextCursor == "" {
			break
		}
		if len(l.Requests) != 2 || pages > 3 {
			t.Fatalf("page of %d with a cursor", len(l.Requests))
		}
		cursor = l.NextCursor
	}
	if len(codes) != 5 {
		t.Fatalf("listed %v, want 5 requests", codes)
	}
	if r := re.read(re.other, "/v1/enrollment-requests"); r.status != 200 || !bytes.Equal(bytes.TrimSpace(r.body), []byte(`{"requests":[]}`)) {
		t.Fatalf("another agency's registrar lists: %d %s", r.status, r.body)
	}
	errorOf(t, re.get("/v1/enrollment-requests"), 401)
	errorOf(t, re.read(re.mamuju, "/v1/enrollment-requests?limit=0"), 400)
	errorOf(t, re.read(re.mamuju, "/v1/enrollment-requests?limit=1001"), 400)
	errorOf(t, re.read(re.mamuju, "/v1/enrollment-requests?cursor=xyz"), 400)
	errorOf(t, re.do("DELETE", "/v1/enrollment-requests", "", nil), 405)

	// Approval: the registrar countersigns what it read and submits it as
	// an entry; the request reads approved.
	full, err := pledge.Countersign([]byte(c.JWS), re.mamuju)
	if err != nil {
		t.Fatal(err)
	}
	if r := re.submit(full); r.status != 201 {
		t.Fatalf("submitting the countersigned request: %d %s", r.status, r.body)
	}
	if got := re.status(s.Code); got != "approved" {
		t.Fatalf("after approval: %s", got)
	}
	errorOf(t, re.read(re.mamuju, path), 404)

	// Pending requests and used nonces survive a restart.
	re.srv.Close()
	if err := re.log.Close(); err != nil {
		t.Fatal(err)
	}
	re.log = re.openLog()
	re.h = New(re.log, Options{Logger: testLogger(t)})
	re.srv = httptest.NewServer(re.h)
	for _, code := range codes {
		want := "pending"
		if code == s.Code {
			want = "approved"
		}
		if got := re.status(code); got != want {
			t.Fatalf("%s after a restart: %s, want %s", code, got, want)
		}
	}
	errorOf(t, re.get(path, "Authorization", "PaktaSig "+good), 401)
}
