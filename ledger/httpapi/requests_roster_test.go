package httpapi

import (
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/ledger/internal/logtest"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/pledge/roster"
)

// TestRequestRoster: with a roster (ledger.CheckRoster), a request must name
// someone on it in the roster's form. Another form of the same name (case,
// spacing, titles, employment) is 409 with the roster's form in the detail,
// which the device signs again and is accepted; someone not listed, or
// listed under another name, is 403 without a word of the roster.
func TestRequestRoster(t *testing.T) {
	p1, p2, p3, p4 := person(1), person(2), person(3), person(4)
	r, err := roster.New([]roster.Person{
		{Scheme: p1.Scheme, ID: p1.ID, Name: "Dr. PEGAWAI  1, S.E.", Unit: "Bagian Umum", Employment: pledge.PNS},
		{Scheme: p2.Scheme, ID: p2.ID, Name: p2.Name, Employment: pledge.PNS},
		{Scheme: p4.Scheme, ID: p4.ID, Name: "Siti Aminah", Employment: pledge.PNS},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *ledger.Config) { c.Requests.CheckSubject = ledger.CheckRoster(r) }, Options{})
	post := func(p pledge.Person, key *pledge.PrivateKey) response {
		t.Helper()
		return e.do("POST", "/v1/enrollment-requests", MediaTypeJOSE, e.Request(p, key, logtest.Morning.Add(-time.Hour)))
	}

	key := newTestKey(t)
	resp := post(p1, key)
	eb := errorOf(t, resp, 409)
	var detail struct {
		Subject pledge.Person `json:"subject"`
	}
	if err := json.Unmarshal(mustJSON(t, eb.Detail), &detail, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("detail %s: %v", resp.body, err)
	}
	want := p1
	want.Name, want.Unit = "Dr. PEGAWAI 1, S.E.", "Bagian Umum" // the roster's form, its spaces cleaned
	if detail.Subject != want {
		t.Fatalf("the roster's form: %+v, want %+v", detail.Subject, want)
	}
	if r := post(detail.Subject, key); r.status != 201 {
		t.Fatalf("signed again in the roster's form: %d %s", r.status, r.body)
	}
	if r := post(p2, newTestKey(t)); r.status != 201 {
		t.Fatalf("exact form: %d %s", r.status, r.body)
	}
	for _, p := range []pledge.Person{p3, p4} {
		eb := errorOf(t, post(p, newTestKey(t)), 403)
		if !strings.Contains(eb.Error, "not on this agency's roster") || strings.Contains(eb.Error, "Siti") || eb.Detail != nil {
			t.Errorf("%s: %+v", p.Name, eb)
		}
	}
}
