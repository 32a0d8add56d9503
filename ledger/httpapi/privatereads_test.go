package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/pledge"
)

// privateEnv is a populated log for the private-read tests: Andi and Budi
// of agency 7601, enrolled by the fixture's registrar; Andi has pledged;
// Cici of agency 7602, enrolled by that agency's registrar; Dewi, non-ASN
// with a NIK.
type privateEnv struct {
	*requestEnv
	andi, budi, cici, dewi employee
	andiEnroll, andiPledge uint64
}

func newPrivateEnv(t *testing.T) *privateEnv {
	t.Helper()
	pe := &privateEnv{requestEnv: newRequestEnv(t, 0)}
	enroll := func(p pledge.Person, registrar *pledge.PrivateKey) (employee, uint64) {
		key := newTestKey(t)
		res, err := pe.log.Append(context.Background(), pe.Enrollment(p, key, registrar))
		if err != nil {
			t.Fatalf("enrolling %s: %v", p.Name, err)
		}
		return employee{p: p, key: key}, res.Index
	}
	andi := person(1)
	andi.Name, andi.Unit = "Andi Pratama", "Dinas Pendidikan"
	pe.andi, pe.andiEnroll = enroll(andi, pe.Registrar)
	pe.budi, _ = enroll(person(2), pe.Registrar)
	cici := person(3)
	cici.Agency = pledge.Agency{Code: "7602", Name: "Pemerintah Kabupaten Mamuju Tengah"}
	pe.cici, _ = enroll(cici, pe.other)
	pe.dewi, _ = enroll(pledge.Person{Scheme: pledge.SchemeNIK, ID: "7601015703870001", Name: "Dewi Lestari", Unit: "Puskesmas Mamuju",
		Agency: pledge.Agency{Code: "7601", Name: "Pemerintah Kabupaten Mamuju"}, Employment: pledge.NonASN}, pe.Registrar)
	res, err := pe.log.Append(context.Background(), pe.sign(pe.pledgeStatement(pe.andi.p, "Pemilu 2024"), pe.andi.key))
	if err != nil {
		t.Fatal(err)
	}
	pe.andiPledge = res.Index
	return pe
}

// tok signs a read token with every part chosen.
func (pe *privateEnv) tok(key *pledge.PrivateKey, aud, method, pathQuery string, iat time.Time) string {
	pe.t.Helper()
	path, q, _ := strings.Cut(pathQuery, "?")
	c, err := pledge.NewReadClaims(pledge.ReadTarget{Aud: aud, Method: method, Path: path, RawQuery: q}, iat, time.Minute, rand.Reader)
	if err != nil {
		pe.t.Fatal(err)
	}
	b, err := pledge.SignRead(c, key)
	if err != nil {
		pe.t.Fatal(err)
	}
	return string(b)
}

// TestPrivateReadTokens: every restricted endpoint refuses a missing or bad
// token with 401, and answers a good one.
func TestPrivateReadTokens(t *testing.T) {
	pe := newPrivateEnv(t)
	andi := pe.andi.p
	paths := []string{
		fmt.Sprintf("/v1/entries/%d", pe.andiPledge),
		"/v1/pledges?nip=" + andi.ID + "&date=2023-11-27",
		"/v1/people/nip/" + andi.ID + "/history",
		"/v1/me",
		"/tile/entries/000.p/1",
		"/v1/enrollment-requests",
	}
	reader := map[string]*pledge.PrivateKey{"/v1/me": pe.andi.key}
	stranger := newTestKey(t)
	for _, path := range paths {
		key := reader[path]
		if key == nil {
			key = pe.aud
		}
		now := pe.clock.Now()
		good := pe.tok(key, testOrigin, "GET", path, now)
		// A token signed by another key under key's kid.
		parts := strings.Split(pe.tok(stranger, testOrigin, "GET", path, now), ".")
		h, _ := json.Marshal(map[string]string{"alg": "EdDSA", "kid": key.KeyID(), "typ": "pakta-read+jws"})
		badSig := b64url.EncodeToString(h) + "." + parts[1] + "." + parts[2]
		for _, tt := range []struct {
			name, auth string
			status     int
		}{
			{"no token", "", 401},
			{"other scheme", "Bearer " + good, 401},
			{"malformed", "PaktaSig not.a-token", 401},
			{"oversized", "PaktaSig " + strings.Repeat("a", pledge.MaxReadTokenSize+1), 401},
			{"expired", "PaktaSig " + pe.tok(key, testOrigin, "GET", path, now.Add(-2*time.Minute)), 401},
			{"wrong aud", "PaktaSig " + pe.tok(key, "pakta.test/other", "GET", path, now), 401},
			{"wrong method", "PaktaSig " + pe.tok(key, testOrigin, "POST", path, now), 401},
			{"wrong path", "PaktaSig " + pe.tok(key, testOrigin, "GET", "/v1/entries/0", now), 401},
			{"wrong query", "PaktaSig " + pe.tok(key, testOrigin, "GET", path+"?limit=1", now), 401},
			{"wrong key", "PaktaSig " + pe.tok(stranger, testOrigin, "GET", path, now), 401},
			{"badly signed", "PaktaSig " + badSig, 401},
			{"good", "PaktaSig " + good, 200},
			{"replayed", "PaktaSig " + good, 401},
		} {
			r := pe.get(path, "Authorization", tt.auth)
			if r.status != tt.status {
				t.Errorf("%s, %s: %d, want %d: %s", path, tt.name, r.status, tt.status, r.body)
				continue
			}
			if tt.status == 401 {
				errorOf(t, r, 401)
				if r.header.Get("WWW-Authenticate") != pledge.ReadScheme {
					t.Errorf("%s, %s: 401 without WWW-Authenticate: PaktaSig", path, tt.name)
				}
			} else if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "private") && !strings.Contains(cc, "no-store") {
				t.Errorf("%s: a restricted answer with Cache-Control %q", path, cc)
			}
		}
	}
}

// TestWhoReadsWhat: employees read their own records, registrars their
// agencies', policy readers everything; anything else is 403.
func TestWhoReadsWhat(t *testing.T) {
	pe := newPrivateEnv(t)
	andi, budi, cici := pe.andi.p, pe.budi.p, pe.cici.p
	entry := fmt.Sprintf("/v1/entries/%d", pe.andiPledge)
	pledges := "/v1/pledges?nip=" + andi.ID + "&date=2023-11-27"
	history := func(p pledge.Person) string { return "/v1/people/" + p.Scheme + "/" + p.ID + "/history" }
	// Budi's key, revoked.
	if _, err := pe.log.Append(context.Background(), pe.sign(&pledge.Revocation{Type: pledge.TypeRevocation, KID: pe.budi.key.KeyID(), Reason: "ponsel hilang"}, pe.Registrar)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		who    string
		key    *pledge.PrivateKey
		path   string
		status int
		want   string
	}{
		{"andi", pe.andi.key, entry, 200, ""},
		{"andi", pe.andi.key, fmt.Sprintf("/v1/entries/%d", pe.andiEnroll), 200, ""},
		{"andi", pe.andi.key, fmt.Sprintf("/v1/entries/%d", pe.andiPledge-1), 200, ""}, // the template names nobody
		{"andi", pe.andi.key, pledges, 200, ""},
		{"andi", pe.andi.key, history(andi), 200, ""},
		{"andi", pe.andi.key, "/v1/me", 200, `"reads":[{`},
		{"andi", pe.andi.key, history(cici), 403, "only its own"},
		{"andi", pe.andi.key, "/v1/pledges?nip=" + budi.ID + "&date=2023-11-27", 403, "only its own"},
		{"andi", pe.andi.key, "/tile/entries/000.p/1", 403, "policy's readers"},
		{"andi", pe.andi.key, "/v1/enrollment-requests", 403, "registrar"},
		{"budi, revoked", pe.budi.key, "/v1/me", 403, "revoked"},
		{"budi, revoked", pe.budi.key, history(budi), 403, "revoked"},
		{"registrar of 7601", pe.mamuju, entry, 200, ""},
		{"registrar of 7601", pe.mamuju, history(andi), 200, ""},
		{"registrar of 7601", pe.mamuju, pledges, 200, ""},
		{"registrar of 7601", pe.mamuju, history(pe.dewi.p), 200, ""},
		{"registrar of 7601", pe.mamuju, history(cici), 403, "does not act"},
		{"registrar of 7601", pe.mamuju, "/v1/pledges?nip=198703152010011999&date=2023-11-27", 200, `"bundles":[]`}, // nobody the log knows
		{"registrar of 7601", pe.mamuju, "/v1/me", 403, "/v1/people/"},
		{"registrar of 7601", pe.mamuju, "/tile/entries/000.p/1", 403, "policy's readers"},
		{"registrar of 7602", pe.other, entry, 403, "may not read entry"},
		{"registrar of 7602", pe.other, history(andi), 403, "does not act"},
		{"registrar of 7602", pe.other, pledges, 403, "does not act"},
		{"registrar of 7602", pe.other, history(cici), 200, ""},
		{"retired registrar", pe.retired, history(andi), 403, "retired"},
		{"auditor", pe.aud, entry, 200, ""},
		{"auditor", pe.aud, history(cici), 200, ""},
		{"auditor", pe.aud, pledges, 200, `"bundles":[{`},
		{"auditor", pe.aud, "/tile/entries/000.p/6", 200, ""},
		{"auditor", pe.aud, "/v1/me", 403, ""},
	} {
		r := pe.read(tt.key, tt.path)
		if r.status != tt.status || !strings.Contains(string(r.body), tt.want) {
			t.Errorf("%s reads %s: %d, want %d with %q: %.300s", tt.who, tt.path, r.status, tt.status, tt.want, r.body)
		}
		if tt.status != 200 {
			errorOf(t, r, tt.status)
		}
	}
}

type historyPage struct {
	Events []struct {
		Index uint64 `json:"index"`
		Type  string `json:"type"`
	} `json:"events"`
	Reads []struct {
		At      string            `json:"at"`
		Reader  ledger.ReaderInfo `json:"reader"`
		Request string            `json:"request"`
	} `json:"reads"`
	NextCursor string `json:"next_cursor"`
}

// TestReadsAreRecorded: a registrar reads Andi; Andi's /v1/me lists that
// read, with the registrar's signed request, beside every entry in his
// name; the auditor's read of an entry tile is there too; and a page at a
// time, the reads follow their cursor.
func TestReadsAreRecorded(t *testing.T) {
	pe := newPrivateEnv(t)
	andi := pe.andi.p
	path := "/v1/people/nip/" + andi.ID + "/history"
	regToken := pe.token(pe.mamuju, testOrigin, path, pe.clock.Now())
	if r := pe.get(path, "Authorization", "PaktaSig "+regToken); r.status != 200 {
		t.Fatalf("registrar's read: %d %s", r.status, r.body)
	}
	pe.clock.Set(pe.clock.Now().Add(time.Second))
	if r := pe.read(pe.aud, "/tile/entries/000.p/6"); r.status != 200 {
		t.Fatalf("auditor's tile read: %d %s", r.status, r.body)
	}
	if r := pe.read(pe.other, path); r.status != 403 {
		t.Fatalf("a refused read: %d %s", r.status, r.body) // not recorded: it read nothing
	}
	pe.clock.Set(pe.clock.Now().Add(time.Second))
	r := pe.read(pe.andi.key, "/v1/me")
	var h historyPage
	if err := json.Unmarshal(r.body, &h); err != nil || r.status != 200 {
		t.Fatalf("/v1/me: %d %s (%v)", r.status, r.body, err)
	}
	var events []string
	for _, ev := range h.Events {
		events = append(events, fmt.Sprintf("%d:%s", ev.Index, ev.Type))
	}
	if want := []string{fmt.Sprintf("%d:enrollment", pe.andiEnroll), fmt.Sprintf("%d:pledge", pe.andiPledge)}; fmt.Sprint(events) != fmt.Sprint(want) {
		t.Errorf("events %v, want %v", events, want)
	}
	var readers []string
	for _, rd := range h.Reads {
		readers = append(readers, rd.Reader.Role+" "+rd.Reader.Name)
	}
	if want := []string{"registrar BKPSDM Mamuju", "auditor Inspektorat", "employee "}; fmt.Sprint(readers) != fmt.Sprint(want) {
		t.Fatalf("reads %q, want %q", readers, want)
	}
	if h.Reads[0].Request != regToken || h.Reads[0].Reader.KID != pe.mamuju.KeyID() || h.Reads[0].At != "2023-11-27T01:00:00.000Z" {
		t.Errorf("the registrar's read: %+v", h.Reads[0])
	}
	// The recorded request is the registrar's own signature over the path.
	tok, err := pledge.ParseReadToken([]byte(h.Reads[0].Request))
	if err != nil || tok.Verify(pe.mamuju.Public(), nil) != nil || tok.Claims.Path != path {
		t.Errorf("the recorded request does not verify: %v", err)
	}
	// Two reads a page: the reads follow the cursor to the end (each page
	// is a read too, recorded before it is answered), the events end
	// first.
	var all []string
	q := "?limit=2"
	for pages := 0; pages < 10; pages++ {
		pe.clock.Set(pe.clock.Now().Add(time.Second))
		r := pe.read(pe.aud, path+q)
		var h historyPage
		if err := json.Unmarshal(r.body, &h); err != nil || r.status != 200 {
			t.Fatalf("page %d: %d %s", pages, r.status, r.body)
		}
		for _, rd := range h.Reads {
			all = append(all, rd.Reader.Role)
		}
		if h.NextCursor == "" {
			break
		}
		q = "?limit=2&cursor=" + h.NextCursor
	}
	if want := []string{"registrar", "auditor", "employee", "auditor", "auditor", "auditor"}; fmt.Sprint(all) != fmt.Sprint(want) {
		t.Errorf("paged reads %v, want %v", all, want)
	}
	if r := pe.read(pe.aud, path+"?cursor=AQ"); r.status != 400 {
		t.Errorf("a bad cursor: %d", r.status)
	}
}

// TestNothingPersonalInPublic walks every public endpoint of a populated
// log, and every restricted one without credentials: no name, NIP, NIK or
// unit of anyone in it comes back.
func TestNothingPersonalInPublic(t *testing.T) {
	pe := newPrivateEnv(t)
	s := pe.created(pe.request(9, newTestKey(t)), 201)
	var secrets []string
	for _, emp := range []employee{pe.andi, pe.budi, pe.cici, pe.dewi} {
		secrets = append(secrets, emp.p.ID, emp.p.Name)
		if emp.p.Unit != "" {
			secrets = append(secrets, emp.p.Unit)
		}
	}
	secrets = append(secrets, person(9).ID, person(9).Name)
	_, size := pe.log.Checkpoint()
	// Entries as bundles and entry tiles carry them: the entries' own
	// bytes, raw or in base64, must not come back either.
	for i := range size {
		en, err := pe.log.Entry(context.Background(), i)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, string(en[len(en)-60:]), base64.StdEncoding.EncodeToString(en)[40:100])
	}
	paths := []string{"/checkpoint", "/healthz", "/v1/enrollment-requests/" + s.Code,
		fmt.Sprintf("/v1/proof/consistency?from=1&to=%d", size),
		fmt.Sprintf("/tile/0/000.p/%d", size)}
	for i := range size {
		paths = append(paths, fmt.Sprintf("/v1/entries/%d", i), fmt.Sprintf("/tile/entries/000.p/%d", i+1))
	}
	for _, emp := range []employee{pe.andi, pe.budi, pe.cici, pe.dewi} {
		paths = append(paths, "/v1/people/"+emp.p.Scheme+"/"+emp.p.ID+"/history", "/v1/pledges?scheme="+emp.p.Scheme+"&id="+emp.p.ID+"&date=2023-11-27")
	}
	paths = append(paths, "/v1/me", "/v1/enrollment-requests", "/v1/enrollment-requests/"+s.Code+"?full=1", "/nope")
	for _, path := range paths {
		r := pe.get(path, "Authorization", "")
		if r.status >= 500 {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
		for _, secret := range secrets {
			if strings.Contains(string(r.body), secret) || strings.Contains(fmt.Sprint(r.header), secret) {
				t.Errorf("%s (%d) shows %q: %.200s", path, r.status, secret, r.body)
			}
		}
	}
	m := httptest.NewRecorder()
	pe.h.MetricsHandler().ServeHTTP(m, httptest.NewRequest("GET", "/metrics", nil))
	for _, secret := range secrets {
		if strings.Contains(m.Body.String(), secret) {
			t.Errorf("/metrics shows %q", secret)
		}
	}
}

// TestPublicEntries: with Options.PublicEntries every read is public (and
// unrecorded), a signed one is still checked and recorded, and /v1/me
// still needs the employee's key.
func TestPublicEntries(t *testing.T) {
	e := newEnv(t, nil, Options{PublicEntries: true})
	emp := e.enroll(1)
	path := "/v1/people/nip/" + emp.p.ID + "/history"
	for _, p := range []string{"/v1/entries/0", "/tile/entries/000.p/1", path, "/v1/pledges?nip=" + emp.p.ID + "&date=2023-11-27"} {
		if r := e.get(p, "Authorization", ""); r.status != 200 {
			t.Errorf("%s in public: %d %s", p, r.status, r.body)
		}
	}
	errorOf(t, e.get("/v1/me", "Authorization", ""), 401)
	errorOf(t, e.get(path, "Authorization", "PaktaSig not.a-token"), 401)
	r := e.get("/v1/me", "Authorization", "PaktaSig "+e.readToken(emp.key, "/v1/me"))
	var h historyPage
	if err := json.Unmarshal(r.body, &h); err != nil || len(h.Events) != 1 || len(h.Reads) != 1 || h.Reads[0].Reader.Role != "employee" {
		t.Errorf("/v1/me in public: %d %s", r.status, r.body)
	}
}

// TestReadNonceSpentOnEveryPath: bundles and pledges record the token's
// nonce with the read, in one write (ledger.RecordReadOnce); every other
// way out of them (refused, not found, malformed, naming nobody, retired)
// still spends it before answering, so that the same token again is a
// replay, 401, and a served read is recorded once.
func TestReadNonceSpentOnEveryPath(t *testing.T) {
	pe := newPrivateEnv(t)
	andi := pe.andi.p
	entry := fmt.Sprintf("/v1/entries/%d", pe.andiPledge)
	pledges := "/v1/pledges?nip=" + andi.ID + "&date=2023-11-27"
	for _, tt := range []struct {
		name   string
		key    *pledge.PrivateKey
		path   string
		status int
	}{
		{"served", pe.mamuju, entry, 200},
		{"served list", pe.mamuju, pledges, 200},
		{"a template, naming nobody", pe.mamuju, fmt.Sprintf("/v1/entries/%d", pe.andiPledge-1), 200},
		{"another agency's entry", pe.other, entry, 403},
		{"another agency's person", pe.other, pledges, 403},
		{"retired registrar", pe.retired, entry, 403},
		{"retired registrar, list", pe.retired, pledges, 403},
		{"past the end", pe.mamuju, "/v1/entries/999", 404},
		{"not a decimal", pe.mamuju, "/v1/entries/01", 400},
		{"no date", pe.mamuju, "/v1/pledges?nip=" + andi.ID, 400},
	} {
		tok := "PaktaSig " + pe.tok(tt.key, testOrigin, "GET", tt.path, pe.clock.Now())
		if r := pe.get(tt.path, "Authorization", tok); r.status != tt.status {
			t.Errorf("%s: %d, want %d: %.300s", tt.name, r.status, tt.status, r.body)
			continue
		}
		r := pe.get(tt.path, "Authorization", tok)
		if r.status != 401 || !strings.Contains(string(r.body), "replayed") {
			t.Errorf("%s, replayed: %d, want 401 (replayed): %.300s", tt.name, r.status, r.body)
		}
	}
	// Andi's record shows the two served reads of his records, once each,
	// and this read of it.
	r := pe.read(pe.aud, "/v1/people/nip/"+andi.ID+"/history")
	var h historyPage
	if err := json.Unmarshal(r.body, &h); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	if n := len(h.Reads); n != 3 {
		t.Errorf("Andi's history lists %d reads, want 3 (the entry, the list, the history): %.2000s", n, r.body)
	}
}

// TestConcurrentReadsBatched: reads that arrive together share their
// records' writes (readBatcher); each is still answered, recorded once,
// and a token sent twice at once is served once and refused once as a
// replay.
func TestConcurrentReadsBatched(t *testing.T) {
	pe := newPrivateEnv(t)
	entry := fmt.Sprintf("/v1/entries/%d", pe.andiPledge)
	const n = 24
	status := make([]int, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		tok := "PaktaSig " + pe.tok(pe.aud, testOrigin, "GET", entry, pe.clock.Now())
		for j := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status[2*i+j] = pe.get(entry, "Authorization", tok).status
			}()
		}
	}
	wg.Wait()
	for i := range n {
		if a, b := status[2*i], status[2*i+1]; a+b != 200+401 {
			t.Errorf("token %d sent twice at once: %d and %d, want 200 once and 401 once", i, a, b)
		}
	}
	r := pe.read(pe.aud, "/v1/people/nip/"+pe.andi.p.ID+"/history?limit=1000")
	var h historyPage
	if err := json.Unmarshal(r.body, &h); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	if got := len(h.Reads); got != n+1 {
		t.Errorf("%d reads recorded, want %d (one per token, and this one)", got, n+1)
	}
}
