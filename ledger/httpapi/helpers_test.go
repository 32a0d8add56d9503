package httpapi

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
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

const testOrigin = "pakta.test/http"

// env is a real log in a temporary directory, served by a real HTTP server.
type env struct {
	*logtest.Fixture
	t   testing.TB
	dir string
	cfg ledger.Config
	log *ledger.Log
	h   *Handler
	srv *httptest.Server

	mu        sync.Mutex
	published map[string]bool // elections whose template is logged
}

// seedPrefix makes httpapi's deterministic keys. It is not the ledger
// tests', so that the keys stay the ones these tests have always used.
const seedPrefix = "pakta httpapi test "

func newEnv(t testing.TB, mod func(*ledger.Config), opts Options) *env {
	t.Helper()
	f := logtest.New(t, testOrigin, seedPrefix)
	e := &env{Fixture: f, t: t, dir: t.TempDir(), published: map[string]bool{}}
	e.cfg = ledger.Config{Signer: f.Signer, Policy: f.Policy, Clock: func() time.Time { return logtest.Morning }}
	if mod != nil {
		mod(&e.cfg)
	}
	e.log = e.openLog()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	e.h = New(e.log, opts)
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(func() {
		e.srv.Close()
		e.log.Close()
	})
	return e
}

func (e *env) openLog() *ledger.Log {
	e.t.Helper()
	l, err := ledger.Open(context.Background(), e.dir, e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

// testLogger logs to the test's output at Debug.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Logf("%s", bytes.TrimRight(b, "\n"))
	return len(b), nil
}

// seedKey is a deterministic Ed25519 key, as a pakta key and a raw one.
func seedKey(t testing.TB, name string) (*pledge.PrivateKey, ed25519.PrivateKey) {
	t.Helper()
	return logtest.SeedKey(t, seedPrefix+name)
}

// person, enrollment, pledgeStatement and sign keep the tests' call sites
// as they were; logtest has the code.

// person is a PNS with a distinct, valid NIP for each n < 1998.
func person(n int) pledge.Person { return logtest.Person(n) }

// enrollment is subject's enrollment of key, countersigned by the registrar.
func (e *env) enrollment(subject pledge.Person, key *pledge.PrivateKey) []byte {
	e.t.Helper()
	return e.Enrollment(subject, key, e.Registrar)
}

// employee is an enrolled person with their key.
type employee struct {
	p   pledge.Person
	key *pledge.PrivateKey
	raw ed25519.PrivateKey
}

// enroll enrolls a new key for person(n) through the library.
func (e *env) enroll(n int) employee {
	e.t.Helper()
	_, raw, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	key, err := pledge.NewPrivateKey(raw, "")
	if err != nil {
		e.t.Fatal(err)
	}
	p := person(n)
	if _, err := e.log.Append(context.Background(), e.enrollment(p, key)); err != nil {
		e.t.Fatal(err)
	}
	return employee{p: p, key: key, raw: raw}
}

// pledgeStatement is signer's pledge for election, whose template it
// publishes first if no test step has yet.
func (e *env) pledgeStatement(signer pledge.Person, election string) *pledge.Pledge {
	e.t.Helper()
	e.publish(election)
	return e.PledgeStatement(signer, election)
}

// publish logs the fixture's template for election, once.
func (e *env) publish(election string) {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.published[election] {
		return
	}
	if _, err := e.log.Append(context.Background(), e.Template(election)); err != nil {
		e.t.Fatal(err)
	}
	e.published[election] = true
}

func (e *env) sign(st pledge.Statement, key *pledge.PrivateKey) []byte {
	e.t.Helper()
	return e.Sign(st, key)
}

var b64url = base64.RawURLEncoding

// rawCompact signs any header and payload bytes with an Ed25519 key, with
// none of pledge.Sign's checks: for crafting bad submissions.
func rawCompact(header, payload []byte, key ed25519.PrivateKey) []byte {
	input := b64url.EncodeToString(header) + "." + b64url.EncodeToString(payload)
	return []byte(input + "." + b64url.EncodeToString(ed25519.Sign(key, []byte(input))))
}

func pledgeHeader(kid string) []byte {
	return []byte(`{"alg":"EdDSA","kid":"` + kid + `","typ":"pakta-pledge+jws"}`)
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request. A GET of a restricted read without an Authorization
// header in header is signed by the policy's supervisor, who reads
// everything, so that tests of other things read as before; an
// Authorization of "" sends none.
func (e *env) do(method, path, contentType string, body []byte, header ...string) response {
	e.t.Helper()
	if method == "GET" && isRestricted(path) && !slicesContains(header, "Authorization") {
		header = append(header, "Authorization", "PaktaSig "+e.readToken(e.Supervisor, path))
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] != "" {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *env) get(path string, header ...string) response {
	e.t.Helper()
	return e.do("GET", path, "", nil, header...)
}

func (e *env) submit(jws []byte) response {
	e.t.Helper()
	ct := MediaTypeJOSE
	if len(jws) > 0 && jws[0] == '{' {
		ct = MediaTypeJOSEJSON
	}
	return e.do("POST", "/v1/entries", ct, jws)
}

// errorOf checks that r is a JSON error body with the status and returns it.
func errorOf(t testing.TB, r response, status int) errorJSON {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error Content-Type %q: %s", ct, r.body)
	}
	var eb errorJSON
	if err := json.Unmarshal(r.body, &eb, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	if eb.Error == "" {
		t.Fatalf("error body without a message: %s", r.body)
	}
	return eb
}

type errorJSON struct {
	Error  string         `json:"error"`
	Detail map[string]any `json:"detail"`
}

// entryIndex is the index in a bundle's tlog-proof.
func bundleIndex(t testing.TB, bundle []byte) (uint64, []byte) {
	t.Helper()
	b, err := verify.ParseBundle(bundle)
	if err != nil {
		t.Fatalf("bundle %q: %v", bundle, err)
	}
	p, err := verify.ParseProof([]byte(b.Proof))
	if err != nil {
		t.Fatal(err)
	}
	return p.Index, b.Entry
}

// jwsOf is the JWS logged in an entry.
func jwsOf(t testing.TB, entry []byte) []byte {
	t.Helper()
	en, err := verify.ParseEntry(entry)
	if err != nil {
		t.Fatal(err)
	}
	return en.JWS
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// isRestricted reports whether GET path is a restricted read.
func isRestricted(path string) bool {
	for _, p := range []string{"/tile/entries/", "/v1/entries/", "/v1/pledges", "/v1/people/", "/v1/me"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

func slicesContains(header []string, name string) bool {
	for i := 0; i < len(header); i += 2 {
		if header[i] == name {
			return true
		}
	}
	return false
}

// readToken signs a read token for GET pathQuery with key, at the log's
// clock.
func (e *env) readToken(key *pledge.PrivateKey, pathQuery string) string {
	e.t.Helper()
	path, q, _ := strings.Cut(pathQuery, "?")
	c, err := pledge.NewReadClaims(pledge.ReadTarget{Aud: testOrigin, Method: "GET", Path: path, RawQuery: q}, e.cfg.Clock(), time.Minute, rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := pledge.SignRead(c, key)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(tok)
}
