package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pakta-id/pakta/ledger/httpapi"
)

// TestEnrollRequestApprove drives the path in which only the employee holds
// the employee's key, through the CLI against the real HTTP API over a real
// log: enroll request (the key made on the "device"), enroll pending and
// enroll approve (the registrar countersigns locally), ending with a bundle
// that pakta verify passes and a pledge signed with the new key.
func TestEnrollRequestApprove(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	mustPakta(t, "init", "--dir", p("log"), "--origin", "pakta.test/log")
	write(t, p("person.json"), testPerson)
	write(t, p("text.txt"), "Saya menjaga netralitas.\n")
	write(t, p("pledge.json"), `{"signer": `+testPerson+`, "template": "netralitas-2024", "election": "Pemilu 2024", "place": "Mamuju", "tz": "WITA"}`)
	mustPakta(t, "sign", "template", "--key", p("log/registrar.jwk"), "--id", "netralitas-2024", "--election", "Pemilu 2024", "--agency", "7601", "--text", p("text.txt"), "--out", p("template.jws"))
	mustPakta(t, "submit", "--dir", p("log"), "--out", dir, p("template.jws"))

	logDir := dataDir(p("log"))
	l, err := logDir.openLog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	srv := httptest.NewServer(httpapi.New(l, httpapi.Options{}))
	defer srv.Close()

	// The employee's device: the key is made here, 0600, and never sent.
	out := mustPakta(t, "enroll", "request", "--server", srv.URL, "--key", p("budi.jwk"), "--form", p("person.json"), "--tz", "WITA")
	m := regexp.MustCompile(`\n    ([0-9]) ([0-9]) ([0-9]) - ([0-9]) ([0-9]) ([0-9])\n`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "Key: ") {
		t.Fatalf("enroll request printed:\n%s", out)
	}
	code := strings.Join(m[1:4], "") + "-" + strings.Join(m[4:7], "")
	if st, err := os.Stat(p("budi.jwk")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the new key file: %v, %v", st, err)
	}
	again := mustPakta(t, "enroll", "request", "--server", srv.URL, "--key", p("budi.jwk"), "--form", p("person.json"), "--tz", "WITA", "--json")
	if !strings.Contains(again, `"code": "`+code+`"`) || !strings.Contains(again, `"created": false`) {
		t.Fatalf("the same key again: %s", again)
	}

	// The registrar lists and approves, signing every read with its key.
	pending := mustPakta(t, "enroll", "pending", "--server", srv.URL, "--registrar-key", p("log/registrar.jwk"))
	if !strings.Contains(pending, code) || !strings.Contains(pending, `"Budi Santoso"`) {
		t.Fatalf("enroll pending:\n%s", pending)
	}
	code2, _, stderr := pakta(t, "enroll", "approve", "--server", srv.URL, "--registrar-key", p("log/registrar.jwk"), code)
	if code2 != exitUsage || !strings.Contains(stderr, "not a terminal") || !strings.Contains(stderr, `"Budi Santoso"`) {
		t.Fatalf("approve without --yes and no terminal: exit %d\n%s", code2, stderr)
	}
	mustPakta(t, "keygen", "--out", p("stranger.jwk"))
	if c, _, stderr := pakta(t, "enroll", "approve", "--server", srv.URL, "--registrar-key", p("stranger.jwk"), "--yes", code); c != exitFailure || !strings.Contains(stderr, "401") {
		t.Fatalf("approve with a key the log does not know: exit %d\n%s", c, stderr)
	}
	got := mustPakta(t, "enroll", "approve", "--server", srv.URL, "--registrar-key", p("log/registrar.jwk"), "--yes", "--out", p("enrollment.pakta.json"), code)
	if !strings.Contains(got, "approved "+code+": enrolled nip 198703152010011002 at index 1") {
		t.Fatalf("enroll approve: %s", got)
	}
	mustPakta(t, "verify", "--policy", logDir.policy(), p("enrollment.pakta.json"))

	// The device learns it was approved, and signs pledges.
	resp, err := http.Get(srv.URL + "/v1/enrollment-requests/" + code)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(b)) != `{"status":"approved"}` {
		t.Fatalf("status after approval: %s", b)
	}
	if got := mustPakta(t, "enroll", "pending", "--server", srv.URL, "--registrar-key", p("log/registrar.jwk")); !strings.Contains(got, "no pending") {
		t.Fatalf("pending after approval: %s", got)
	}
	mustPakta(t, "sign", "--key", p("budi.jwk"), "--form", p("pledge.json"), "--text", p("text.txt"), "--out", p("pledge.jws"))
	mustPakta(t, "submit", "--server", srv.URL, "--out", dir, p("pledge.jws"))
	mustPakta(t, "verify", "--policy", logDir.policy(), p("2.pakta.json"))
}
