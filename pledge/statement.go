package pledge

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"golang.org/x/text/unicode/norm"
)

// MaxPayloadSize is the largest statement (JWS payload) accepted, in bytes.
const MaxPayloadSize = 16 << 10

// Statement types: the payload's "type" member and, prefixed with "pakta-"
// and suffixed with "+jws", the JWS "typ" header.
const (
	TypePledge     = "pledge"
	TypeEnrollment = "enrollment"
	TypeRevocation = "revocation"
	TypeTemplate   = "template"
	TypeRuling     = "ruling"
)

// Employment kinds.
const (
	PNS    = "PNS"     // permanent civil servant
	PPPK   = "PPPK"    // civil servant under contract
	NonASN = "NON_ASN" // other staff (honorer)
)

// Identifier schemes of a person.
const (
	SchemeNIP = "nip"
	SchemeNIK = "nik"
	// SchemeAgencyPrefix starts "agency:<code>", an agency-issued number.
	SchemeAgencyPrefix = "agency:"
)

// DateLayout is the layout of a pledge's "date".
const DateLayout = "2006-01-02"

// A Statement is the payload of a pakta JWS.
type Statement interface {
	// StatementType is the "type" member: TypePledge, TypeEnrollment, ….
	StatementType() string
	// Validate checks every rule on the statement alone (no keys, no log).
	Validate() error
}

// Agency is the employer.
type Agency struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Person is the signer of a pledge or the subject of an enrollment.
type Person struct {
	Scheme     string `json:"scheme"`
	ID         string `json:"id"`
	Name       string `json:"name"`
	Position   string `json:"position,omitzero"`
	Unit       string `json:"unit,omitzero"`
	Agency     Agency `json:"agency"`
	Employment string `json:"employment"`
}

// TemplateRef names the published template a pledge's text comes from.
type TemplateRef struct {
	ID     string `json:"id"`
	SHA256 string `json:"sha256"`
}

// Pledge is the pakta integritas as signed by an employee.
type Pledge struct {
	Type     string      `json:"type"`
	ID       string      `json:"id"`
	Signer   Person      `json:"signer"`
	Template TemplateRef `json:"template"`
	Text     string      `json:"text"`
	Election string      `json:"election"`
	Place    string      `json:"place"`
	Date     string      `json:"date"`
	SignedAt string      `json:"signed_at"`
	// Supersedes is the log index of the signer's earlier pledge that this
	// one corrects.
	Supersedes *uint64 `json:"supersedes,omitzero"`
}

// Enrollment binds a person to a public key. It is signed by a registrar and
// by the enrolled key itself (proof of possession).
type Enrollment struct {
	Type       string     `json:"type"`
	Subject    Person     `json:"subject"`
	JWK        *PublicKey `json:"jwk"`
	ValidFrom  string     `json:"valid_from"`
	ValidUntil string     `json:"valid_until,omitzero"`
}

// Revocation withdraws an enrolled key from its position in the log onward.
type Revocation struct {
	Type   string `json:"type"`
	KID    string `json:"kid"`
	Reason string `json:"reason"`
}

// Template publishes the exact wording of a pledge for one election, for the
// agencies it names. A pledge binds to it by id, sha256 and election.
type Template struct {
	Type     string   `json:"type"`
	ID       string   `json:"id"`
	Lang     string   `json:"lang"`
	Election string   `json:"election"`
	Agencies []string `json:"agencies"`
	Text     string   `json:"text"`
	SHA256   string   `json:"sha256"`
	// Deadline, optional, is when pledges are due: later ones are logged
	// but reported late.
	Deadline string `json:"deadline,omitzero"`
}

// AllAgencies in a template's agencies (alone) covers every agency; only a
// registrar whose own scope is AllAgencies may publish it.
const AllAgencies = "*"

// Covers reports whether the template applies to the agency code.
func (t *Template) Covers(agency string) bool {
	for _, a := range t.Agencies {
		if a == AllAgencies || a == agency {
			return true
		}
	}
	return false
}

// DeadlineTime is the parsed deadline; ok is false when there is none.
func (t *Template) DeadlineTime() (d time.Time, ok bool, err error) {
	if t.Deadline == "" {
		return time.Time{}, false, nil
	}
	d, err = parseTimestamp(TypeTemplate, "deadline", t.Deadline)
	return d, err == nil, err
}

func (*Pledge) StatementType() string     { return TypePledge }
func (*Enrollment) StatementType() string { return TypeEnrollment }
func (*Revocation) StatementType() string { return TypeRevocation }
func (*Template) StatementType() string   { return TypeTemplate }

// HeaderType is the JWS "typ" for a statement type.
func HeaderType(statementType string) string { return "pakta-" + statementType + "+jws" }

// TextHash is the lowercase hex SHA-256 of a template text, as
// template.sha256 carries it.
func TextHash(text string) string {
	h := sha256.Sum256([]byte(text))
	return hex.EncodeToString(h[:])
}

// ParseStatement decodes a payload strictly (I-JSON, no unknown members, no
// trailing data) into the statement its "type" names and validates it.
func ParseStatement(payload []byte) (Statement, error) {
	st, err := decodeStatement(payload)
	if err != nil {
		return nil, err
	}
	if err := st.Validate(); err != nil {
		return nil, err
	}
	return st, nil
}

// decodeStatement is ParseStatement without Validate: the syntax is as
// strict, the statement's rules are not applied.
func decodeStatement(payload []byte) (Statement, error) {
	if len(payload) > MaxPayloadSize {
		return nil, fmt.Errorf("pledge: statement of %d bytes is over the %d-byte limit: %w", len(payload), MaxPayloadSize, ErrTooLarge)
	}
	// First pass: only the type, still refusing duplicates and bad UTF-8.
	var head struct {
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return nil, fmt.Errorf("pledge: statement: %w", err)
	}
	if head.Type == nil {
		return nil, errors.New(`pledge: statement: missing "type"`)
	}
	var st Statement
	switch *head.Type {
	case TypePledge:
		st = new(Pledge)
	case TypeEnrollment:
		st = new(Enrollment)
	case TypeRevocation:
		st = new(Revocation)
	case TypeTemplate:
		st = new(Template)
	case TypeRuling:
		st = new(Ruling)
	default:
		return nil, fmt.Errorf("pledge: statement: unknown type %q (want pledge, enrollment, revocation, template or ruling)", *head.Type)
	}
	if err := unmarshalStrict(payload, st); err != nil {
		return nil, fmt.Errorf("pledge: decoding a %s statement: %w", *head.Type, err)
	}
	return st, nil
}

// fieldError names the member that is wrong.
func fieldError(stType, field, format string, args ...any) error {
	return fmt.Errorf("pledge: %s.%s: %s", stType, field, fmt.Sprintf(format, args...))
}

// Limits on free-text members: generous for real names and texts, small
// enough that no field can crowd the 16 KiB payload on its own.
const (
	maxShort = 256
	maxText  = 12 << 10
)

// checkText applies the text rules (DESIGN, "Text in statements") to a
// single-line member: see checkString.
func checkText(stType, field, v string, required bool, limit int) error {
	return checkString(stType, field, v, required, false, limit)
}

// checkString applies the text rules to one member. Every string is NFC
// and holds no control, format, line or paragraph separator or private-use
// character and no space but U+0020, so that two strings that look the
// same are the same bytes and no string can reorder or forge what a report
// prints around it. A multi-line member (a pledge's text) may also hold
// '\n'; a single-line one has no leading, trailing or doubled space.
func checkString(stType, field, v string, required, multiline bool, limit int) error {
	if v == "" {
		if required {
			return fieldError(stType, field, "missing")
		}
		return nil
	}
	if len(v) > limit {
		return fieldError(stType, field, "%d bytes is over the %d-byte limit", len(v), limit)
	}
	if plainASCII(v, multiline) {
		// Most strings are (a pledge's text of a thousand characters
		// among them): nothing below can fail on them but the spaces, and
		// ASCII is in NFC. The rune-by-rune table lookups cost more than
		// the signature check.
		return checkSpaces(stType, field, v, multiline)
	}
	if !utf8.ValidString(v) {
		return fieldError(stType, field, "not valid UTF-8")
	}
	for i, r := range v {
		if what := badRune(r, multiline); what != "" {
			return fieldError(stType, field, "holds %U (%s) at byte %d: not allowed in a statement", r, what, i)
		}
	}
	if err := checkSpaces(stType, field, v, multiline); err != nil {
		return err
	}
	if !norm.NFC.IsNormalString(v) {
		return fieldError(stType, field, "%s is not in Unicode normal form C (NFC): normalize it before signing", strconv.QuoteToGraphic(v))
	}
	return nil
}

// plainASCII reports whether v is printable ASCII (and '\n' when multiline
// allows it): the strings for which badRune finds nothing.
func plainASCII(v string, multiline bool) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c > 0x7e {
			if c == '\n' && multiline {
				continue
			}
			return false
		}
	}
	return true
}

// checkSpaces applies the single-line rule: no leading, trailing or
// doubled space.
func checkSpaces(stType, field, v string, multiline bool) error {
	if multiline {
		return nil
	}
	if v[0] == ' ' || v[len(v)-1] == ' ' {
		return fieldError(stType, field, "%s has a leading or trailing space", strconv.QuoteToGraphic(v))
	}
	if i := strings.Index(v, "  "); i >= 0 {
		return fieldError(stType, field, "%s has two spaces in a row at byte %d", strconv.QuoteToGraphic(v), i)
	}
	return nil
}

// badRune names what is wrong with r in a statement string, or "".
func badRune(r rune, multiline bool) string {
	switch {
	case r == ' ':
		return ""
	case r == '\n' && multiline:
		return ""
	case unicode.Is(unicode.Cc, r):
		return "a control character"
	case unicode.Is(unicode.Cf, r):
		return "a format character, such as a bidirectional override or a zero-width space"
	case unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r):
		return "a line or paragraph separator"
	case unicode.Is(unicode.Co, r):
		return "a private-use character"
	case unicode.Is(unicode.Zs, r):
		return "a space other than U+0020"
	case r == utf8.RuneError:
		return "the replacement character"
	}
	return ""
}

// templateIDPattern is what a template id may be: lowercase, short, and safe
// in a URL path and a file name.
var templateIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,63}$`)

func checkTemplateID(stType, field, id string) error {
	if id == "" {
		return fieldError(stType, field, "missing")
	}
	if !templateIDPattern.MatchString(id) {
		return fieldError(stType, field, "%s is not a template id: 1-64 of a-z 0-9 . - starting with a letter or digit", strconv.QuoteToGraphic(id))
	}
	return nil
}

// Validate checks a person's identity and required members. at is the time
// the statement speaks for (a pledge's signed_at, an enrollment's
// valid_from): a NIP's appointment may not be after it.
func (p *Person) validate(stType, field string, at time.Time) error {
	for _, f := range []struct {
		name, v  string
		required bool
	}{
		{"name", p.Name, true},
		{"position", p.Position, false},
		{"unit", p.Unit, false},
		{"agency.code", p.Agency.Code, true},
		{"agency.name", p.Agency.Name, true},
	} {
		if err := checkText(stType, field+"."+f.name, f.v, f.required, maxShort); err != nil {
			return err
		}
	}
	switch p.Employment {
	case PNS, PPPK, NonASN:
	case "":
		return fieldError(stType, field+".employment", "missing")
	default:
		return fieldError(stType, field+".employment", "%q is not PNS, PPPK or NON_ASN", p.Employment)
	}
	if err := ValidateID(p.Scheme, p.ID, p.Employment, at); err != nil {
		return fmt.Errorf("pledge: %s.%s: %w", stType, field, err)
	}
	return nil
}

// parseSignedAt reads an RFC 3339 timestamp with an explicit offset.
func parseTimestamp(stType, field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, fieldError(stType, field, "missing")
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fieldError(stType, field, "%q is not an RFC 3339 timestamp such as 2023-11-27T08:15:00+08:00", v)
	}
	return t, nil
}

// SignedAtTime is the parsed signed_at, in its own offset.
func (p *Pledge) SignedAtTime() (time.Time, error) {
	return parseTimestamp(TypePledge, "signed_at", p.SignedAt)
}

// Validate implements Statement.
func (p *Pledge) Validate() error {
	const st = TypePledge
	if p.Type != TypePledge {
		return fieldError(st, "type", "%q, want %q", p.Type, TypePledge)
	}
	if err := checkStatementID(p.ID); err != nil {
		return err
	}
	at, err := p.SignedAtTime()
	if err != nil {
		return err
	}
	if err := p.Signer.validate(st, "signer", at); err != nil {
		return err
	}
	if err := checkTemplateID(st, "template.id", p.Template.ID); err != nil {
		return err
	}
	if err := checkHash(st, "template.sha256", p.Template.SHA256); err != nil {
		return err
	}
	if err := checkString(st, "text", p.Text, true, true, maxText); err != nil {
		return err
	}
	if got := TextHash(p.Text); got != p.Template.SHA256 {
		return fieldError(st, "text", "hashes to %s, but template.sha256 is %s: the text is not the template's", got, p.Template.SHA256)
	}
	if err := checkText(st, "election", p.Election, true, maxShort); err != nil {
		return err
	}
	if err := checkText(st, "place", p.Place, true, maxShort); err != nil {
		return err
	}
	if p.Date == "" {
		return fieldError(st, "date", "missing")
	}
	if d, err := time.Parse(DateLayout, p.Date); err != nil || d.Format(DateLayout) != p.Date {
		return fieldError(st, "date", "%q is not a date YYYY-MM-DD", p.Date)
	}
	if want := at.Format(DateLayout); p.Date != want {
		return fieldError(st, "date", "%s, but signed_at %s falls on %s in its own offset", p.Date, p.SignedAt, want)
	}
	return nil
}

func checkStatementID(id string) error {
	if id == "" {
		return fieldError(TypePledge, "id", "missing")
	}
	if len(id) > 128 {
		return fieldError(TypePledge, "id", "%d bytes is over the 128-byte limit", len(id))
	}
	for _, r := range id {
		if !isIDChar(r) {
			return fieldError(TypePledge, "id", "%q may hold only letters, digits and - _ . : (a UUID or ULID)", id)
		}
	}
	return nil
}

func isIDChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == ':'
}

func checkHash(st, field, v string) error {
	if v == "" {
		return fieldError(st, field, "missing")
	}
	if b, err := hex.DecodeString(v); err != nil || len(b) != sha256.Size || strings.ToLower(v) != v {
		return fieldError(st, field, "%q is not 64 lowercase hex digits", v)
	}
	return nil
}

// ValidFromTime is the parsed valid_from.
func (e *Enrollment) ValidFromTime() (time.Time, error) {
	return parseTimestamp(TypeEnrollment, "valid_from", e.ValidFrom)
}

// ValidUntilTime is the parsed valid_until; ok is false when there is none.
func (e *Enrollment) ValidUntilTime() (t time.Time, ok bool, err error) {
	if e.ValidUntil == "" {
		return time.Time{}, false, nil
	}
	t, err = parseTimestamp(TypeEnrollment, "valid_until", e.ValidUntil)
	return t, err == nil, err
}

// Covers reports whether t is inside the enrollment's validity window.
func (e *Enrollment) Covers(t time.Time) bool {
	from, err := e.ValidFromTime()
	if err != nil || t.Before(from) {
		return false
	}
	until, ok, err := e.ValidUntilTime()
	if err != nil {
		return false
	}
	return !ok || !t.After(until)
}

// Validate implements Statement.
func (e *Enrollment) Validate() error {
	const st = TypeEnrollment
	if e.Type != TypeEnrollment {
		return fieldError(st, "type", "%q, want %q", e.Type, TypeEnrollment)
	}
	from, err := e.ValidFromTime()
	if err != nil {
		return err
	}
	if err := e.Subject.validate(st, "subject", from); err != nil {
		return err
	}
	if e.JWK == nil {
		return fieldError(st, "jwk", "missing")
	}
	until, ok, err := e.ValidUntilTime()
	if err != nil {
		return err
	}
	if ok && !until.After(from) {
		return fieldError(st, "valid_until", "%s is not after valid_from %s", e.ValidUntil, e.ValidFrom)
	}
	return nil
}

// Validate implements Statement.
func (r *Revocation) Validate() error {
	const st = TypeRevocation
	if r.Type != TypeRevocation {
		return fieldError(st, "type", "%q, want %q", r.Type, TypeRevocation)
	}
	if err := checkKeyID(st, "kid", r.KID); err != nil {
		return err
	}
	return checkText(st, "reason", r.Reason, true, maxShort*4)
}

func checkKeyID(st, field, kid string) error {
	if kid == "" {
		return fieldError(st, field, "missing")
	}
	// A SHA-256 thumbprint is 32 bytes: 43 base64url characters.
	if b, err := rawURL.DecodeString(kid); err != nil || len(b) != sha256.Size {
		return fieldError(st, field, "%q is not a key thumbprint (43 base64url characters)", kid)
	}
	return nil
}

// Validate implements Statement.
func (t *Template) Validate() error {
	const st = TypeTemplate
	if t.Type != TypeTemplate {
		return fieldError(st, "type", "%q, want %q", t.Type, TypeTemplate)
	}
	if err := checkTemplateID(st, "id", t.ID); err != nil {
		return err
	}
	if err := checkText(st, "lang", t.Lang, true, 35); err != nil {
		return err
	}
	if err := checkText(st, "election", t.Election, true, maxShort); err != nil {
		return err
	}
	if len(t.Agencies) == 0 {
		return fieldError(st, "agencies", "missing: name the agency codes the template is for, or [\"*\"]")
	}
	seen := make(map[string]bool, len(t.Agencies))
	for i, a := range t.Agencies {
		if err := checkText(st, fmt.Sprintf("agencies[%d]", i), a, true, maxShort); err != nil {
			return err
		}
		if a == AllAgencies && len(t.Agencies) > 1 {
			return fieldError(st, "agencies", "\"*\" (every agency) stands alone")
		}
		if seen[a] {
			return fieldError(st, fmt.Sprintf("agencies[%d]", i), "%s is listed twice", strconv.QuoteToGraphic(a))
		}
		seen[a] = true
	}
	if err := checkString(st, "text", t.Text, true, true, maxText); err != nil {
		return err
	}
	if err := checkHash(st, "sha256", t.SHA256); err != nil {
		return err
	}
	if got := TextHash(t.Text); got != t.SHA256 {
		return fieldError(st, "text", "hashes to %s, but sha256 is %s", got, t.SHA256)
	}
	if _, _, err := t.DeadlineTime(); err != nil {
		return err
	}
	return nil
}
