package verify

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// testBundle returns a real bundle: the entry at index 7 and the enrollment at
// index 2 of a 10-entry log, both proved under the same signed checkpoint.
func testBundle(t *testing.T) (*Bundle, note.Verifier) {
	t.Helper()
	signer, verifier := newTestKey(t, testOrigin)
	l := newTestLog(t, 10)
	signed := l.signedCheckpoint(t, signer)
	return &Bundle{
		Entry: l.entries[7],
		Proof: string(l.proof(t, 7, signed).Marshal()),
		Key: KeyEvidence{Enrollment: &EntryProof{
			Entry: l.entries[2],
			Proof: string(l.proof(t, 2, signed).Marshal()),
		}},
		Template: &EntryProof{
			Entry: l.entries[0],
			Proof: string(l.proof(t, 0, signed).Marshal()),
		},
	}, verifier
}

func TestBundleMarshal(t *testing.T) {
	b, verifier := testBundle(t)
	got, err := b.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	want := `{"v":2,"entry":"` + base64.StdEncoding.EncodeToString(b.Entry) +
		`","proof":` + strconv.Quote(b.Proof) +
		`,"key":{"enrollment":{"entry":"` + base64.StdEncoding.EncodeToString(b.Key.Enrollment.Entry) +
		`","proof":` + strconv.Quote(b.Key.Enrollment.Proof) + `}}` +
		`,"template":{"entry":"` + base64.StdEncoding.EncodeToString(b.Template.Entry) +
		`","proof":` + strconv.Quote(b.Template.Proof) + `}}`
	// The proof text is ASCII plus the em dash, which JSON and strconv.Quote
	// both write raw, so strconv.Quote spells the JSON string here.
	if string(got) != want {
		t.Fatalf("Marshal =\n%s\nwant\n%s", got, want)
	}
	parsed, err := ParseBundle(got)
	if err != nil {
		t.Fatalf("ParseBundle(Marshal): %v", err)
	}
	again, err := parsed.Marshal()
	if err != nil || !bytes.Equal(again, got) {
		t.Fatalf("Marshal(ParseBundle(Marshal(b))) differs: %v\n%s", err, again)
	}
	// The evidence it carries verifies.
	for _, ep := range []EntryProof{{Entry: parsed.Entry, Proof: parsed.Proof}, *parsed.Key.Enrollment, *parsed.Template} {
		p, err := ParseProof([]byte(ep.Proof))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Verify(ep.Entry, testOrigin, verifier); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	}
}

func TestBundleX5C(t *testing.T) {
	b, _ := testBundle(t)
	b.Key.Enrollment = nil
	b.Template = nil
	got, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(got, []byte(`,"key":{}}`)) {
		t.Fatalf("Marshal = %s, want key {}", got)
	}
	parsed, err := ParseBundle(got)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Key.Enrollment != nil {
		t.Fatalf("Enrollment = %+v, want nil", parsed.Key.Enrollment)
	}
}

func TestParseBundleLenient(t *testing.T) {
	b, _ := testBundle(t)
	compact, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	entry := base64.StdEncoding.EncodeToString(b.Entry)
	enr := base64.StdEncoding.EncodeToString(b.Key.Enrollment.Entry)
	// Reformatted by hand: whitespace, other member order, escapes.
	reformatted := "\r\n\t{ \"template\": {\"proof\": " + strconv.Quote(b.Template.Proof) + ", \"entry\": \"" +
		base64.StdEncoding.EncodeToString(b.Template.Entry) + "\"},\n \"key\" : {\n  \"enrollment\": {\"proof\": " + strconv.Quote(b.Key.Enrollment.Proof) +
		", \"entry\": \"" + enr + "\"}},\n  \"proof\": " + strconv.QuoteToASCII(b.Proof) +
		",\n  \"entry\": \"" + strings.ReplaceAll(entry, "/", `\/`) + "\",\n  \"v\": 2\n}\n "
	parsed, err := ParseBundle([]byte(reformatted))
	if err != nil {
		t.Fatalf("ParseBundle(reformatted): %v\n%s", err, reformatted)
	}
	got, err := parsed.Marshal()
	if err != nil || !bytes.Equal(got, compact) {
		t.Fatalf("Marshal(ParseBundle(reformatted)) = %s, %v\nwant %s", got, err, compact)
	}
}

func TestParseBundleRejects(t *testing.T) {
	b, _ := testBundle(t)
	good, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	g := string(good)
	entry := base64.StdEncoding.EncodeToString(b.Entry)
	enr := base64.StdEncoding.EncodeToString(b.Key.Enrollment.Entry)
	proofJSON := strconv.Quote(b.Proof)
	keyJSON := g[strings.Index(g, `"key":`)+len(`"key":`) : strings.Index(g, `,"template":`)]
	tmplJSON := g[strings.Index(g, `"template":`)+len(`"template":`) : len(g)-1]
	tmpl := base64.StdEncoding.EncodeToString(b.Template.Entry)
	nonCanonicalEntry := `{"v":1, "logged_at":"2023-11-27T00:15:01.123Z","jws":"a.b.c"}`

	tests := []struct{ name, in, want string }{
		{"unknown top-level member", strings.Replace(g, `{"v":2,`, `{"v":2,"x":0,`, 1), `unknown object member name "x"`},
		{"unknown key member", strings.Replace(g, `"key":{`, `"key":{"x5c":[],`, 1), `unknown object member name "x5c"`},
		{"unknown enrollment member", strings.Replace(g, `{"enrollment":{`, `{"enrollment":{"index":2,`, 1), `unknown object member name "index"`},
		{"member name in other case", strings.Replace(g, `"v":2`, `"V":1`, 1), `unknown object member name "V"`},
		{"duplicate v", strings.Replace(g, `{"v":2,`, `{"v":2,"v":2,`, 1), `duplicate object member name "v"`},
		{"duplicate entry", strings.Replace(g, `"proof":`, `"entry":"`+entry+`","proof":`, 1), `duplicate object member name "entry"`},
		{"missing v", strings.Replace(g, `"v":2,`, ``, 1), "v: missing"},
		{"missing entry", strings.Replace(g, `"entry":"`+entry+`",`, ``, 1), "entry: missing"},
		{"missing proof", strings.Replace(g, `"proof":`+proofJSON+`,`, ``, 1), "proof: missing"},
		{"missing key", strings.Replace(g, `,"key":`+keyJSON, ``, 1), "key: missing"},
		{"missing enrollment entry", strings.Replace(g, `"entry":"`+enr+`",`, ``, 1), "key.enrollment.entry: missing"},
		{"null key", strings.Replace(g, `"key":`+keyJSON, `"key":null`, 1), "key: null"},
		{"null enrollment", strings.Replace(g, `"key":`+keyJSON, `"key":{"enrollment":null}`, 1), "key.enrollment: null"},
		{"v 1 (before templates)", strings.Replace(g, `"v":2`, `"v":1`, 1), "v: unsupported version 1"},
		{"v 3", strings.Replace(g, `"v":2`, `"v":3`, 1), "v: unsupported version 3"},
		{"v as string", strings.Replace(g, `"v":2`, `"v":"2"`, 1), "/v"},
		{"v 2.0", strings.Replace(g, `"v":2`, `"v":2.0`, 1), "/v"},
		{"unknown template member", strings.Replace(g, `"template":{`, `"template":{"id":"x",`, 1), `unknown object member name "id"`},
		{"null template", strings.Replace(g, `"template":`+tmplJSON, `"template":null`, 1), "template: null"},
		{"missing template entry", strings.Replace(g, `"entry":"`+tmpl+`",`, ``, 1), "template.entry: missing"},
		{"template entry not canonical base64", strings.Replace(g, tmpl, tmpl[:len(tmpl)-2]+"B=", 1), "template.entry: "},
		{"entry without padding", strings.Replace(g, entry, strings.TrimRight(entry, "="), 1), "entry: invalid base64"},
		{"entry base64url", strings.Replace(g, entry, entry[:5]+"-"+entry[6:], 1), "entry: invalid base64"},
		{"entry with line break", strings.Replace(g, entry, entry[:8]+`\n`+entry[8:], 1), "entry: base64"},
		{"enrollment entry not canonical base64", strings.Replace(g, enr, enr[:len(enr)-2]+"B=", 1), "key.enrollment.entry: "},
		{"entry not a canonical entry", strings.Replace(g, entry, base64.StdEncoding.EncodeToString([]byte(nonCanonicalEntry)), 1), "entry: not in canonical form"},
		{"empty entry", strings.Replace(g, entry, "", 1), "entry: "},
		{"proof not a proof", strings.Replace(g, proofJSON, `"hello"`, 1), "proof: first line"},
		{"enrollment proof with trailing garbage", strings.Replace(g, `"}},"template"`, `garbage"}},"template"`, 1), "key.enrollment.proof: checkpoint"},
		{"template proof with trailing garbage", g[:len(g)-3] + `garbage"}}`, "template.proof: checkpoint"},
		{"entry is a number", strings.Replace(g, `"entry":"`+entry+`"`, `"entry":1`, 1), "/entry"},
		{"invalid UTF-8", strings.Replace(g, `"proof":"c2sp`, "\"proof\":\"\xffc2sp", 1), "invalid UTF-8"},
		{"trailing garbage", g + "x", "invalid character"},
		{"second object", g + "{}", "invalid character"},
		{"truncated", g[:len(g)-1], "EOF"},
		{"too large", g + strings.Repeat(" ", MaxBundleSize), "more than 1048576"},
		{"empty object", `{}`, "v: missing"},
		{"unclosed object", `{`, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseBundle([]byte(tt.in))
			if err == nil {
				t.Fatalf("ParseBundle = %+v, want error containing %q", got, tt.want)
			}
			if errors.Is(err, ErrNotJSONObject) {
				t.Fatalf("ParseBundle error %v is ErrNotJSONObject", err)
			}
			if !strings.HasPrefix(err.Error(), "verify: bundle: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseBundle error %q, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseBundleNotJSONObject(t *testing.T) {
	for _, in := range []string{"", " \n\t", "[]", `"v"`, "1", "null", "c2sp.org/tlog-proof@v1\n", "\xef\xbb\xbf{}", "\x00{}", "\v{}"} {
		if _, err := ParseBundle([]byte(in)); !errors.Is(err, ErrNotJSONObject) {
			t.Errorf("ParseBundle(%q) error = %v, want ErrNotJSONObject", in, err)
		}
	}
}

func TestBundleMarshalRefusesInvalid(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(b *Bundle)
		want   string
	}{
		{"empty entry", func(b *Bundle) { b.Entry = nil }, "verify: bundle: entry: "},
		{"non-canonical entry", func(b *Bundle) { b.Entry = append(b.Entry, ' ') }, "verify: bundle: entry: "},
		{"bad proof", func(b *Bundle) { b.Proof += "x" }, "verify: bundle: proof: "},
		{"bad enrollment proof", func(b *Bundle) { b.Key.Enrollment.Proof = "" }, "verify: bundle: key.enrollment.proof: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := testBundle(t)
			tt.mutate(b)
			if _, err := b.Marshal(); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("Marshal error = %v, want prefix %q", err, tt.want)
			}
		})
	}
}
