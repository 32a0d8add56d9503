package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pakta-id/pakta/ledger/httpapi"
)

// TestVerifyHistoryFromServer: verify --history --server reads the
// signer's history over HTTP (every page) and prints it beside the report,
// marked as outside the bundle's proof.
func TestVerifyHistoryFromServer(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	enroll, pledgeJWS := setup(t, dir)
	mustPakta(t, "submit", "--dir", p("log"), "--out", dir, enroll, pledgeJWS) // 1, 2
	l, err := dataDir(p("log")).openLog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	srv := httptest.NewServer(httpapi.New(l, httpapi.Options{}))
	defer srv.Close()
	out := mustPakta(t, "verify", "--lang", "en", "--policy", p("log/policy.json"), "--history", "--server", srv.URL, "--key", p("log/registrar.jwk"), p("2.pakta.json"))
	for _, want := range []string{
		"The signer's history in the log",
		"UTC): key enrolled (index 1): key ", // the bundle's own row, proved
		"UTC): pledge (index 2): template netralitas-2024, Pemilu 2024",
		"(its bundle verifies) [this bundle]",
		"Rows marked * come from the log's history of the person",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verify --history --server lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.Contains(line, "key enrolled (index 1)") && !strings.HasPrefix(line, "- "):
			t.Errorf("the bundle's own enrollment is listed as outside the proof: %s", line)
		case strings.Contains(line, "pledge (index 2)") && !strings.HasPrefix(line, "* "):
			t.Errorf("the history's row is not marked as outside the proof: %s", line)
		}
	}
	if strings.Count(out, "(index 1)") != 1 {
		t.Errorf("the bundle's own enrollment is listed twice:\n%s", out)
	}
}
