package httpapi

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/ledger/internal/logtest"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// checkpoint fetches and verifies /checkpoint.
func (e *env) checkpoint() verify.Checkpoint {
	e.t.Helper()
	r := e.get("/checkpoint")
	if r.status != http.StatusOK {
		e.t.Fatalf("GET /checkpoint: %d %s", r.status, r.body)
	}
	cp, _, err := verify.OpenCheckpoint(r.body, testOrigin, e.Policy.Verifier())
	if err != nil {
		e.t.Fatal(err)
	}
	return cp
}

func TestCheckpointOfNewLog(t *testing.T) {
	e := newEnv(t, nil, Options{})
	r := e.get("/checkpoint")
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-cache" {
		t.Fatalf("Cache-Control %q", cc)
	}
	v, err := note.NewVerifier(e.VKey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(r.body, note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	if want := testOrigin + "\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"; n.Text != want {
		t.Fatalf("checkpoint %q, want %q", n.Text, want)
	}
	// HEAD is served too, without a body.
	if r := e.do("HEAD", "/checkpoint", "", nil); r.status != 200 || len(r.body) != 0 {
		t.Fatalf("HEAD: %d %q", r.status, r.body)
	}
}

func TestSubmitGetAndDuplicate(t *testing.T) {
	e := newEnv(t, nil, Options{})
	p := person(1)
	_, raw, _ := ed25519.GenerateKey(rand.Reader)
	key, _ := pledge.NewPrivateKey(raw, "")

	// An enrollment is a JWS JSON serialization (two signatures).
	r := e.do("POST", "/v1/entries", "application/jose+json; charset=utf-8", e.enrollment(p, key))
	if r.status != http.StatusCreated {
		t.Fatalf("enrollment: %d %s", r.status, r.body)
	}
	if i, _ := bundleIndex(t, r.body); i != 0 || r.header.Get("Location") != "/v1/entries/0" {
		t.Fatalf("enrollment at %d, Location %q", i, r.header.Get("Location"))
	}

	// A pledge, compact, with the newline an editor adds.
	jws := e.sign(e.pledgeStatement(p, "Pemilu 2024"), key)
	r = e.do("POST", "/v1/entries", "Application/JOSE", append(bytes.Clone(jws), "\r\n"...))
	if r.status != http.StatusCreated {
		t.Fatalf("pledge: %d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	index, entry := bundleIndex(t, r.body)
	if index != 2 || !bytes.Equal(jwsOf(t, entry), jws) { // after the template
		t.Fatalf("pledge at %d, logged %q", index, jwsOf(t, entry))
	}
	report, err := verify.VerifyBytes(r.body, e.Policy, &verify.Claim{Scheme: p.Scheme, ID: p.ID, Date: "2023-11-27"})
	if err != nil || !report.Passed() {
		t.Fatalf("the 201 bundle does not verify: %v\n%s", err, report.Text())
	}
	created := r.body

	// The same JWS again: 200 with the same bundle.
	r = e.submit(jws)
	if r.status != http.StatusOK || !bytes.Equal(r.body, created) {
		t.Fatalf("duplicate: %d %s", r.status, r.body)
	}
	// GET by index: the same bundle.
	r = e.get("/v1/entries/2")
	if r.status != http.StatusOK || !bytes.Equal(r.body, created) {
		t.Fatalf("GET /v1/entries/2: %d %s", r.status, r.body)
	}
	if _, err := verify.ParseBundle(r.body); err != nil {
		t.Fatalf("a served bundle with its trailing newline does not parse: %v", err)
	}
	if cp := e.checkpoint(); cp.Size != 3 {
		t.Fatalf("size %d", cp.Size)
	}

	for _, tt := range []struct {
		index  string
		status int
	}{
		{"3", 404}, {"18446744073709551615", 404},
		{"01", 400}, {"00", 400}, {"+1", 400}, {"-1", 400}, {"1%20", 400}, {"%201", 400}, {"1.0", 400},
		{"1e3", 400}, {"0x1", 400}, {"18446744073709551616", 400}, {"99999999999999999999999", 400}, {"%EF%BC%91", 400},
	} {
		errorOf(t, e.get("/v1/entries/"+tt.index), tt.status)
	}
}

func TestPledgesQuery(t *testing.T) {
	e := newEnv(t, nil, Options{})
	alice, bob := e.enroll(10), e.enroll(11)
	var aliceIndex uint64
	for _, who := range []employee{alice, bob} {
		r := e.submit(e.sign(e.pledgeStatement(who.p, "Pemilu 2024"), who.key))
		if r.status != http.StatusCreated {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if who.p == alice.p {
			aliceIndex, _ = bundleIndex(t, r.body)
		}
	}
	want := e.get(fmt.Sprintf("/v1/entries/%d", aliceIndex)).body
	var got struct {
		Bundles []jsontext.Value `json:"bundles"`
	}
	r := e.get("/v1/pledges?nip=" + alice.p.ID + "&date=2023-11-27")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, &got, json.RejectUnknownMembers(true)); err != nil || len(got.Bundles) != 1 {
		t.Fatalf("%s: %v", r.body, err)
	}
	if !bytes.Equal(append([]byte(got.Bundles[0]), '\n'), want) {
		t.Fatalf("the pledges bundle is not the bundle of entry %d", aliceIndex)
	}
	r = e.get("/v1/pledges?scheme=nip&id=" + bob.p.ID + "&date=2023-11-27")
	if err := json.Unmarshal(r.body, &got); r.status != 200 || err != nil || len(got.Bundles) != 1 {
		t.Fatalf("by scheme and id: %d %s", r.status, r.body)
	}
	// No pledge that day: an empty list, not null.
	r = e.get("/v1/pledges?nip=" + alice.p.ID + "&date=2023-11-28")
	if r.status != 200 || string(r.body) != "{\"bundles\":[]}\n" {
		t.Fatalf("no pledges: %d %q", r.status, r.body)
	}
	for _, q := range []string{
		"nip=123&date=2023-11-27",                                     // not 18 digits
		"nip=198713452010011001&date=2023-11-27",                      // no such birth date
		"nip=198703152010013001&date=2023-11-27",                      // gender digit 3
		"nip=" + alice.p.ID + "&date=2023-13-01",                      // no such month
		"nip=" + alice.p.ID + "&date=27-11-2023",                      // wrong layout
		"nip=" + alice.p.ID,                                           // no date
		"date=2023-11-27",                                             // no person
		"scheme=nip&date=2023-11-27",                                  // scheme without id
		"scheme=passport&id=X1&date=2023-11-27",                       // unknown scheme
		"nip=" + alice.p.ID + "&scheme=nip&date=2023-11-27",           // both
		"nip=" + alice.p.ID + "&nip=" + bob.p.ID + "&date=2023-11-27", // repeated
		"nip=%zz&date=2023-11-27",                                     // bad escape
	} {
		t.Run(q, func(t *testing.T) { errorOf(t, e.get("/v1/pledges?"+q), 400) })
	}
}

func TestConsistencyProof(t *testing.T) {
	e := newEnv(t, nil, Options{})
	var cps []verify.Checkpoint
	for i := range 5 {
		e.enroll(20 + i)
		cps = append(cps, e.checkpoint())
	}
	for _, c := range [][2]int{{0, 4}, {1, 3}, {2, 2}, {0, 0}} {
		from, to := cps[c[0]], cps[c[1]]
		r := e.get(fmt.Sprintf("/v1/proof/consistency?from=%d&to=%d", from.Size, to.Size))
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var got struct {
			From  uint64   `json:"from"`
			To    uint64   `json:"to"`
			Proof []string `json:"proof"`
		}
		if err := json.Unmarshal(r.body, &got, json.RejectUnknownMembers(true)); err != nil {
			t.Fatal(err)
		}
		if got.From != from.Size || got.To != to.Size || got.Proof == nil {
			t.Fatalf("%s", r.body)
		}
		var path [][]byte
		for _, s := range got.Proof {
			h, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				t.Fatal(err)
			}
			path = append(path, h)
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, from.Size, to.Size, path, from.Root[:], to.Root[:]); err != nil {
			t.Fatalf("%d → %d: %v", from.Size, to.Size, err)
		}
	}
	for _, q := range []string{"from=0&to=3", "from=4&to=3", "from=1&to=6", "from=01&to=3", "from=1", "to=3",
		"from=1&to=3&to=4", "from=-1&to=3", "from=1&to=3.0", "from=%201&to=3", "from=1+&to=3", "from=1&to=18446744073709551616"} {
		t.Run(q, func(t *testing.T) { errorOf(t, e.get("/v1/proof/consistency?"+q), 400) })
	}
}

func TestVerifyEndpoint(t *testing.T) {
	e := newEnv(t, nil, Options{})
	alice := e.enroll(30)
	r := e.submit(e.sign(e.pledgeStatement(alice.p, "Pemilu 2024"), alice.key))
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	bundle := r.body
	report := func(query string, body []byte) verify.Report {
		t.Helper()
		r := e.do("POST", "/v1/verify"+query, "application/json", body)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var rep verify.Report
		if err := json.Unmarshal(r.body, &rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := report("", bundle); !rep.Passed() || len(rep.Checks) != 8 {
		t.Fatalf("%+v", rep)
	}
	rep := report("?nip="+alice.p.ID+"&date=2023-11-27&election=Pemilu+2024", bundle)
	if !rep.Passed() || rep.Checks[len(rep.Checks)-1].ID != verify.CheckClaim {
		t.Fatalf("claim: %+v", rep)
	}
	if rep := report("?nip="+alice.p.ID+"&date=2023-11-28", bundle); rep.Passed() || rep.Failed().ID != verify.CheckClaim {
		t.Fatalf("wrong date claim: %+v", rep)
	}
	// A JSON object that is not a well-formed bundle is judged: 200, fail.
	tampered := bytes.Replace(bundle, []byte(`{"v":2,`), []byte(`{"v":2,"extra":true,`), 1)
	if rep := report("", tampered); rep.Passed() || rep.Failed().ID != verify.CheckBundle {
		t.Fatalf("tampered: %+v", rep)
	}
	for name, body := range map[string][]byte{"text": []byte("hello"), "array": []byte("[1]"), "empty": nil, "string": []byte(`"x"`)} {
		t.Run(name, func(t *testing.T) { errorOf(t, e.do("POST", "/v1/verify", "application/json", body), 400) })
	}
	errorOf(t, e.do("POST", "/v1/verify?nip="+alice.p.ID, "application/json", bundle), 400) // claim without a date
	errorOf(t, e.do("POST", "/v1/verify", "application/json", bytes.Repeat([]byte(" "), verify.MaxBundleSize+1)), 413)
}

func TestHealthz(t *testing.T) {
	e := newEnv(t, nil, Options{})
	e.enroll(40)
	r := e.get("/healthz")
	var h healthJSON
	if err := json.Unmarshal(r.body, &h, json.RejectUnknownMembers(true)); r.status != 200 || err != nil ||
		h.Status != "ok" || h.Size != 1 || h.Appends != "accepted" || h.DiskFree == 0 || h.DiskReserve != ledger.DefaultDiskReserve {
		t.Fatalf("%d %q %v", r.status, r.body, err)
	}
	e.log.Close()
	errorOf(t, e.get("/healthz"), 503)
}

func TestClosedLogIs503(t *testing.T) {
	e := newEnv(t, nil, Options{})
	e.enroll(41)
	e.log.Close()
	_, raw, _ := ed25519.GenerateKey(rand.Reader)
	key, _ := pledge.NewPrivateKey(raw, "")
	errorOf(t, e.submit(e.enrollment(person(42), key)), 503)
	errorOf(t, e.get("/v1/entries/0"), 503)
	errorOf(t, e.get("/tile/entries/000.p/1"), 503)
}

// TestPushbackIs503: with the sequencer held inside a batch and its queue
// full, a submission is refused with 503 and Retry-After.
func TestPushbackIs503(t *testing.T) {
	var hold atomic.Bool
	entered, release := make(chan struct{}, 1), make(chan struct{})
	e := newEnv(t, func(c *ledger.Config) {
		c.MaxPending, c.MaxBatch, c.MaxDelay = 1, 1, time.Hour
		c.Clock = func() time.Time {
			if hold.Load() {
				entered <- struct{}{}
				<-release
			}
			return logtest.Morning
		}
	}, Options{})
	hold.Store(true)
	newEnrollment := func(n int) []byte {
		_, raw, _ := ed25519.GenerateKey(rand.Reader)
		key, _ := pledge.NewPrivateKey(raw, "")
		return e.enrollment(person(n), key)
	}
	var wg sync.WaitGroup
	results := make([]int, 2)
	for i := range 2 {
		jws := newEnrollment(50 + i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.submit(jws).status
		}()
		if i == 0 {
			<-entered // the sequencer holds the first one
		}
	}
	for e.log.Stats().Pending != 1 { // the second one fills the queue
		time.Sleep(time.Millisecond)
	}
	r := e.submit(newEnrollment(52))
	eb := errorOf(t, r, 503)
	if r.header.Get("Retry-After") != "1" || eb.Detail["retry_after_seconds"] != 1.0 {
		t.Fatalf("Retry-After %q, detail %v", r.header.Get("Retry-After"), eb.Detail)
	}
	hold.Store(false)
	close(release)
	wg.Wait()
	if results[0] != 201 || results[1] != 201 {
		t.Fatalf("held submissions: %v", results)
	}
	if cp := e.checkpoint(); cp.Size != 2 {
		t.Fatalf("size %d", cp.Size)
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	e := newEnv(t, nil, Options{})
	errorOf(t, e.get("/nope"), 404)
	errorOf(t, e.get("/checkpoint/"), 404)
	errorOf(t, e.get("/v1/entries"), 405)
	r := e.do("DELETE", "/checkpoint", "", nil)
	errorOf(t, r, 405)
	if r.header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("Allow %q", r.header.Get("Allow"))
	}
	errorOf(t, e.do("PUT", "/v1/entries", MediaTypeJOSE, []byte("x")), 405)
	errorOf(t, e.do("GET", "/v1/verify", "", nil), 405)
}

func TestAuthorizeIsCalledForEveryRequest(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	e := newEnv(t, nil, Options{Authorize: func(r *http.Request, resource string) error {
		mu.Lock()
		seen[resource]++
		mu.Unlock()
		switch resource {
		case ResourceEntryBundle, ResourceBundle, ResourcePledges:
			if r.Header.Get("X-Network") != "inspectorate" {
				return errors.New("entries are private: read them from the inspectorate's network")
			}
		}
		return nil
	}})
	emp := e.enroll(60)
	e.get("/checkpoint")
	if r := e.get("/tile/0/000.p/1"); r.status != 200 {
		t.Fatalf("hash tiles stay public: %d", r.status)
	}
	eb := errorOf(t, e.get("/tile/entries/000.p/1"), 403)
	if !contains(eb.Error, "private") {
		t.Fatalf("%+v", eb)
	}
	errorOf(t, e.get("/v1/entries/0"), 403)
	errorOf(t, e.get("/v1/pledges?nip="+emp.p.ID+"&date=2023-11-27"), 403)
	if r := e.get("/v1/entries/0", "X-Network", "inspectorate"); r.status != 200 {
		t.Fatalf("authorized reader: %d", r.status)
	}
	e.get("/v1/proof/consistency?from=1&to=1")
	e.submit([]byte("x"))
	e.do("POST", "/v1/verify", "application/json", []byte("{}"))
	e.get("/healthz")
	for _, res := range []string{ResourceCheckpoint, ResourceHashTile, ResourceEntryBundle, ResourceBundle, ResourcePledges,
		ResourceConsistency, ResourceSubmit, ResourceVerify, ResourceHealth} {
		if seen[res] == 0 {
			t.Errorf("Authorize never saw %q", res)
		}
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, nil, Options{})
	emp := e.enroll(70)
	jws := e.sign(e.pledgeStatement(emp.p, "Pemilu 2024"), emp.key)
	e.submit(jws)
	e.submit(jws)
	e.submit([]byte("garbage"))
	e.do("POST", "/v1/entries", "text/plain", jws)

	// The collectors register on a registry of the binary's.
	reg := prometheus.NewRegistry()
	for _, c := range e.h.Collectors() {
		if err := reg.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewServer(e.h.MetricsHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`pakta_http_appends_total{outcome="appended"} 1`,
		`pakta_http_appends_total{outcome="duplicate"} 1`,
		`pakta_http_appends_total{outcome="invalid"} 1`,
		`pakta_http_appends_total{outcome="unsupported_media_type"} 1`,
		`pakta_http_append_duration_seconds_count{outcome="appended"} 1`,
		`pakta_http_requests_total{code="201",route="POST /v1/entries"} 1`,
		`pakta_log_tree_size 3`,
		// The template (appended through the library), the enrollment, the
		// pledge; the duplicate is found by the sequencer too: four batches.
		`pakta_log_batch_size_bucket{le="1"} 4`,
		`pakta_log_batch_size_count 4`,
		`pakta_log_appended_total 3`,
		`pakta_store_block_cache_hits_total `,
		`pakta_store_l0_files `,
		`pakta_store_read_amplification `,
		`pakta_store_wal_written_bytes_total `,
		`pakta_store_written_bytes_total `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^pakta_store_disk_bytes [1-9]`).Match(body) || !regexp.MustCompile(`(?m)^pakta_store_memtable_bytes [1-9]`).Match(body) {
		t.Errorf("the store's disk and memtable bytes are missing or zero")
	}
	if t.Failed() {
		t.Logf("%s", body)
	}
}

// TestSubmissionsRace: many concurrent submissions over HTTP each get their
// own index, and every bundle verifies.
func TestConcurrentSubmissions(t *testing.T) {
	e := newEnv(t, nil, Options{})
	const n = 40
	emps := make([]employee, n)
	for i := range emps {
		emps[i] = e.enroll(100 + i)
	}
	var wg sync.WaitGroup
	bodies := make([][]byte, n)
	for i := range n {
		jws := e.sign(e.pledgeStatement(emps[i].p, "Pemilu 2024"), emps[i].key)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.submit(jws)
			if r.status != 201 {
				t.Errorf("%d %s", r.status, r.body)
			}
			bodies[i] = r.body
		}()
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for i, b := range bodies {
		index, _ := bundleIndex(t, b)
		if seen[index] {
			t.Fatalf("index %d twice", index)
		}
		seen[index] = true
		rep, err := verify.VerifyBytes(b, e.Policy, &verify.Claim{Scheme: "nip", ID: emps[i].p.ID, Date: "2023-11-27"})
		if err != nil || !rep.Passed() {
			t.Fatalf("bundle %d: %v %s", i, err, rep.Text())
		}
	}
}
