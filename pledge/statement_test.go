package pledge

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestPledgeDateAndOffsets(t *testing.T) {
	tests := []struct {
		name, signedAt, date, wantErr string
	}{
		{"WITA morning", "2023-11-27T08:15:00+08:00", "2023-11-27", ""},
		{"WIB just before midnight", "2023-11-27T23:59:59+07:00", "2023-11-27", ""},
		{"WIB just after midnight", "2023-11-28T00:00:00+07:00", "2023-11-28", ""},
		{"WIT after midnight is the 27th though UTC says 26th", "2024-11-27T00:30:00+09:00", "2024-11-27", ""},
		{"WIT after midnight dated by UTC", "2024-11-27T00:30:00+09:00", "2024-11-26", "falls on 2024-11-27"},
		{"WITA 07:59 is the previous day in UTC", "2023-11-27T07:59:00+08:00", "2023-11-27", ""},
		{"UTC Z", "2023-11-27T00:15:00Z", "2023-11-27", ""},
		{"fractional seconds", "2023-11-27T08:15:00.123+08:00", "2023-11-27", ""},
		{"date a day off", "2023-11-27T08:15:00+08:00", "2023-11-28", "falls on 2023-11-27"},
		{"no offset", "2023-11-27T08:15:00", "2023-11-27", "RFC 3339"},
		{"date without zero padding", "2023-11-07T08:15:00+08:00", "2023-11-7", "not a date"},
		{"date 31 Nov", "2023-11-27T08:15:00+08:00", "2023-11-31", "not a date"},
		{"space instead of T", "2023-11-27 08:15:00+08:00", "2023-11-27", "RFC 3339"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPledge(t)
			p.SignedAt, p.Date = tt.signedAt, tt.date
			checkErr(t, p.Validate(), tt.wantErr)
		})
	}
}

func TestPledgeRules(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Pledge)
		wantErr string
	}{
		{"valid", func(*Pledge) {}, ""},
		{"text does not match hash", func(p *Pledge) { p.Text += " " }, "text: hashes to"},
		{"hash uppercase", func(p *Pledge) { p.Template.SHA256 = strings.ToUpper(p.Template.SHA256) }, "lowercase hex"},
		{"hash short", func(p *Pledge) { p.Template.SHA256 = "abcd" }, "64 lowercase hex"},
		{"missing election", func(p *Pledge) { p.Election = "" }, "election: missing"},
		{"missing place", func(p *Pledge) { p.Place = "" }, "place: missing"},
		{"missing id", func(p *Pledge) { p.ID = "" }, "id: missing"},
		{"id with spaces", func(p *Pledge) { p.ID = "a b" }, "UUID or ULID"},
		{"missing signer name", func(p *Pledge) { p.Signer.Name = "" }, "signer.name: missing"},
		{"missing agency code", func(p *Pledge) { p.Signer.Agency.Code = "" }, "signer.agency.code: missing"},
		{"bad employment", func(p *Pledge) { p.Signer.Employment = "pns" }, "signer.employment"},
		{"appointment after signing", func(p *Pledge) { p.Signer.ID = "198703152023121002" }, "in the future"},
		{"NIP gender 3", func(p *Pledge) { p.Signer.ID = "198703152010013002" }, "gender digit"},
		{"name with newline", func(p *Pledge) { p.Signer.Name = "A\nB" }, "control character"},
		{"wrong type", func(p *Pledge) { p.Type = "enrollment" }, "type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPledge(t)
			tt.mutate(p)
			checkErr(t, p.Validate(), tt.wantErr)
		})
	}
}

func TestParseStatementStrict(t *testing.T) {
	p := testPledge(t)
	good, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		payload []byte
		wantErr string
	}{
		{"valid", good, ""},
		{"unknown member", payloadWith(t, p, "extra", `1`), "extra"},
		{"case-folded member", payloadWith(t, p, "Election", `"x"`), "Election"},
		{"duplicate member", []byte(strings.Replace(string(good), `"place":"Mamuju"`, `"place":"Mamuju","place":"Jakarta"`, 1)), "duplicate"},
		{"trailing data", append(append([]byte{}, good...), []byte(`{}`)...), "after top-level value"},
		{"invalid UTF-8", []byte(strings.Replace(string(good), "Mamuju", "Mam\xffuju", 1)), "UTF-8"},
		{"wrong type for place", payloadWith(t, p, "place", `42`), "place"},
		{"missing type", payloadWith(t, p, "type", ""), `missing "type"`},
		{"unknown type", payloadWith(t, p, "type", `"vote"`), "unknown type"},
		{"missing signed_at", payloadWith(t, p, "signed_at", ""), "signed_at: missing"},
		{"supersedes float", payloadWith(t, p, "supersedes", `1.0`), "supersedes"},
		{"supersedes exponent", payloadWith(t, p, "supersedes", `1e2`), "supersedes"},
		{"supersedes negative", payloadWith(t, p, "supersedes", `-1`), "supersedes"},
		{"supersedes ok", payloadWith(t, p, "supersedes", `17`), ""},
		{"not an object", []byte(`[1]`), "statement"},
		{"too large", append(append([]byte{}, good...), make([]byte, MaxPayloadSize)...), "over the"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStatement(tt.payload)
			checkErr(t, err, tt.wantErr)
		})
	}
	_, err = ParseStatement(make([]byte, MaxPayloadSize+1))
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized payload: %v, want ErrTooLarge", err)
	}
}

func TestEnrollmentRules(t *testing.T) {
	k := seedKey(t, "employee")
	tests := []struct {
		name    string
		mutate  func(*Enrollment)
		wantErr string
	}{
		{"valid", func(*Enrollment) {}, ""},
		{"no valid_until", func(e *Enrollment) { e.ValidUntil = "" }, ""},
		{"until before from", func(e *Enrollment) { e.ValidUntil = "2023-10-01T00:00:00+07:00" }, "not after valid_from"},
		{"missing jwk", func(e *Enrollment) { e.JWK = nil }, "jwk: missing"},
		{"missing valid_from", func(e *Enrollment) { e.ValidFrom = "" }, "valid_from: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testEnrollment(t, k)
			tt.mutate(e)
			checkErr(t, e.Validate(), tt.wantErr)
		})
	}
	e := testEnrollment(t, k)
	for at, want := range map[string]bool{
		"2023-10-31T23:59:59+07:00": false,
		"2023-11-01T00:00:00+07:00": true,
		"2024-12-31T23:59:59+07:00": true,
		"2025-01-01T00:00:00+07:00": false,
	} {
		tm, _ := (&Pledge{SignedAt: at}).SignedAtTime()
		if got := e.Covers(tm); got != want {
			t.Errorf("Covers(%s) = %v, want %v", at, got, want)
		}
	}
}

func TestEnrollmentRejectsPrivateJWK(t *testing.T) {
	k := seedKey(t, "employee")
	priv, _ := k.MarshalPrivateJWK()
	payload := payloadWith(t, testEnrollment(t, k), "jwk", string(priv))
	if _, err := ParseStatement(payload); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Fatalf("enrollment with a private jwk: %v", err)
	}
}

func TestRevocationAndTemplate(t *testing.T) {
	text := templateText(t)
	tests := []struct {
		name    string
		st      Statement
		wantErr string
	}{
		{"revocation", &Revocation{Type: TypeRevocation, KID: seedKey(t, "x").KeyID(), Reason: "perangkat hilang"}, ""},
		{"revocation bad kid", &Revocation{Type: TypeRevocation, KID: "abc", Reason: "r"}, "thumbprint"},
		{"revocation no reason", &Revocation{Type: TypeRevocation, KID: seedKey(t, "x").KeyID()}, "reason: missing"},
		{"template", testTemplate(text), ""},
		{"template hash mismatch", withTemplate(text, func(t *Template) { t.SHA256 = TextHash("x") }), "hashes to"},
		{"template id upper case", withTemplate(text, func(t *Template) { t.ID = "Netralitas-2024" }), "not a template id"},
		{"template id with slash", withTemplate(text, func(t *Template) { t.ID = "a/b" }), "not a template id"},
		{"template id too long", withTemplate(text, func(t *Template) { t.ID = strings.Repeat("a", 65) }), "not a template id"},
		{"template without election", withTemplate(text, func(t *Template) { t.Election = "" }), "election: missing"},
		{"template without agencies", withTemplate(text, func(t *Template) { t.Agencies = nil }), "agencies: missing"},
		{"template star with others", withTemplate(text, func(t *Template) { t.Agencies = []string{"*", "7601"} }), "stands alone"},
		{"template agency twice", withTemplate(text, func(t *Template) { t.Agencies = []string{"7601", "7601"} }), "listed twice"},
		{"template deadline without offset", withTemplate(text, func(t *Template) { t.Deadline = "2029-01-10T23:59:59" }), "deadline"},
		{"template for every agency", withTemplate(text, func(t *Template) { t.Agencies = []string{"*"} }), ""},
		{"template without deadline", withTemplate(text, func(t *Template) { t.Deadline = "" }), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, tt.st.Validate(), tt.wantErr)
		})
	}
}

func testTemplate(text string) *Template {
	return &Template{Type: TypeTemplate, ID: "netralitas-2024", Lang: "id", Election: "Pemilu 2024", Agencies: []string{"7601"},
		Text: text, SHA256: TextHash(text), Deadline: "2024-01-10T23:59:59+08:00"}
}

func withTemplate(text string, mutate func(*Template)) *Template {
	t := testTemplate(text)
	mutate(t)
	return t
}

// TestTextHygiene: every string is NFC and holds nothing that could make
// two strings look the same or forge a line of a report.
func TestTextHygiene(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Pledge)
		wantErr string
	}{
		{"plain name", func(p *Pledge) { p.Signer.Name = "Andi Pratama" }, ""},
		{"name with accents (NFC)", func(p *Pledge) { p.Signer.Name = "Andr\u00e9 Pratama" }, ""},
		{"name decomposed (NFD)", func(p *Pledge) { p.Signer.Name = "Andre\u0301 Pratama" }, "normal form C"},
		{"name with newline", func(p *Pledge) { p.Signer.Name = "A\nB" }, "U+000A (a control character)"},
		{"name with tab", func(p *Pledge) { p.Signer.Name = "A\tB" }, "U+0009"},
		{"name with bidi override", func(p *Pledge) { p.Signer.Name = "Andi \u202eartamaP" }, "U+202E (a format character"},
		{"name with zero-width space", func(p *Pledge) { p.Signer.Name = "An\u200bdi" }, "U+200B"},
		{"name with line separator", func(p *Pledge) { p.Signer.Name = "Andi\u2028Pratama" }, "U+2028 (a line or paragraph separator)"},
		{"name with paragraph separator", func(p *Pledge) { p.Signer.Name = "Andi\u2029Pratama" }, "U+2029"},
		{"name with private use", func(p *Pledge) { p.Signer.Name = "Andi\ue000" }, "U+E000 (a private-use character)"},
		{"name with NBSP", func(p *Pledge) { p.Signer.Name = "Andi\u00a0Pratama" }, "U+00A0 (a space other than U+0020)"},
		{"name with ideographic space", func(p *Pledge) { p.Signer.Name = "Andi\u3000Pratama" }, "U+3000"},
		{"name with en quad", func(p *Pledge) { p.Signer.Name = "Andi\u2000Pratama" }, "U+2000"},
		{"name with doubled space", func(p *Pledge) { p.Signer.Name = "Andi  Pratama" }, "two spaces in a row"},
		{"name with leading space", func(p *Pledge) { p.Signer.Name = " Andi" }, "leading or trailing space"},
		{"name with trailing space", func(p *Pledge) { p.Signer.Name = "Andi " }, "leading or trailing space"},
		{"election with zero-width joiner", func(p *Pledge) { p.Election = "Pemilu\u200d 2024" }, "election: holds U+200D"},
		{"place with BOM", func(p *Pledge) { p.Place = "\ufeffMamuju" }, "place: holds U+FEFF"},
		{"unit with DEL", func(p *Pledge) { p.Signer.Unit = "Bagian\x7f" }, "U+007F"},
		{"agency name with bidi isolate", func(p *Pledge) { p.Signer.Agency.Name = "Pemkab \u2066Mamuju" }, "agency.name: holds U+2066"},
		{"text with CR", func(p *Pledge) { p.Text = "Saya\r\nberjanji"; p.Template.SHA256 = TextHash(p.Text) }, "text: holds U+000D"},
		{"text with tab", func(p *Pledge) { p.Text = "Saya\tberjanji"; p.Template.SHA256 = TextHash(p.Text) }, "text: holds U+0009"},
		{"text with newlines", func(p *Pledge) { p.Text = "Saya\n\nberjanji"; p.Template.SHA256 = TextHash(p.Text) }, ""},
		{"text decomposed", func(p *Pledge) { p.Text = "Saya berjanji e\u0301"; p.Template.SHA256 = TextHash(p.Text) }, "text: "},
		{"text with bidi override", func(p *Pledge) { p.Text = "Saya \u202eTIDAK"; p.Template.SHA256 = TextHash(p.Text) }, "text: holds U+202E"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPledge(t)
			tt.mutate(p)
			checkErr(t, p.Validate(), tt.wantErr)
			if tt.wantErr != "" && strings.Count(p.Validate().Error(), "pledge: ") != 1 {
				t.Errorf("error %q repeats its prefix", p.Validate())
			}
		})
	}
}

// TestPlainASCIIAgreesWithBadRune: the ASCII fast path of checkString
// accepts exactly the ASCII characters that badRune lets through.
func TestPlainASCIIAgreesWithBadRune(t *testing.T) {
	for _, multiline := range []bool{false, true} {
		for c := 0; c < 0x80; c++ {
			fast := plainASCII(string(rune(c)), multiline)
			slow := badRune(rune(c), multiline) == ""
			if fast != slow {
				t.Errorf("%U, multiline %v: fast path says %v, badRune says %v", c, multiline, fast, slow)
			}
		}
	}
}
