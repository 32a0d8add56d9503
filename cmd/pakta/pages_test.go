package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pakta-id/pakta/ledger/httpapi"
)

// TestClientFollowsCursors: get --nip and report --server read every page
// of /v1/pledges, not only the first.
func TestClientFollowsCursors(t *testing.T) {
	dir := t.TempDir()
	enroll, pledgeJWS := setup(t, dir)
	p := func(name string) string { return filepath.Join(dir, name) }
	// A second pledge the same day, for another election.
	mustPakta(t, "sign", "template", "--key", p("log/registrar.jwk"), "--id", "netralitas-pilkada-2024", "--election", "Pilkada 2024", "--agency", "7601", "--text", p("text.txt"), "--out", p("template2.jws"))
	mustPakta(t, "submit", "--dir", p("log"), "--out", dir, p("template2.jws"))
	write(t, p("pledge2.json"), `{"signer": `+testPerson+`, "template": "netralitas-pilkada-2024", "election": "Pilkada 2024", "place": "Mamuju", "tz": "WITA"}`)
	mustPakta(t, "sign", "--key", p("budi.jwk"), "--form", p("pledge2.json"), "--text", p("text.txt"), "--out", p("pledge2.jws"))
	l, err := dataDir(p("log")).openLog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	srv := httptest.NewServer(httpapi.New(l, httpapi.Options{}))
	defer srv.Close()
	os.Mkdir(p("out"), 0o755)
	mustPakta(t, "submit", "--server", srv.URL, "--out", p("out"), enroll, pledgeJWS, p("pledge2.jws"))

	defer func(n int) { pledgesPageLimit = n }(pledgesPageLimit)
	pledgesPageLimit = 1
	today := time.Now().In(time.FixedZone("WITA", 8*3600)).Format("2006-01-02")
	got := mustPakta(t, "get", "--server", srv.URL, "--key", p("log/registrar.jwk"), "--nip", "198703152010011002", "--date", today)
	var out struct {
		Bundles []json.RawMessage `json:"bundles"`
	}
	if err := json.Unmarshal([]byte(got), &out); err != nil || len(out.Bundles) != 2 {
		t.Fatalf("get --nip over pages of 1: %v\n%s", err, got)
	}
	write(t, p("roster.csv"), "nip,name,unit\n198703152010011002,Budi Santoso,Bagian Umum\n")
	got = mustPakta(t, "report", "--server", srv.URL, "--key", p("log/registrar.jwk"), "--policy", dataDir(p("log")).policy(), "--roster", p("roster.csv"), "--date", today, "--json")
	if !strings.Contains(got, `"pledges": 2`) {
		t.Fatalf("report --server over pages of 1:\n%s", got)
	}
}
