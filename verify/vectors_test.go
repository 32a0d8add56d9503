package verify

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The bundle vectors are made by the ledger's tests (go test ./ledger -run
// TestBundleVectors -update-vectors): verify may not import the ledger.

var updateGolden = flag.Bool("update-golden", false, "rewrite the golden report in ../testdata/bundles")

const bundleVectors = "../testdata/bundles"

// vectorCase is one case of vectors.json (see ledger/vectors_test.go).
type vectorCase struct {
	Name          string `json:"name"`
	File          string `json:"file"`
	Claim         *Claim `json:"claim"`
	Expect        string `json:"expect"`
	Reason        string `json:"reason"`
	Deterministic bool   `json:"deterministic"`
	How           string `json:"how"`
}

type vectorManifest struct {
	About  string       `json:"about"`
	Policy string       `json:"policy"`
	Cases  []vectorCase `json:"cases"`
}

func readVectors(t testing.TB) (*vectorManifest, *Policy) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(bundleVectors, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := stdjson.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m vectorManifest
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("vectors.json: %v", err)
	}
	pb, err := os.ReadFile(filepath.Join(bundleVectors, m.Policy))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePolicy(pb)
	if err != nil {
		t.Fatal(err)
	}
	return &m, p
}

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(bundleVectors, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var checkOrder = []string{CheckBundle, CheckCheckpoint, CheckInclusion, CheckSignature, CheckKey, CheckTemplate, CheckStatement, CheckTime, CheckClaim}

func TestBundleVectors(t *testing.T) {
	m, policy := readVectors(t)
	if len(m.Cases) < 25 {
		t.Fatalf("only %d cases", len(m.Cases))
	}
	seen := map[string]bool{}
	tripped := map[string]bool{}
	for _, c := range m.Cases {
		t.Run(c.Name, func(t *testing.T) {
			if seen[c.Name] {
				t.Fatalf("case %s twice", c.Name)
			}
			seen[c.Name] = true
			r, err := VerifyBytes(readVector(t, c.File), policy, c.Claim)
			if c.Expect == "error" {
				if !errors.Is(err, ErrNotJSONObject) {
					t.Fatalf("VerifyBytes error = %v, want ErrNotJSONObject", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tripped[c.Expect] = true
			// Every check has its line, in order, the claim only when asked.
			want := checkOrder[:8]
			if c.Claim != nil {
				want = checkOrder
			}
			var ids []string
			for _, ch := range r.Checks {
				ids = append(ids, ch.ID)
				if ch.Reason == "" {
					t.Errorf("check %s has no reason", ch.ID)
				}
			}
			if !slices.Equal(ids, want) {
				t.Fatalf("checks %v, want %v", ids, want)
			}
			f := r.Failed()
			if c.Expect == Pass {
				if f != nil || !r.Passed() || r.Entry == nil {
					t.Fatalf("want pass, got:\n%s", r.Text())
				}
				return
			}
			if f == nil || r.Passed() || r.Entry != nil {
				t.Fatalf("want the %s check to fail, got:\n%s", c.Expect, r.Text())
			}
			if f.ID != c.Expect || !strings.Contains(f.Reason, c.Reason) {
				t.Fatalf("first failing check [%s] %s\nwant [%s] containing %q", f.ID, f.Reason, c.Expect, c.Reason)
			}
			// Nothing half-verifies: every check after the first failure
			// is a failure too (not run).
			after := false
			for _, ch := range r.Checks {
				if after && (ch.Pass || !strings.Contains(ch.Reason, "not checked")) {
					t.Errorf("check %s after the failure: %+v", ch.ID, ch)
				}
				after = after || !ch.Pass
			}
			t.Logf("[%s] %s", f.ID, f.Reason)
		})
	}
	for _, id := range append([]string{Pass}, checkOrder...) {
		if !tripped[id] {
			t.Errorf("no vector expects %q", id)
		}
	}
	// Every vector file is in the manifest.
	files, _ := filepath.Glob(filepath.Join(bundleVectors, "*.pakta.json"))
	for _, f := range files {
		found := false
		for _, c := range m.Cases {
			found = found || c.File == filepath.Base(f)
		}
		if !found {
			t.Errorf("%s is in no case of vectors.json", f)
		}
	}
}

// TestReportJSONShape pins the JSON field names of a report: they are an API.
func TestReportJSONShape(t *testing.T) {
	_, policy := readVectors(t)
	r, err := VerifyBytes(readVector(t, "pledge-eddsa.pakta.json"), policy, &Claim{Scheme: "nip", ID: "198703152010011002", Date: "2023-11-27"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.MarshalJSONIndent()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]stdjson.RawMessage
	if err := stdjson.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	keysOf := func(m map[string]stdjson.RawMessage) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	if ks := keysOf(got); !slices.Equal(ks, []string{"checks", "entry", "not_proven", "verdict"}) {
		t.Fatalf("report members %v", ks)
	}
	if string(got["verdict"]) != `"pass"` {
		t.Fatalf("verdict %s", got["verdict"])
	}
	var checks []map[string]stdjson.RawMessage
	if err := stdjson.Unmarshal(got["checks"], &checks); err != nil {
		t.Fatal(err)
	}
	if len(checks) != 9 {
		t.Fatalf("%d checks", len(checks))
	}
	for i, c := range checks {
		if ks := keysOf(c); !slices.Equal(ks, []string{"id", "pass", "reason"}) {
			t.Fatalf("check %d members %v", i, ks)
		}
		if string(c["id"]) != `"`+checkOrder[i]+`"` || string(c["pass"]) != "true" {
			t.Fatalf("check %d: %s %s", i, c["id"], c["pass"])
		}
	}
	var entry map[string]stdjson.RawMessage
	if err := stdjson.Unmarshal(got["entry"], &entry); err != nil {
		t.Fatal(err)
	}
	wantEntry := []string{"date", "election", "index", "key", "kid", "logged_at", "logged_at_local", "origin", "place", "published", "root", "signed_at", "signed_at_utc", "signer", "template", "text", "tree_size", "type", "zone"}
	if ks := keysOf(entry); !slices.Equal(ks, wantEntry) {
		t.Fatalf("entry members %v, want %v", ks, wantEntry)
	}
	for k, want := range map[string]string{
		"origin": `"pakta.example/vectors"`, "index": "6", "type": `"pledge"`, "date": `"2023-11-27"`,
		"signed_at": `"2023-11-27T08:15:00+08:00"`, "logged_at": `"2023-11-27T01:00:06.000Z"`, "template": `"netralitas-2024"`,
	} {
		if string(entry[k]) != want {
			t.Errorf("entry.%s = %s, want %s", k, entry[k], want)
		}
	}
	var signer map[string]stdjson.RawMessage
	if err := stdjson.Unmarshal(entry["signer"], &signer); err != nil {
		t.Fatal(err)
	}
	if string(signer["scheme"]) != `"nip"` || string(signer["id"]) != `"198703152010011002"` {
		t.Errorf("signer %s", entry["signer"])
	}

	// A failed report has no entry facts, and says fail.
	r, err = VerifyBytes(readVector(t, "inclusion-hash-flipped.pakta.json"), policy, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = r.MarshalJSONIndent()
	got = nil
	if err := stdjson.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if ks := keysOf(got); !slices.Equal(ks, []string{"checks", "not_proven", "verdict"}) || string(got["verdict"]) != `"fail"` {
		t.Fatalf("failed report: %s", b)
	}
}

// TestReportText pins the text rendering of a passing report.
func TestReportText(t *testing.T) {
	_, policy := readVectors(t)
	r, err := VerifyBytes(readVector(t, "pledge-eddsa.pakta.json"), policy, &Claim{Scheme: "nip", ID: "198703152010011002", Date: "2023-11-27"})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join(bundleVectors, "report-pledge-eddsa.txt")
	if *updateGolden {
		if err := os.WriteFile(golden, []byte(r.Text()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readVector(t, "report-pledge-eddsa.txt")
	if got := r.Text(); got != string(want) {
		t.Fatalf("report text differs from %s (run with -update-golden if intended):\n%s", golden, got)
	}
}
