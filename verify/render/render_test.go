package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/language"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

var update = flag.Bool("update", false, "rewrite the golden reports in testdata/reports")

const vectors = "../../testdata/bundles"

// goldenCases are the passing pledge (with its claim), a late one, and one
// vector failing each check, by the check's id.
var goldenCases = []struct {
	name, file string
	claim      *verify.Claim
	fails      string // the check that fails, "" for a pass
}{
	{"pass", "pledge-eddsa.pakta.json", &verify.Claim{Scheme: "nip", ID: "198703152010011002", Date: "2023-11-27", Template: "netralitas-2024", Election: "Pemilu 2024"}, ""},
	{"pass-late-wit", "pledge-wit-midnight.pakta.json", nil, ""},
	{"fail-bundle", "bundle-truncated.pakta.json", nil, verify.CheckBundle},
	{"fail-checkpoint", "checkpoint-other-log.pakta.json", nil, verify.CheckCheckpoint},
	{"fail-inclusion", "inclusion-entry-flipped-byte.pakta.json", nil, verify.CheckInclusion},
	{"fail-signature", "signature-invalid.pakta.json", nil, verify.CheckSignature},
	{"fail-key", "key-signer-name-differs.pakta.json", nil, verify.CheckKey},
	{"fail-template", "template-other-wording.pakta.json", nil, verify.CheckTemplate},
	// Its place holds U+202E (a right-to-left override): escaped in every format.
	{"fail-statement", "statement-text-hygiene.pakta.json", nil, verify.CheckStatement},
	{"fail-time", "time-signed-after-logged.pakta.json", nil, verify.CheckTime},
	{"fail-claim", "pledge-eddsa.pakta.json", &verify.Claim{Scheme: "nip", ID: "198703152010011002", Date: "2023-11-26"}, verify.CheckClaim},
}

func policy(t testing.TB) *verify.Policy {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectors, "policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := verify.ParsePolicy(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func report(t testing.TB, p *verify.Policy, file string, claim *verify.Claim) *verify.Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectors, file))
	if err != nil {
		t.Fatal(err)
	}
	r, err := verify.VerifyBytes(b, p, claim)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "reports", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./verify/render -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./verify/render -update rewrites it); got:\n%s", name, got)
	}
}

func TestGoldenReports(t *testing.T) {
	p := policy(t)
	covered := map[string]bool{}
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			r := report(t, p, c.file, c.claim)
			if c.fails == "" {
				if !r.Passed() {
					t.Fatalf("want a pass:\n%s", r.Text())
				}
			} else if f := r.Failed(); f == nil || f.ID != c.fails {
				t.Fatalf("want [%s] to fail:\n%s", c.fails, r.Text())
			}
			covered[c.fails] = true
			for _, lang := range []language.Tag{verify.Indonesian, verify.English} {
				o := Options{Lang: lang}
				for _, f := range []Format{Text, HTML} {
					var b bytes.Buffer
					if err := Write(&b, f, r, o); err != nil {
						t.Fatal(err)
					}
					onlyGraphic(t, b.String())
					golden(t, c.name+"."+lang.String()+"."+map[Format]string{Text: "txt", HTML: "html"}[f], b.Bytes())
				}
			}
		})
	}
	for _, id := range []string{verify.CheckBundle, verify.CheckCheckpoint, verify.CheckInclusion, verify.CheckSignature,
		verify.CheckKey, verify.CheckTemplate, verify.CheckStatement, verify.CheckTime, verify.CheckClaim} {
		if !covered[id] {
			t.Errorf("no golden report fails [%s]", id)
		}
	}
}

// onlyGraphic fails if out holds a character that is neither graphic nor a
// line break: nothing from an entry reaches the output raw.
func onlyGraphic(t *testing.T, out string) {
	t.Helper()
	for i, r := range out {
		if r != '\n' && !unicode.IsGraphic(r) {
			t.Fatalf("raw %U at byte %d: %q", r, i, out[max(0, i-40):min(len(out), i+40)])
		}
	}
}

// hostile is a passing report whose entry holds every kind of text a
// renderer must not print raw: controls (a terminal escape, a carriage
// return), a right-to-left override, a line separator, HTML, and
// characters outside Latin-1. The log refuses such text (text hygiene), so
// only a forged or future report would hold it; the renderers must cope
// all the same.
func hostile(t testing.TB) *verify.Report {
	t.Helper()
	r := report(t, policy(t), "pledge-eddsa.pakta.json", nil)
	f := *r.Entry
	signer := *f.Signer
	signer.Name = "Andi\x1b[2J\r\u202eamatarP <script>alert(1)</script>\u2028Ω 王"
	signer.Unit = "Bagian\x00Umum"
	f.Signer = &signer
	f.Place = "Mamuju\u202e"
	f.Text = "PAKTA\n1. netral\x07\n2. <b>tegas</b> \u200f"
	r.Entry = &f
	return r
}

func TestEscaped(t *testing.T) {
	r := hostile(t)
	o := Options{Lang: verify.Indonesian, Address: "https://pakta.example/v1/entries/6\x1b[0m", History: []HistoryRow{
		{Index: 12, Type: pledge.TypeRevocation, LoggedAt: "2024-01-05T03:00:00.000Z", Detail: "kunci hilang\x1b[31m\u202e"},
	}}
	for _, f := range []Format{Text, HTML, JSON} {
		var b bytes.Buffer
		if err := Write(&b, f, r, o); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		onlyGraphic(t, out)
		if f == JSON {
			var v map[string]any
			if err := json.Unmarshal(b.Bytes(), &v); err != nil {
				t.Fatal(err)
			}
			continue
		}
		for _, want := range []string{`Andi\x1b[2J\r\u202eamatarP`, `\u2028Ω 王`, `Bagian\x00Umum`, `Mamuju\u202e`, `netral\a`, `kunci hilang\x1b[31m\u202e`} {
			if f == HTML {
				want = strings.ReplaceAll(want, "<", "&lt;")
			}
			if !strings.Contains(out, want) {
				t.Errorf("%s: no %q in:\n%s", f, want, out)
			}
		}
		if f == HTML && (strings.Contains(out, "<script>") || strings.Contains(out, "<b>tegas")) {
			t.Errorf("html: markup from the entry is live:\n%s", out)
		}
	}
}
