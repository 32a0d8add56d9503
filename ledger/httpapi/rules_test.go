package httpapi

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/ledger/internal/logtest"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// TestTrustRulesOverHTTP: each rule of the trust policy (templates,
// registrar scope and retirement, time, the signer agreeing with the
// enrollment, text hygiene, corrections) refuses a submission over HTTP
// with its status and a JSON error naming what is wrong, and leaves the
// tree as it was.
func TestTrustRulesOverHTTP(t *testing.T) {
	mamuju, _ := seedKey(t, "mamuju")
	majene, _ := seedKey(t, "majene")
	retired, _ := seedKey(t, "retired")
	e := newEnv(t, func(c *ledger.Config) {
		p, err := verify.NewPolicy(c.Policy.Origin, c.Policy.LogKey, []*verify.Registrar{
			verify.NationalRegistrar(logtest.RegistrarName, c.Policy.Registrars[0].JWK),
			{Name: "BKPSDM Kabupaten Mamuju", Agencies: []string{"7601"}, JWK: mamuju.Public()},
			{Name: "BKPSDM Kabupaten Majene", Agencies: []string{"7605"}, JWK: majene.Public()},
			{Name: "BKD lama", Agencies: []string{"7601"}, JWK: retired.Public(), Until: "2023-11-20T00:00:00+08:00"},
		})
		if err != nil {
			t.Fatal(err)
		}
		p.MaxCorrections = 1
		c.Policy = p
	}, Options{})
	ctx := context.Background()
	e.publish(logtest.Election)
	alice, bob := e.enroll(1), e.enroll(2)
	dewi := person(3)
	dewi.Agency = pledge.Agency{Code: "7605", Name: "Pemerintah Kabupaten Majene"}
	dewiKey, _ := seedKey(t, "dewi")
	if _, err := e.log.Append(ctx, e.Enrollment(dewi, dewiKey, e.Registrar)); err != nil {
		t.Fatal(err)
	}
	first, err := e.log.Append(ctx, e.sign(e.pledgeStatement(alice.p, logtest.Election), alice.key))
	if err != nil {
		t.Fatal(err)
	}
	fix := e.pledgeStatement(alice.p, logtest.Election)
	fix.Supersedes = &first.Index
	fixed, err := e.log.Append(ctx, e.sign(fix, alice.key))
	if err != nil {
		t.Fatal(err)
	}
	again := e.pledgeStatement(alice.p, logtest.Election)
	again.Supersedes = &fixed.Index

	// bobs is bob's pledge, changed by mod and signed with his key with no
	// check of pakta's own (so that a malformed one can be sent).
	bobs := func(mod func(*pledge.Pledge)) []byte {
		st := e.PledgeStatement(bob.p, logtest.Election)
		mod(st)
		return rawCompact(pledgeHeader(bob.key.KeyID()), mustJSON(t, st), bob.raw)
	}
	at := func(signedAt string) func(*pledge.Pledge) {
		return func(p *pledge.Pledge) {
			tm, _ := time.Parse(time.RFC3339, signedAt)
			p.SignedAt, p.Date = signedAt, tm.Format(pledge.DateLayout)
		}
	}
	enroll := func(subject pledge.Person, registrar *pledge.PrivateKey, until string) []byte {
		k, _ := seedKey(t, "new "+subject.ID)
		jws, err := pledge.Enroll(&pledge.Enrollment{Type: pledge.TypeEnrollment, Subject: subject, JWK: k.Public(), ValidFrom: "2023-11-01T00:00:00+07:00", ValidUntil: until}, registrar, k)
		if err != nil {
			t.Fatal(err)
		}
		return jws
	}
	template := func(signer *pledge.PrivateKey, agencies ...string) []byte {
		tm := e.TemplateStatement("Pemilu 2029")
		tm.Agencies = agencies
		return e.sign(tm, signer)
	}

	tests := []struct {
		name   string
		ct     string
		body   []byte
		status int
		want   string
	}{
		{"unpublished template", MediaTypeJOSE, bobs(func(p *pledge.Pledge) { p.Template.ID = "netralitas-lain" }), 403, "template netralitas-lain is not published"},
		{"another wording", MediaTypeJOSE, bobs(func(p *pledge.Pledge) {
			p.Text = "Saya TIDAK berjanji untuk netral."
			p.Template.SHA256 = pledge.TextHash(p.Text)
		}), 403, "is not the wording of template netralitas-2024"},
		{"another election", MediaTypeJOSE, bobs(func(p *pledge.Pledge) { p.Election = "Pilkada 2024" }), 403, "is for election"},
		{"agency the template does not cover", MediaTypeJOSE, e.sign(e.PledgeStatement(dewi, logtest.Election), dewiKey), 403, `not for the signer's agency "7605"`},
		{"enrollment out of the registrar's scope", MediaTypeJOSEJSON, enroll(person(30), majene, ""), 403, "acts for agencies 7605"},
		{"enrollment by a retired registrar", MediaTypeJOSEJSON, enroll(person(31), retired, ""), 403, "was retired"},
		{"revocation out of the registrar's scope", MediaTypeJOSE, e.sign(&pledge.Revocation{Type: pledge.TypeRevocation, KID: alice.key.KeyID(), Reason: "x"}, majene), 403, "acts for agencies 7605"},
		{"template for every agency by an agency's registrar", MediaTypeJOSE, template(mamuju, "*"), 403, "every agency"},
		{"template outside the registrar's scope", MediaTypeJOSE, template(mamuju, "7605"), 403, "outside registrar"},
		{"second template with the same id", MediaTypeJOSE, e.Template(logtest.Election), 200, ""},
		{"enrollment already expired", MediaTypeJOSEJSON, enroll(person(32), e.Registrar, "2023-11-26T23:59:59+07:00"), 403, "had passed"},
		{"signed_at in UTC", MediaTypeJOSE, bobs(at("2023-11-27T00:15:00Z")), 400, "has offset +00:00"},
		{"signed_at at +23:59", MediaTypeJOSE, bobs(at("2023-11-28T00:14:00+23:59")), 400, "has offset +23:59"},
		{"signed_at 4 days before", MediaTypeJOSE, bobs(at("2023-11-23T08:00:00+08:00")), 400, "more than 3 days"},
		{"signer name differs from the enrollment", MediaTypeJOSE, bobs(func(p *pledge.Pledge) { p.Signer.Name = "Orang Lain" }), 403, "differs in name"},
		{"signer agency differs from the enrollment", MediaTypeJOSE, bobs(func(p *pledge.Pledge) { p.Signer.Agency.Code = "7605" }), 403, "differs in agency.code"},
		{"name with a bidi override", MediaTypeJOSE, bobs(func(p *pledge.Pledge) { p.Signer.Name = "Pegawai \u202e2" }), 400, "U+202E"},
		{"election with a line separator", MediaTypeJOSE, bobs(func(p *pledge.Pledge) { p.Election = "Pemilu\u20282024" }), 400, "U+2028"},
		{"correction over max_corrections", MediaTypeJOSE, e.sign(again, alice.key), 409, "max_corrections"},
	}
	signedBefore, _ := e.log.Checkpoint()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.status == 200 {
				// The same template again is the same entry, not a second one.
				if r := e.do("POST", "/v1/entries", tt.ct, tt.body); r.status != 200 {
					t.Fatalf("%d %s", r.status, r.body)
				}
				return
			}
			eb := errorOf(t, e.do("POST", "/v1/entries", tt.ct, tt.body), tt.status)
			if !strings.Contains(eb.Error, tt.want) {
				t.Errorf("error %q does not contain %q", eb.Error, tt.want)
			}
			if signed, _ := e.log.Checkpoint(); !bytes.Equal(signed, signedBefore) {
				t.Fatalf("the refused submission changed the tree")
			}
		})
	}
	// A second template under a published id, with another wording: 409.
	other := e.TemplateStatement(logtest.Election)
	other.Text += "\nTambahan."
	other.SHA256 = pledge.TextHash(other.Text)
	if eb := errorOf(t, e.do("POST", "/v1/entries", MediaTypeJOSE, e.sign(other, e.Registrar)), 409); !strings.Contains(eb.Error, "already published") {
		t.Errorf("second template: %q", eb.Error)
	}
}

// TestHistoryEndpoint: GET /v1/people/{scheme}/{id}/history lists a
// person's entries in log order with bundles, pages with cursors, and
// refuses malformed identifiers and limits.
func TestHistoryEndpoint(t *testing.T) {
	e := newEnv(t, nil, Options{})
	ctx := context.Background()
	alice := e.enroll(1)
	e.enroll(2)
	pl, err := e.log.Append(ctx, e.sign(e.pledgeStatement(alice.p, logtest.Election), alice.key))
	if err != nil {
		t.Fatal(err)
	}
	ruling := &pledge.Ruling{Type: pledge.TypeRuling, Case: "BKN/1", Concerns: []uint64{pl.Index}, Annuls: []uint64{pl.Index},
		Finding: "Dibatalkan.", DecidedAt: "2023-11-27T08:58:00+08:00"}
	ruled, err := e.log.Append(ctx, e.sign(ruling, e.Supervisor))
	if err != nil {
		t.Fatal(err)
	}
	type page struct {
		Events []struct {
			Index      uint64         `json:"index"`
			Type       string         `json:"type"`
			LoggedAt   string         `json:"logged_at"`
			AnnulledBy *uint64        `json:"annulled_by"`
			Bundle     jsontext.Value `json:"bundle"`
		} `json:"events"`
		Reads      []any  `json:"reads"`
		NextCursor string `json:"next_cursor"`
	}
	get := func(path string) page {
		t.Helper()
		r := e.get(path)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		var p page
		if err := json.Unmarshal(r.body, &p, json.RejectUnknownMembers(true)); err != nil {
			t.Fatalf("%s: %v\n%s", path, err, r.body)
		}
		return p
	}
	all := get("/v1/people/nip/" + alice.p.ID + "/history")
	var types []string
	for _, ev := range all.Events {
		types = append(types, ev.Type)
		if rep, err := verify.VerifyBytes(ev.Bundle, e.Policy, nil); err != nil || !rep.Passed() {
			t.Errorf("event %d: %v %v", ev.Index, err, rep)
		}
	}
	if strings.Join(types, ",") != "enrollment,pledge,ruling" || all.NextCursor != "" || all.Reads == nil {
		t.Fatalf("history %v, cursor %q, reads %v", types, all.NextCursor, all.Reads)
	}
	if a := all.Events[1].AnnulledBy; a == nil || *a != ruled.Index {
		t.Fatalf("the pledge's annulled_by is %v, want %d", a, ruled.Index)
	}
	first := get("/v1/people/nip/" + alice.p.ID + "/history?limit=2")
	if len(first.Events) != 2 || first.NextCursor == "" {
		t.Fatalf("first page %+v", first)
	}
	rest := get("/v1/people/nip/" + alice.p.ID + "/history?limit=2&cursor=" + first.NextCursor)
	if len(rest.Events) != 1 || rest.Events[0].Type != "ruling" || rest.NextCursor != "" {
		t.Fatalf("second page %+v", rest)
	}
	if p := get("/v1/people/nip/198703152010011999/history"); len(p.Events) != 0 {
		t.Fatalf("a person with no entries: %+v", p)
	}
	errorOf(t, e.get("/v1/people/nip/123/history"), 400)
	errorOf(t, e.get("/v1/people/nip/"+alice.p.ID+"/history?limit=0"), 400)
	errorOf(t, e.get("/v1/people/nip/"+alice.p.ID+"/history?cursor=xyz"), 400)
	errorOf(t, e.get("/v1/people/nip/"+alice.p.ID+"/history?limit=1001"), 400)
}
