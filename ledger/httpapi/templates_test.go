package httpapi

import (
	"net/url"
	"slices"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/pakta-id/pakta/pledge"
)

// TestTemplatesEndpoint: GET /v1/templates is public, pages with limit
// and the cursor it hands out, filters by agency, and refuses what it does
// not understand with 400.
func TestTemplatesEndpoint(t *testing.T) {
	e := newEnv(t, nil, Options{})
	for _, el := range []string{"Pemilu 2024", "Pilkada 2024", "Pilkades 2025"} {
		e.publish(el)
	}
	other := e.TemplateStatement("Pemilu 2029")
	other.Agencies = []string{"1810"}
	if r := e.submit(e.sign(other, e.Registrar)); r.status != 201 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	type page struct {
		Templates []struct {
			ID       string   `json:"id"`
			Lang     string   `json:"lang"`
			Election string   `json:"election"`
			Agencies []string `json:"agencies"`
			Text     string   `json:"text"`
			SHA256   string   `json:"sha256"`
			Deadline string   `json:"deadline"`
			Index    uint64   `json:"index"`
			LoggedAt string   `json:"logged_at"`
		} `json:"templates"`
		NextCursor string `json:"next_cursor"`
	}
	list := func(q url.Values) []string {
		t.Helper()
		var ids []string
		for range 10 {
			r := e.get("/v1/templates?" + q.Encode())
			if r.status != 200 {
				t.Fatalf("%s: %d %s", q.Encode(), r.status, r.body)
			}
			if cc := r.header.Get("Cache-Control"); cc == "" || cc == "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			var p page
			if err := json.Unmarshal(r.body, &p, json.RejectUnknownMembers(true)); err != nil {
				t.Fatal(err)
			}
			for _, tp := range p.Templates {
				if tp.Text == "" || tp.SHA256 != pledge.TextHash(tp.Text) || tp.LoggedAt == "" || tp.Lang != "id" || tp.Deadline == "" {
					t.Errorf("template %+v", tp)
				}
				ids = append(ids, tp.ID)
			}
			if p.NextCursor == "" {
				return ids
			}
			q.Set("cursor", p.NextCursor)
		}
		t.Fatal("no last page")
		return nil
	}
	got := list(url.Values{"limit": {"1"}})
	slices.Sort(got)
	if want := []string{"netralitas-2024", "netralitas-pemilu-2029", "netralitas-pilkada-2024", "netralitas-pilkades-2025"}; !slices.Equal(got, want) {
		t.Errorf("all: %v, want %v", got, want)
	}
	if got := list(url.Values{"agency": {"1810"}}); !slices.Equal(got, []string{"netralitas-pemilu-2029"}) {
		t.Errorf("agency 1810: %v", got)
	}
	if got := list(url.Values{"agency": {"9999"}}); len(got) != 0 {
		t.Errorf("agency 9999: %v", got)
	}
	for _, q := range []string{"limit=0", "limit=1001", "limit=x", "cursor=abc", "agency=", "nip=1", "agency=1&agency=2"} {
		if r := e.get("/v1/templates?" + q); r.status != 400 {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
	if r := e.do("POST", "/v1/templates", "application/json", []byte("{}")); r.status != 405 {
		t.Errorf("POST: %d", r.status)
	}
}
