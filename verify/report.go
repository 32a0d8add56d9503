package verify

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/pledge"
)

// Check ids, in the order Verify runs them.
const (
	CheckBundle     = "bundle"
	CheckCheckpoint = "checkpoint"
	CheckInclusion  = "inclusion"
	CheckSignature  = "signature"
	CheckKey        = "key"
	CheckStatement  = "statement"
	CheckTime       = "time"
	CheckClaim      = "claim"
)

// Claim is what someone asserts about a bundle: that the person (Scheme, ID)
// signed a pledge dated Date (the pledge's own date, YYYY-MM-DD), and
// optionally for a template and an election.
type Claim struct {
	Scheme   string `json:"scheme"`
	ID       string `json:"id"`
	Date     string `json:"date"`
	Template string `json:"template,omitzero"`
	Election string `json:"election,omitzero"`
}

// Check is one line of a report.
type Check struct {
	ID     string `json:"id"`
	Pass   bool   `json:"pass"`
	Reason string `json:"reason"`
}

// Verdicts.
const (
	Pass = "pass"
	Fail = "fail"
)

// Report is the result of verifying a bundle: every check with its reason,
// and a verdict that is Pass only if every check passed. Its JSON field names
// are an API.
type Report struct {
	Verdict string  `json:"verdict"`
	Checks  []Check `json:"checks"`
	// Facts established by the checks that passed (empty when they failed).
	Entry *EntryFacts `json:"entry,omitzero"`
	// NotProven lists what the bundle does not prove, so that nobody
	// over-reads a pass.
	NotProven []string `json:"not_proven"`
}

// EntryFacts summarizes the verified entry.
type EntryFacts struct {
	Origin   string         `json:"origin"`
	Index    uint64         `json:"index"`
	TreeSize uint64         `json:"tree_size"`
	Type     string         `json:"type"`
	LoggedAt string         `json:"logged_at"`
	Signer   *pledge.Person `json:"signer,omitzero"`
	Date     string         `json:"date,omitzero"`
	SignedAt string         `json:"signed_at,omitzero"`
	Template string         `json:"template,omitzero"`
	Election string         `json:"election,omitzero"`
	Place    string         `json:"place,omitzero"`
	KeyID    string         `json:"kid,omitzero"`
}

// Passed reports whether the verdict is Pass.
func (r *Report) Passed() bool { return r.Verdict == Pass }

// Failed returns the first failed check, or nil.
func (r *Report) Failed() *Check {
	for i := range r.Checks {
		if !r.Checks[i].Pass {
			return &r.Checks[i]
		}
	}
	return nil
}

// VerifyBytes parses and verifies a bundle file. It returns an error only
// when the input is not even a JSON object (ErrNotJSONObject: the wrong file
// was given); everything else, malformed bundles included, is judged in the
// report.
func VerifyBytes(b []byte, p *Policy, claim *Claim) (*Report, error) {
	bundle, err := ParseBundle(b)
	if errors.Is(err, ErrNotJSONObject) {
		return nil, err
	}
	r := &report{policy: p, claim: claim}
	if err != nil {
		r.fail(CheckBundle, "the file is not a well-formed bundle: %s", plain(err))
		return r.finish(), nil
	}
	r.pass(CheckBundle, "the bundle is well-formed")
	r.run(bundle)
	return r.finish(), nil
}

// Verify checks a parsed bundle under a policy and an optional claim.
func Verify(b *Bundle, p *Policy, claim *Claim) *Report {
	r := &report{policy: p, claim: claim}
	r.pass(CheckBundle, "the bundle is well-formed")
	r.run(b)
	return r.finish()
}

type report struct {
	policy *Policy
	claim  *Claim
	checks []Check
	facts  *EntryFacts
	failed bool
}

func (r *report) pass(id, format string, args ...any) {
	r.checks = append(r.checks, Check{ID: id, Pass: true, Reason: fmt.Sprintf(format, args...)})
}

func (r *report) fail(id, format string, args ...any) {
	r.checks = append(r.checks, Check{ID: id, Reason: fmt.Sprintf(format, args...)})
	r.failed = true
}

func (r *report) finish() *Report {
	ids := []string{CheckBundle, CheckCheckpoint, CheckInclusion, CheckSignature, CheckKey, CheckStatement, CheckTime}
	if r.claim != nil {
		ids = append(ids, CheckClaim)
	}
	// Checks after a failure are listed as not run: nothing half-verifies.
	for _, id := range ids[len(r.checks):] {
		r.checks = append(r.checks, Check{ID: id, Reason: "not checked, because an earlier check failed"})
	}
	out := &Report{Verdict: Pass, Checks: r.checks, NotProven: notProven}
	if r.failed {
		out.Verdict = Fail
	} else {
		out.Entry = r.facts
	}
	return out
}

var notProven = []string{
	"that the log showed this same history to everyone: a log could fork its history for different readers; compare checkpoints with other auditors (witness cosignatures will make this automatic)",
	"that the key was not revoked between its enrollment and this entry: the log refuses such entries, but a bundle cannot prove an absence; a full audit of the log can",
	"that no later correction exists: a later pledge by the same signer may supersede this one",
	"who physically used the key: the enrollment shows that a registrar vouched the key belongs to the person, and that the person held it",
}

// humanDate writes 27 November 2023.
func humanDate(t time.Time) string { return t.Format("2 January 2006") }

func humanLogged(t time.Time) string { return t.UTC().Format("2 January 2006 at 15:04:05 UTC") }

// opened is an entry whose inclusion under the checkpoint has been checked.
type opened struct {
	entry Entry
	index uint64
	cp    Checkpoint
}

func (r *report) run(b *Bundle) {
	p := r.policy
	// checkpoint: the proof's checkpoint, signed by the log's key.
	entry, proof, err := b.main().read() // already read by ParseBundle, usually
	if err != nil {
		r.fail(CheckCheckpoint, "the entry or its proof cannot be read: %s", plain(err))
		return
	}
	cp, _, err := OpenCheckpoint(proof.Checkpoint, p.Origin, p.Verifier())
	if err != nil {
		r.fail(CheckCheckpoint, "%s", explainCheckpoint(err, p))
		return
	}
	var enrollProof *Proof
	var enrollEntry Entry
	if ev := b.Key.Enrollment; ev != nil {
		if enrollEntry, enrollProof, err = ev.read(); err != nil {
			r.fail(CheckCheckpoint, "the enrollment or its proof cannot be read: %s", plain(err))
			return
		}
		if string(enrollProof.Checkpoint) != string(proof.Checkpoint) {
			r.fail(CheckCheckpoint, "the enrollment is proved under a different checkpoint than the entry: both must come from the same signed state of the log")
			return
		}
	}
	r.pass(CheckCheckpoint, "the log %q signed a checkpoint of %d entries with root %x…", cp.Origin, cp.Size, cp.Root[:8])

	// inclusion, under the checkpoint just opened (the enrollment's is the
	// same bytes): its signature is checked once.
	if err := proof.verifyInclusion(b.Entry, cp); err != nil {
		r.fail(CheckInclusion, "the entry is not at index %d of the log's checkpoint: %s", proof.Index, explainInclusion(err))
		return
	}
	main := opened{entry: entry, index: proof.Index, cp: cp}
	var enrollment *opened
	if enrollProof != nil {
		if err := enrollProof.verifyInclusion(b.Key.Enrollment.Entry, cp); err != nil {
			r.fail(CheckInclusion, "the key's enrollment is not at index %d of the log's checkpoint: %s", enrollProof.Index, explainInclusion(err))
			return
		}
		enrollment = &opened{entry: enrollEntry, index: enrollProof.Index, cp: cp}
		r.pass(CheckInclusion, "the entry is at index %d and the key's enrollment at index %d of that log", main.index, enrollment.index)
	} else {
		r.pass(CheckInclusion, "the entry is at index %d of that log", main.index)
	}

	// signature
	// The statement's own rules are the statement check's: parse the JWS
	// strictly but leave them for later, so that a validly signed pledge
	// with, say, a wrong date is reported as such.
	jws, err := pledge.ParseUnvalidated(entry.JWS)
	if err != nil {
		r.fail(CheckSignature, "the signed document in the entry (a JWS) is not well-formed: %s", plain(err))
		return
	}
	keys := pledge.NewKeySet(p.RegistrarKeys().Keys()...)
	var enrolled *pledge.Verified
	if enrollment != nil {
		enrolled, err = pledge.Verify(enrollment.entry.JWS, pledge.VerifyOptions{Keys: p.RegistrarKeys(), Algorithms: p.Algorithms, Roots: p.RootPool()})
		if err != nil {
			r.fail(CheckSignature, "the key's enrollment (index %d) is not validly signed by a trusted registrar and the key itself: %s", enrollment.index, plain(err))
			return
		}
		e, ok := enrolled.Statement.(*pledge.Enrollment)
		if !ok {
			r.fail(CheckSignature, "the key evidence at index %d is a %s, not an enrollment", enrollment.index, enrolled.Statement.StatementType())
			return
		}
		keys.Add(e.JWK)
	}
	v, err := jws.Verify(pledge.VerifyOptions{Keys: keys, Algorithms: p.Algorithms, Roots: p.RootPool()})
	if err != nil {
		if errors.Is(err, pledge.ErrUnknownKey) {
			r.fail(CheckSignature, "the %s is signed with a key that neither the bundle's enrollment nor the policy's registrars hold, so its signature cannot be checked (%s)", jws.Statement.StatementType(), plain(err))
		} else {
			r.fail(CheckSignature, "the %s's signature is not valid: %s", jws.Statement.StatementType(), plain(err))
		}
		return
	}
	kids := make([]string, len(v.Signers))
	for i, s := range v.Signers {
		kids[i] = s.Header.Algorithm + " key " + s.Key.KeyID()
	}
	r.pass(CheckSignature, "the %s carries %d valid signature(s): %s", jws.Statement.StatementType(), len(v.Signers), strings.Join(kids, ", "))

	// key
	if !r.checkKey(v, main, enrollment, enrolled) {
		return
	}

	// statement
	if err := v.Statement.Validate(); err != nil {
		r.fail(CheckStatement, "the %s is validly signed, but its content breaks the rules: %s", v.Statement.StatementType(), plain(err))
		return
	}
	switch st := v.Statement.(type) {
	case *pledge.Pledge:
		r.pass(CheckStatement, "the pledge is well-formed: %s %s is a valid identifier, its date %s is the date of signed_at %s, and its text matches template %s (sha256 %s…)",
			st.Signer.Scheme, st.Signer.ID, st.Date, st.SignedAt, st.Template.ID, st.Template.SHA256[:12])
	default:
		r.pass(CheckStatement, "the %s is well-formed", st.StatementType())
	}

	// time
	facts := &EntryFacts{Origin: cp.Origin, Index: main.index, TreeSize: cp.Size, Type: v.Statement.StatementType(), LoggedAt: entry.LoggedAt.UTC().Format(loggedAtLayout)}
	if pl, ok := v.Statement.(*pledge.Pledge); ok {
		signedAt, _ := pl.SignedAtTime()
		if err := p.CheckSigningTime(signedAt, entry.LoggedAt); err != nil {
			r.fail(CheckTime, "the pledge is %v", err)
			return
		}
		r.pass(CheckTime, "the pledge is dated %s (signed at %s); the log recorded it on %s", humanDate(signedAt), signedAt.Format("15:04 -07:00"), humanLogged(entry.LoggedAt))
		signer := pl.Signer
		facts.Signer, facts.Date, facts.SignedAt = &signer, pl.Date, pl.SignedAt
		facts.Template, facts.Election, facts.Place = pl.Template.ID, pl.Election, pl.Place
		facts.KeyID = v.Signers[0].Key.KeyID()
	} else {
		r.pass(CheckTime, "the log recorded the %s on %s", v.Statement.StatementType(), humanLogged(entry.LoggedAt))
	}
	r.facts = facts

	// claim
	if c := r.claim; c != nil {
		pl, ok := v.Statement.(*pledge.Pledge)
		var problems []string
		if !ok {
			problems = append(problems, "the entry is "+article(v.Statement.StatementType())+", not a pledge")
		} else {
			if pl.Signer.Scheme != c.Scheme || pl.Signer.ID != c.ID {
				problems = append(problems, fmt.Sprintf("it was signed by %s %s, not %s %s", pl.Signer.Scheme, pl.Signer.ID, c.Scheme, c.ID))
			}
			if pl.Date != c.Date {
				problems = append(problems, fmt.Sprintf("it is dated %s, not %s", pl.Date, c.Date))
			}
			if c.Template != "" && pl.Template.ID != c.Template {
				problems = append(problems, fmt.Sprintf("its template is %s, not %s", pl.Template.ID, c.Template))
			}
			if c.Election != "" && pl.Election != c.Election {
				problems = append(problems, fmt.Sprintf("its election is %q, not %q", pl.Election, c.Election))
			}
		}
		if len(problems) > 0 {
			r.fail(CheckClaim, "the claim does not hold: %s", strings.Join(problems, "; "))
			return
		}
		r.pass(CheckClaim, "%s %s (%s) signed this pledge dated %s", pl.Signer.Scheme, pl.Signer.ID, pl.Signer.Name, pl.Date)
	}
}

// checkKey: the signer's key is bound to the signer.
func (r *report) checkKey(v *pledge.Verified, main opened, enrollment *opened, enrolled *pledge.Verified) bool {
	p := r.policy
	registrarNames := func(skip string) []string {
		var out []string
		for _, s := range v.Signers {
			if s.Key.KeyID() != skip && p.IsRegistrar(s.Key.KeyID()) {
				out = append(out, s.Key.KeyID())
			}
		}
		return out
	}
	switch st := v.Statement.(type) {
	case *pledge.Pledge:
		first := v.Signers[0]
		signedAt, err := st.SignedAtTime()
		if err != nil {
			r.fail(CheckKey, "the pledge's signed_at %q is not a date and time, so nothing shows that the key was valid when it signed", st.SignedAt)
			return false
		}
		for _, s := range v.Signers[1:] {
			if !p.IsRegistrar(s.Key.KeyID()) {
				r.fail(CheckKey, "the countersignature by key %s is not by a registrar the policy trusts", s.Key.KeyID())
				return false
			}
		}
		if first.Chain != nil {
			if enrollment != nil {
				r.fail(CheckKey, "the pledge is certificate-backed, but the bundle also carries an enrollment")
				return false
			}
			leaf := first.Chain[0]
			r.pass(CheckKey, "the signature was made with the key of certificate %q (serialNumber %s), issued under the trusted root %q and valid on %s",
				leaf.Subject.CommonName, leaf.Subject.SerialNumber, first.Chain[len(first.Chain)-1].Subject.CommonName, humanDate(signedAt))
			return true
		}
		if enrollment == nil {
			r.fail(CheckKey, "the bundle carries no enrollment for key %s, so nothing binds it to %s %s", first.Key.KeyID(), st.Signer.Scheme, st.Signer.ID)
			return false
		}
		e := enrolled.Statement.(*pledge.Enrollment)
		switch {
		case e.JWK.KeyID() != first.Key.KeyID():
			r.fail(CheckKey, "the enrollment at index %d is for key %s, but the pledge is signed with key %s", enrollment.index, e.JWK.KeyID(), first.Key.KeyID())
		case e.Subject.Scheme != st.Signer.Scheme || e.Subject.ID != st.Signer.ID:
			r.fail(CheckKey, "key %s is enrolled for %s %s (index %d), not for the signer %s %s", first.Key.KeyID(), e.Subject.Scheme, e.Subject.ID, enrollment.index, st.Signer.Scheme, st.Signer.ID)
		case enrollment.index >= main.index:
			r.fail(CheckKey, "the enrollment (index %d) was logged after the pledge (index %d)", enrollment.index, main.index)
		case !e.Covers(signedAt):
			until := "with no end"
			if e.ValidUntil != "" {
				until = "until " + e.ValidUntil
			}
			r.fail(CheckKey, "the enrollment is valid from %s %s, which does not cover signed_at %s", e.ValidFrom, until, st.SignedAt)
		default:
			regs := make([]string, 0, len(enrolled.Signers))
			for _, s := range enrolled.Signers {
				if s.Key.KeyID() != e.JWK.KeyID() {
					regs = append(regs, s.Key.KeyID())
				}
			}
			r.pass(CheckKey, "the signature was made with key %s, which registrar %s enrolled for %s %s (%s) at index %d, valid on %s",
				first.Key.KeyID(), strings.Join(regs, ", "), e.Subject.Scheme, e.Subject.ID, e.Subject.Name, enrollment.index, humanDate(signedAt))
			return true
		}
		return false
	case *pledge.Enrollment:
		regs := registrarNames(st.JWK.KeyID())
		if len(regs) == 0 {
			r.fail(CheckKey, "the enrollment is not signed by a registrar the policy trusts")
			return false
		}
		r.pass(CheckKey, "registrar %s enrolled key %s for %s %s, and the key signed too (proof of possession)", strings.Join(regs, ", "), st.JWK.KeyID(), st.Subject.Scheme, st.Subject.ID)
		return true
	default:
		regs := registrarNames("")
		if len(regs) != len(v.Signers) {
			r.fail(CheckKey, "the %s is signed by a key that is not a registrar the policy trusts", st.StatementType())
			return false
		}
		r.pass(CheckKey, "the %s is signed by registrar %s", st.StatementType(), strings.Join(regs, ", "))
		return true
	}
}

// Text renders the report for people: one line per check, then the verdict
// and what the bundle does not prove.
func (r *Report) Text() string {
	var b strings.Builder
	for _, c := range r.Checks {
		mark := "PASS"
		if !c.Pass {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "%s [%s] %s\n", mark, c.ID, c.Reason)
	}
	if r.Passed() {
		b.WriteString("verdict: PASS (every check passed)\n")
	} else {
		fmt.Fprintf(&b, "verdict: FAIL (first failed check: %s)\n", r.Failed().ID)
	}
	b.WriteString("this bundle does not prove:\n")
	for _, s := range r.NotProven {
		fmt.Fprintf(&b, "  - %s\n", s)
	}
	return b.String()
}

// MarshalJSONIndent writes the report as indented JSON with stable field
// names.
func (r *Report) MarshalJSONIndent() ([]byte, error) {
	type plain Report
	return json.Marshal((*plain)(r), jsontext.WithIndent("  "))
}

// article puts "a" or "an" before a statement type.
func article(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}

// plain words an error from the parsers for people reading a report: the
// Go package prefixes and type names go, and it fits on one line.
func plain(err error) string {
	s := err.Error()
	for _, prefix := range []string{"verify: ", "bundle: ", "pledge: ", "jsontext: ", "json: ", "go-jose/go-jose: "} {
		s = strings.ReplaceAll(s, prefix, "")
	}
	s = goTypeRE.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "unexpected EOF", "unexpected end of file")
	return strings.Join(strings.Fields(s), " ")
}

// goTypeRE matches "cannot unmarshal JSON string into Go pledge.Pledge: ",
// which says nothing to a reader that the rest of the message does not.
var goTypeRE = regexp.MustCompile(`cannot unmarshal JSON \w+ into Go [\w.*\[\]]+: `)

// explainCheckpoint words a failure of OpenCheckpoint.
func explainCheckpoint(err error, p *Policy) string {
	v := p.Verifier()
	var invalid *note.InvalidSignatureError
	var unverified *note.UnverifiedNoteError
	switch {
	case errors.As(err, &invalid):
		return fmt.Sprintf("the checkpoint carries a signature by the log key %s+%08x that is not valid: the checkpoint or its signature was changed after the log signed it", v.Name(), v.KeyHash())
	case errors.As(err, &unverified):
		var names []string
		for _, s := range unverified.Note.UnverifiedSigs {
			names = append(names, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
		}
		return fmt.Sprintf("the checkpoint is not signed by the log key %s+%08x that the policy trusts; it is signed only by %s", v.Name(), v.KeyHash(), strings.Join(names, ", "))
	}
	return fmt.Sprintf("the checkpoint is not a valid statement of the log %q signed with its key: %s", p.Origin, plain(err))
}
