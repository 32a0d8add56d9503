package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pakta-id/pakta/ledger/httpapi"
)

// pakta runs the CLI in-process and returns its exit code and output.
func pakta(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func mustPakta(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := pakta(t, args...)
	if code != 0 {
		t.Fatalf("pakta %s: exit %d\n%s", strings.Join(args, " "), code, errs)
	}
	return out
}

const testPerson = `{"scheme": "nip", "id": "198703152010011002", "name": "Budi Santoso", "unit": "Bagian Umum",
 "agency": {"code": "7601", "name": "Pemerintah Kabupaten Mamuju"}, "employment": "PNS"}`

// setup makes a log in dir/log whose first entry is the template
// netralitas-2024, and returns the paths of an employee's enrollment and
// pledge JWS, not yet submitted.
func setup(t *testing.T, dir string) (enroll, pledgeJWS string) {
	t.Helper()
	p := func(name string) string { return filepath.Join(dir, name) }
	mustPakta(t, "init", "--dir", p("log"), "--origin", "pakta.test/log")
	mustPakta(t, "keygen", "--out", p("budi.jwk"))
	write(t, p("person.json"), testPerson)
	write(t, p("pledge.json"), `{"signer": `+testPerson+`, "template": "netralitas-2024", "election": "Pemilu 2024", "place": "Mamuju", "tz": "WITA"}`)
	write(t, p("text.txt"), "Saya menjaga netralitas.\n")
	mustPakta(t, "sign", "template", "--key", p("log/registrar.jwk"), "--id", "netralitas-2024", "--election", "Pemilu 2024", "--agency", "7601", "--text", p("text.txt"), "--out", p("template.jws"))
	mustPakta(t, "submit", "--dir", p("log"), "--out", dir, p("template.jws"))
	mustPakta(t, "enroll", "--registrar-key", p("log/registrar.jwk"), "--key", p("budi.jwk"), "--form", p("person.json"), "--out", p("enroll.jws"))
	mustPakta(t, "sign", "--key", p("budi.jwk"), "--form", p("pledge.json"), "--text", p("text.txt"), "--out", p("pledge.jws"))
	return p("enroll.jws"), p("pledge.jws")
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSubmitRefusesLogInUse(t *testing.T) {
	dir := t.TempDir()
	enroll, _ := setup(t, dir)
	l, err := dataDir(filepath.Join(dir, "log")).openLog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	code, _, stderr := pakta(t, "submit", "--dir", filepath.Join(dir, "log"), "--out", dir, enroll)
	if code != exitFailure || !strings.Contains(stderr, "in use") || !strings.Contains(stderr, "--server") {
		t.Fatalf("submit to a log in use: exit %d, stderr %q; want exit 1 naming the lock and --server", code, stderr)
	}
}

// TestServer drives submit, get, proof, report and audit with --server
// against the real HTTP API (ledger/httpapi) over a real log.
func TestServer(t *testing.T) {
	dir := t.TempDir()
	enroll, pledgeJWS := setup(t, dir)
	logDir := dataDir(filepath.Join(dir, "log"))
	// An auditor, who reads everything (entry tiles included).
	mustPakta(t, "keygen", "--out", filepath.Join(dir, "inspektorat.jwk"))
	mustPakta(t, "policy", "add-reader", "--policy", logDir.policy(), "--name", "Inspektorat", "--role", "auditor", "--key", filepath.Join(dir, "inspektorat.jwk"))
	l, err := logDir.openLog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	srv := httptest.NewServer(httpapi.New(l, httpapi.Options{}))
	defer srv.Close()
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)

	got := mustPakta(t, "submit", "--server", srv.URL, "--out", out, enroll, pledgeJWS)
	if !strings.Contains(got, "enroll.jws: logged at index 1") || !strings.Contains(got, "pledge.jws: logged at index 2") {
		t.Fatalf("submit --server:\n%s", got)
	}
	got = mustPakta(t, "submit", "--server", srv.URL, "--out", out, "--json", pledgeJWS)
	if !strings.Contains(got, `"duplicate": true`) {
		t.Fatalf("submit --server of a duplicate:\n%s", got)
	}
	mustPakta(t, "verify", "--policy", logDir.policy(), filepath.Join(out, "2.pakta.json"))

	// Bundles name people: a read without a key is refused, and says to
	// give one.
	if code, _, stderr := pakta(t, "get", "--server", srv.URL, "2"); code != exitFailure || !strings.Contains(stderr, "401") || !strings.Contains(stderr, "--key") {
		t.Fatalf("get --server without --key: exit %d, %s", code, stderr)
	}
	reg := logDir.registrar()
	bundle := mustPakta(t, "get", "--server", srv.URL, "--key", reg, "2")
	write(t, filepath.Join(dir, "got.json"), bundle)
	mustPakta(t, "verify", "--policy", logDir.policy(), filepath.Join(dir, "got.json"))

	today := time.Now().In(time.FixedZone("WITA", 8*3600)).Format("2006-01-02")
	got = mustPakta(t, "get", "--server", srv.URL, "--key", reg, "--nip", "198703152010011002", "--date", today)
	if !strings.HasPrefix(got, `{"bundles":[{"v":2,`) {
		t.Fatalf("get --nip --server: %s", got)
	}
	if code, _, stderr := pakta(t, "get", "--server", srv.URL, "--key", reg, "7"); code != exitFailure || !strings.Contains(stderr, "404") {
		t.Fatalf("get --server past the end: exit %d, %s", code, stderr)
	}

	got = mustPakta(t, "proof", "--server", srv.URL, "--from", "1", "--json")
	if !strings.Contains(got, `"to": 3`) {
		t.Fatalf("proof --server: %s", got)
	}

	write(t, filepath.Join(dir, "roster.csv"), "nip,name,unit\n198703152010011002,Budi Santoso,Bagian Umum\n199001012015032001,Siti,Bagian Umum\n")
	got = mustPakta(t, "report", "--server", srv.URL, "--key", reg, "--policy", logDir.policy(), "--roster", filepath.Join(dir, "roster.csv"), "--date", today)
	if !strings.Contains(got, "1 of 2 signed") {
		t.Fatalf("report --server:\n%s", got)
	}
	// A report's reads are signed for the policy's log: under another
	// policy, the server refuses them (and would the bundles, were they
	// read).
	mustPakta(t, "init", "--dir", filepath.Join(dir, "other"))
	if code, _, stderr := pakta(t, "report", "--server", srv.URL, "--key", reg, "--policy", filepath.Join(dir, "other", "policy.json"), "--roster", filepath.Join(dir, "roster.csv"), "--date", today); code != exitFailure || !strings.Contains(stderr, "read token is for log") {
		t.Fatalf("report --server under the wrong policy: exit %d, %s", code, stderr)
	}

	// A refusal carries the server's reason.
	mustPakta(t, "sign", "--key", filepath.Join(dir, "budi.jwk"), "--form", filepath.Join(dir, "pledge.json"), "--text", filepath.Join(dir, "text.txt"), "--out", filepath.Join(dir, "again.jws"))
	code, _, stderr := pakta(t, "submit", "--server", srv.URL, "--out", out, filepath.Join(dir, "again.jws"))
	if code != exitFailure || !strings.Contains(stderr, "refused: 409 Conflict") || !strings.Contains(stderr, "already pledged") {
		t.Fatalf("a conflicting submit --server: exit %d, %s", code, stderr)
	}
	// With public reads only, the audit checks the hash tiles and the
	// checkpoints; with a policy reader's key, every entry.
	got = mustPakta(t, "audit", "--server", srv.URL, "--policy", logDir.policy(), "-q")
	if !strings.Contains(got, "audit passed (public reads): 3 entries") || !strings.Contains(got, "entries not checked") {
		t.Fatalf("audit --server: %s", got)
	}
	if code, _, stderr := pakta(t, "audit", "--server", srv.URL, "--policy", logDir.policy(), "--key", reg, "-q"); code != exitFailure || !strings.Contains(stderr, "403") {
		t.Fatalf("audit --server with a registrar's key: exit %d, %s", code, stderr)
	}
	got = mustPakta(t, "audit", "--server", srv.URL, "--policy", logDir.policy(), "--key", filepath.Join(dir, "inspektorat.jwk"), "-q")
	if !strings.Contains(got, "audit passed: 3 entries (1 enrollment, 1 pledge, 1 template)") {
		t.Fatalf("audit --server --key: %s", got)
	}
	if code, _, stderr := pakta(t, "get", "--server", "ftp://x", "1"); code != exitUsage {
		t.Fatalf("get --server ftp://x: exit %d, %s", code, stderr)
	}
}
