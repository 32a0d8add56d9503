package verify

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

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
	CheckTemplate   = "template"
	CheckStatement  = "statement"
	CheckTime       = "time"
	CheckWitness    = "witness" // only when the policy names witnesses
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
	Reason string `json:"reason"` // in English, or the language Localize chose

	msg Message // Reason, translatable
}

// Message is the check's reason as a translatable Message.
func (c *Check) Message() Message {
	if c.msg.Format == "" {
		return Message{Format: "%s", Args: []any{c.Reason}}
	}
	return c.msg
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
	// Key is the enrollment that bound the signing key, for a pledge
	// signed with an enrolled key.
	Key *KeyFacts `json:"key,omitzero"`
	// Published is the template the pledge was signed under.
	Published *TemplateFacts `json:"published,omitzero"`
	// Witnesses are the valid cosignatures on the checkpoint, with each
	// witness's time (when the policy names witnesses).
	Witnesses []WitnessFacts `json:"witnesses,omitzero"`

	// For a pledge: its text, as signed, and its times in the pledge's
	// own zone (Zone: WIB, WITA or WIT) beside UTC.
	Text          string `json:"text,omitzero"`
	Root          string `json:"root,omitzero"` // the checkpoint's root hash, base64
	Zone          string `json:"zone,omitzero"`
	SignedAtUTC   string `json:"signed_at_utc,omitzero"`
	LoggedAtLocal string `json:"logged_at_local,omitzero"`
}

// KeyFacts is who enrolled the signing key, and when.
type KeyFacts struct {
	Index      uint64   `json:"index"`
	LoggedAt   string   `json:"logged_at"`
	Registrars []string `json:"registrars"`
	ValidFrom  string   `json:"valid_from"`
	ValidUntil string   `json:"valid_until,omitzero"`
	// LoggedAtLocal is LoggedAt in the pledge's zone.
	LoggedAtLocal string `json:"logged_at_local,omitzero"`
}

// TemplateFacts is the template a pledge was signed under: where the log
// holds it, who published it and when, its deadline and whether the pledge
// was logged before it (by logged_at, the log's clock: never the signer's).
type TemplateFacts struct {
	ID         string   `json:"id"`
	SHA256     string   `json:"sha256"`
	Index      uint64   `json:"index"`
	LoggedAt   string   `json:"logged_at"`
	Publishers []string `json:"publishers"`
	Deadline   string   `json:"deadline,omitzero"`
	// OnTime is set when the template has a deadline: whether the pledge
	// was logged by then.
	OnTime *bool `json:"on_time,omitzero"`
	// Confirmed is set when the pledge is on time and witnesses cosigned:
	// whether a witness's time is also before the deadline (independently
	// confirmed), not only the log's logged_at.
	Confirmed *bool `json:"confirmed,omitzero"`
	// LoggedAtLocal, DeadlineLocal and DeadlineUTC are the publication and
	// the deadline in the pledge's zone, and the deadline in UTC.
	LoggedAtLocal string `json:"logged_at_local,omitzero"`
	DeadlineLocal string `json:"deadline_local,omitzero"`
	DeadlineUTC   string `json:"deadline_utc,omitzero"`
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

// report is one verification in progress: each check reads what the ones
// before it established.
type report struct {
	policy *Policy
	claim  *Claim
	checks []Check
	facts  *EntryFacts
	failed bool

	keyFacts      *KeyFacts
	templateFacts *TemplateFacts

	bundle *Bundle
	cp     Checkpoint
	note   *note.Note // the checkpoint, opened: its cosignatures
	// The entries of the bundle, once read (nil when absent).
	main, enrollment, template *opened
	jws                        *pledge.JWS      // the main statement, parsed unvalidated
	v                          *pledge.Verified // its signatures checked
}

func (r *report) pass(id, format string, args ...any) {
	m := Message{Format: format, Args: args}
	r.checks = append(r.checks, Check{ID: id, Pass: true, Reason: m.String(), msg: m})
}

func (r *report) fail(id, format string, args ...any) {
	m := Message{Format: format, Args: args}
	r.checks = append(r.checks, Check{ID: id, Reason: m.String(), msg: m})
	r.failed = true
}

func (r *report) finish() *Report {
	ids := []string{CheckBundle, CheckCheckpoint, CheckInclusion, CheckSignature, CheckKey, CheckTemplate, CheckStatement, CheckTime}
	if len(r.policy.Witnesses) > 0 {
		ids = append(ids, CheckWitness)
	}
	if r.claim != nil {
		ids = append(ids, CheckClaim)
	}
	// Checks after a failure are listed as not run: nothing half-verifies.
	for _, id := range ids[len(r.checks):] {
		m := Message{Format: "not checked, because an earlier check failed"}
		r.checks = append(r.checks, Check{ID: id, Reason: m.String(), msg: m})
	}
	out := &Report{Verdict: Pass, Checks: r.checks, NotProven: slices.Clone(notProven)}
	if !r.failed && len(r.policy.Witnesses) > 0 {
		// A quorum of witnesses proves the first two: one history, and an
		// independent time.
		out.NotProven = append([]string{witnessesNotProven}, notProven[2:]...)
	}
	if r.failed {
		out.Verdict = Fail
	} else {
		out.Entry = r.facts
	}
	return out
}

var notProven = []string{
	"that the log showed this same history to everyone: a log could fork its history for different readers; compare checkpoints with other auditors (witness cosignatures will make this automatic)",
	"when the entry was logged, other than by the log operator's own clock: logged_at is the log's word, not an independent time",
	"that the key was not revoked between its enrollment and this entry: the log refuses such entries, but a bundle cannot prove an absence; a full audit of the log can",
	"that no later correction exists: a later pledge by the same signer may supersede this one",
	"that no later ruling of the supervising authority annulled it: a ruling is a later entry of the log, which a person's history shows",
	"who physically used the key: the enrollment shows that a registrar vouched the key belongs to the person, and that the person held it",
	"that the signer's own device made the signature: a key kept by the signing page can be used by any script of that page, so the page the log operator served could have signed with it",
}

// witnessesNotProven replaces the first two of notProven once a quorum of
// witnesses cosigned (word: so that the catalog test finds it).
var witnessesNotProven = word("that the witnesses are independent of the log operator and of each other: the trust policy chose them; their cosignatures show only that they saw one consistent history, and when").Format

// humanDate writes 27 November 2023 (the month translated).
func humanDate(t time.Time) Message {
	return msgf("%d %s %d", t.Day(), word(t.Month().String()), t.Year())
}

func humanLogged(t time.Time) Message {
	t = t.UTC()
	return msgf("%s at %s UTC", humanDate(t), t.Format("15:04:05"))
}

// opened is an entry whose inclusion under the checkpoint has been checked.
type opened struct {
	ep    *EntryProof
	entry Entry
	proof *Proof
	// jws is entry.JWS as pledge.ParseUnvalidated read it, once a check has
	// parsed it: the signature check reads the enrollment's key from it,
	// and the key check verifies the same JWS, without parsing it again.
	jws *pledge.JWS
}

func (o *opened) index() uint64 { return o.proof.Index }

// run applies the checks in order, stopping at the first that fails.
func (r *report) run(b *Bundle) {
	r.bundle = b
	for _, check := range []func() bool{
		r.checkCheckpoint, r.checkInclusion, r.checkSignature, r.checkKey,
		r.checkTemplate, r.checkStatement, r.checkTime, r.checkWitness, r.checkClaim,
	} {
		if !check() {
			return
		}
	}
}

// checkCheckpoint: every proof in the bundle names the same checkpoint,
// signed by the log's key.
func (r *report) checkCheckpoint() bool {
	p := r.policy
	open := func(what Message, ep *EntryProof) (*opened, bool) {
		if ep == nil {
			return nil, true
		}
		e, pr, err := ep.read() // already read by ParseBundle, usually
		if err != nil {
			r.fail(CheckCheckpoint, "%s or its proof cannot be read: %s", what, plain(err))
			return nil, false
		}
		if r.main != nil && string(pr.Checkpoint) != string(r.main.proof.Checkpoint) {
			r.fail(CheckCheckpoint, "%s is proved under a different checkpoint than the entry: both must come from the same signed state of the log", what)
			return nil, false
		}
		return &opened{ep: ep, entry: e, proof: pr}, true
	}
	var ok bool
	if r.main, ok = open(msgf("the entry"), r.bundle.main()); !ok {
		return false
	}
	if r.enrollment, ok = open(msgf("the key's enrollment"), r.bundle.Key.Enrollment); !ok {
		return false
	}
	if r.template, ok = open(msgf("the template"), r.bundle.Template); !ok {
		return false
	}
	cp, n, err := OpenCheckpoint(r.main.proof.Checkpoint, p.Origin, p.Verifier())
	if err != nil {
		m := explainCheckpoint(err, p)
		r.fail(CheckCheckpoint, m.Format, m.Args...)
		return false
	}
	r.cp, r.note = cp, n
	r.pass(CheckCheckpoint, "the log %s signed a checkpoint of %d entries with root %x…", quote(cp.Origin), cp.Size, cp.Root[:8])
	return true
}

// checkInclusion: every entry of the bundle is in the checkpoint's tree,
// whose signature was checked once.
func (r *report) checkInclusion() bool {
	if err := r.main.proof.verifyInclusion(r.main.ep.Entry, r.cp); err != nil {
		r.fail(CheckInclusion, "the entry is not at index %d of the log's checkpoint: %s", r.main.index(), explainInclusion(err))
		return false
	}
	parts := []Message{msgf("the entry is at index %d", r.main.index())}
	for _, o := range []struct {
		what Message
		e    *opened
	}{{msgf("the key's enrollment"), r.enrollment}, {msgf("the template"), r.template}} {
		if o.e == nil {
			continue
		}
		if err := o.e.proof.verifyInclusion(o.e.ep.Entry, r.cp); err != nil {
			r.fail(CheckInclusion, "%s is not at index %d of the log's checkpoint: %s", o.what, o.e.index(), explainInclusion(err))
			return false
		}
		parts = append(parts, msgf("%s at index %d", o.what, o.e.index()))
	}
	r.pass(CheckInclusion, "%s of that log", joinAnd(parts))
	return true
}

// checkSignature: the entry's JWS is well-formed and every signature on it
// is valid, under the key the bundle's enrollment holds, the policy's
// registrars, or an x5c chain to a policy root.
func (r *report) checkSignature() bool {
	p := r.policy
	// The statement's own rules are the statement check's: parse the JWS
	// strictly but leave them for later, so that a validly signed pledge
	// with, say, a wrong date is reported as such.
	jws, err := pledge.ParseUnvalidated(r.main.entry.JWS)
	if err != nil {
		r.fail(CheckSignature, "the signed document in the entry (a JWS) is not well-formed: %s", plain(err))
		return false
	}
	r.jws = jws
	keys := pledge.NewKeySet()
	for _, reg := range p.Registrars {
		keys.Add(reg.JWK)
	}
	for _, rd := range p.Readers {
		keys.Add(rd.JWK) // a ruling's signers; the key check judges their role
	}
	if _, isPledge := jws.Statement.(*pledge.Pledge); isPledge && r.enrollment != nil {
		// Only the enrolled key is read here; whether the enrollment itself
		// holds is the key check's.
		ej, err := r.enrollment.parse()
		if err != nil {
			r.fail(CheckSignature, "the key's enrollment (index %d) is not a well-formed JWS, so the key it would bind is unknown: %s", r.enrollment.index(), plain(err))
			return false
		}
		e, ok := ej.Statement.(*pledge.Enrollment)
		if !ok || e.JWK == nil {
			r.fail(CheckSignature, "the key evidence at index %d is %s, not an enrollment", r.enrollment.index(), article(ej.Statement.StatementType()))
			return false
		}
		keys.Add(e.JWK)
	}
	v, err := jws.Verify(p.VerifyOptions(keys))
	if err != nil {
		if errors.Is(err, pledge.ErrUnknownKey) {
			r.fail(CheckSignature, "the %s is signed with a key that neither the bundle's enrollment nor the policy's registrars hold, so its signature cannot be checked (%s); a retired registrar stays in the policy with \"until\"", word(jws.Statement.StatementType()), plain(err))
		} else {
			r.fail(CheckSignature, "the %s's signature is not valid: %s", word(jws.Statement.StatementType()), plain(err))
		}
		return false
	}
	r.v = v
	kids := make([]Message, len(v.Signers))
	for i, s := range v.Signers {
		kids[i] = msgf("%s key %s", s.Header.Algorithm, s.Key.KeyID())
	}
	r.pass(CheckSignature, "the %s carries %d valid signature(s): %s", word(jws.Statement.StatementType()), len(v.Signers), joinWith("%s, %s", kids))
	return true
}

// verifyEvidence checks a registrar-signed entry of the bundle (an
// enrollment or a template) under the policy alone, and its rules at the
// time the log recorded it.
// It is pledge.Verify, with the JWS parsed at most once per bundle.
func (r *report) verifyEvidence(o *opened) (*pledge.Verified, error) {
	j, err := o.parse()
	if err != nil {
		return nil, err
	}
	if err := j.Statement.Validate(); err != nil {
		return nil, err
	}
	return j.Verify(r.policy.VerifyOptions(r.policy))
}

// parse reads the entry's JWS (pledge.ParseUnvalidated), once. Nothing
// mutates a parsed JWS, so checks may share it.
func (o *opened) parse() (*pledge.JWS, error) {
	if o.jws != nil {
		return o.jws, nil
	}
	j, err := pledge.ParseUnvalidated(o.entry.JWS)
	if err != nil {
		return nil, err
	}
	o.jws = j
	return j, nil
}

// checkKey: the key that signed is bound to the signer (pledges), or the
// registrars who signed may do what the statement does.
func (r *report) checkKey() bool {
	p, v := r.policy, r.v
	loggedAt := r.main.entry.LoggedAt
	switch st := v.Statement.(type) {
	case *pledge.Pledge:
		return r.checkPledgeKey(st)
	case *pledge.Enrollment:
		if r.enrollment != nil {
			r.fail(CheckKey, "an enrollment's bundle carries another enrollment as key evidence")
			return false
		}
		regs, err := p.CheckEnrollment(st, v.Signers, loggedAt)
		if err != nil {
			r.fail(CheckKey, "%s", plain(err))
			return false
		}
		r.pass(CheckKey, "registrar %s enrolled key %s for %s %s %s, and the key signed too (proof of possession)", registrarNames(regs), st.JWK.KeyID(), st.Subject.Scheme, st.Subject.ID, quote(st.Subject.Name))
		return true
	case *pledge.Revocation:
		if r.enrollment == nil {
			r.fail(CheckKey, "the bundle carries no enrollment of the revoked key %s, so nothing shows whose key it was", st.KID)
			return false
		}
		ev, err := r.verifyEvidence(r.enrollment)
		if err != nil {
			r.fail(CheckKey, "the revoked key's enrollment (index %d) does not verify under the policy: %s", r.enrollment.index(), plain(err))
			return false
		}
		e, ok := ev.Statement.(*pledge.Enrollment)
		switch {
		case !ok:
			r.fail(CheckKey, "the key evidence at index %d is %s, not an enrollment", r.enrollment.index(), article(ev.Statement.StatementType()))
			return false
		case e.JWK.KeyID() != st.KID:
			r.fail(CheckKey, "the enrollment at index %d is for key %s, not for the revoked key %s", r.enrollment.index(), e.JWK.KeyID(), st.KID)
			return false
		case r.enrollment.index() >= r.main.index():
			r.fail(CheckKey, "the enrollment (index %d) was logged after the revocation (index %d)", r.enrollment.index(), r.main.index())
			return false
		}
		regs, err := p.CheckRevocation(v.Signers, &e.Subject, loggedAt)
		if err != nil {
			r.fail(CheckKey, "%s", plain(err))
			return false
		}
		r.pass(CheckKey, "registrar %s revoked key %s, which was enrolled for %s %s %s at index %d", registrarNames(regs), st.KID, e.Subject.Scheme, e.Subject.ID, quote(e.Subject.Name), r.enrollment.index())
		return true
	case *pledge.Template:
		regs, err := p.CheckTemplate(st, v.Signers, loggedAt)
		if err != nil {
			r.fail(CheckKey, "%s", plain(err))
			return false
		}
		r.pass(CheckKey, "the template is published by registrar %s, for agencies %s", registrarNames(regs), strings.Join(st.Agencies, ", "))
		return true
	case *pledge.Ruling:
		if r.enrollment != nil {
			r.fail(CheckKey, "a ruling's bundle carries an enrollment as key evidence")
			return false
		}
		readers, err := p.CheckRuling(st, v.Signers, r.main.index())
		if err != nil {
			r.fail(CheckKey, "%s", plain(err))
			return false
		}
		names := make([]Message, len(readers))
		for i, rd := range readers {
			names[i] = msgf("%s (key %s)", quote(rd.Name), rd.JWK.KeyID())
		}
		r.pass(CheckKey, "the ruling is signed by the supervising authority %s", joinWith("%s and %s", names))
		return true
	default:
		r.fail(CheckKey, "%s is not a statement pakta logs", article(st.StatementType()))
		return false
	}
}

// checkPledgeKey: the pledge's key was enrolled for the signer by a
// registrar trusted for the signer's agency, or is certificate-backed.
func (r *report) checkPledgeKey(pl *pledge.Pledge) bool {
	p, v := r.policy, r.v
	loggedAt := r.main.entry.LoggedAt
	signedAt, err := pl.SignedAtTime()
	if err != nil {
		r.fail(CheckKey, "the pledge's signed_at %s is not a date and time, so nothing shows that the key was valid when it signed", quote(pl.SignedAt))
		return false
	}
	// A second signature is an official who witnessed the signing: it must
	// be a registrar's, so that the bundle is checked with the policy alone.
	if _, err := p.CheckRegistrars(v.Signers[1:], "", pl.Signer.Agency.Code, loggedAt); err != nil {
		r.fail(CheckKey, "the countersignature is not acceptable: %s", plain(err))
		return false
	}
	first := v.Signers[0]
	if first.Chain != nil {
		if r.enrollment != nil {
			r.fail(CheckKey, "the pledge is certificate-backed, but the bundle also carries an enrollment")
			return false
		}
		if err := p.CheckRootScope(first.Chain, pl.Signer.Agency.Code); err != nil {
			r.fail(CheckKey, "%s", plain(err))
			return false
		}
		leaf := first.Chain[0]
		r.pass(CheckKey, "the signature was made with the key of certificate %s (serialNumber %s), issued under the trusted root %s and valid on %s",
			quote(leaf.Subject.CommonName), quote(leaf.Subject.SerialNumber), quote(first.Chain[len(first.Chain)-1].Subject.CommonName), humanDate(signedAt))
		return true
	}
	kid := first.Key.KeyID()
	if r.enrollment == nil {
		r.fail(CheckKey, "the bundle carries no enrollment for key %s, so nothing binds it to %s %s", kid, pl.Signer.Scheme, quote(pl.Signer.ID))
		return false
	}
	ev, err := r.verifyEvidence(r.enrollment)
	if err != nil {
		if errors.Is(err, pledge.ErrUnknownKey) {
			r.fail(CheckKey, "the key's enrollment (index %d) is signed by a key that is not a registrar's in the trust policy (%s): a registrar that enrolled keys stays in the policy, retired with \"until\"", r.enrollment.index(), plain(err))
		} else {
			r.fail(CheckKey, "the key's enrollment (index %d) is not validly signed by a trusted registrar and the key itself: %s", r.enrollment.index(), plain(err))
		}
		return false
	}
	e, ok := ev.Statement.(*pledge.Enrollment)
	if !ok {
		r.fail(CheckKey, "the key evidence at index %d is %s, not an enrollment", r.enrollment.index(), article(ev.Statement.StatementType()))
		return false
	}
	regs, err := p.CheckEnrollment(e, ev.Signers, r.enrollment.entry.LoggedAt)
	if err != nil {
		r.fail(CheckKey, "the key's enrollment (index %d) does not hold: %s", r.enrollment.index(), plain(err))
		return false
	}
	if err := CheckKeyBinding(pl, kid, Binding{Enrollment: e, Index: r.enrollment.index()}, r.main.index(), loggedAt); err != nil {
		r.fail(CheckKey, "%s", plain(err))
		return false
	}
	r.pass(CheckKey, "the signature was made with key %s, which registrar %s enrolled for %s %s %s at index %d on %s, valid %s",
		kid, registrarNames(regs), e.Subject.Scheme, e.Subject.ID, quote(e.Subject.Name), r.enrollment.index(), humanLogged(r.enrollment.entry.LoggedAt), validity(e))
	r.keyFacts = &KeyFacts{Index: r.enrollment.index(), LoggedAt: formatLoggedAt(r.enrollment.entry.LoggedAt), Registrars: names(regs), ValidFrom: e.ValidFrom, ValidUntil: e.ValidUntil}
	return true
}

// checkTemplate: a pledge was signed under a template that a registrar
// trusted for the signer's agency published in the log before it.
func (r *report) checkTemplate() bool {
	pl, ok := r.v.Statement.(*pledge.Pledge)
	if !ok {
		if r.template != nil {
			r.fail(CheckTemplate, "only a pledge's bundle carries a template, and this entry is %s", article(r.v.Statement.StatementType()))
			return false
		}
		r.pass(CheckTemplate, "%s is not signed under a template", article(r.v.Statement.StatementType()))
		return true
	}
	if r.template == nil {
		r.fail(CheckTemplate, "the bundle carries no template, so nothing shows that the pledge's text is the official wording of template %s", pl.Template.ID)
		return false
	}
	tv, err := r.verifyEvidence(r.template)
	if err != nil {
		r.fail(CheckTemplate, "the template (index %d) is not validly signed by a registrar of the trust policy: %s", r.template.index(), plain(err))
		return false
	}
	tm, ok := tv.Statement.(*pledge.Template)
	if !ok {
		r.fail(CheckTemplate, "the template evidence at index %d is %s, not a template", r.template.index(), article(tv.Statement.StatementType()))
		return false
	}
	published := r.template.entry.LoggedAt
	regs, err := r.policy.CheckTemplate(tm, tv.Signers, published)
	if err != nil {
		r.fail(CheckTemplate, "the template (index %d) does not hold: %s", r.template.index(), plain(err))
		return false
	}
	if err := CheckTemplateBinding(pl, TemplateBinding{Template: tm, Index: r.template.index()}, r.main.index()); err != nil {
		r.fail(CheckTemplate, "%s", plain(err))
		return false
	}
	tf := &TemplateFacts{ID: tm.ID, SHA256: tm.SHA256, Index: r.template.index(), LoggedAt: formatLoggedAt(published), Publishers: names(regs), Deadline: tm.Deadline}
	deadline := msgf("it has no deadline")
	if d, ok, _ := tm.DeadlineTime(); ok {
		onTime := !r.main.entry.LoggedAt.After(d)
		tf.OnTime = &onTime
		if onTime {
			deadline = msgf("the pledge was logged before its deadline %s (on time)", tm.Deadline)
		} else {
			deadline = msgf("the pledge was logged after its deadline %s (late)", tm.Deadline)
		}
	}
	r.templateFacts = tf
	r.pass(CheckTemplate, "the pledge's text is the wording of template %s (sha256 %s…) for %s, which registrar %s published at index %d on %s; %s",
		tm.ID, tm.SHA256[:12], quote(tm.Election), registrarNames(regs), r.template.index(), humanLogged(published), deadline)
	return true
}

// checkStatement: the statement's own rules (identifiers, text, dates).
func (r *report) checkStatement() bool {
	if err := r.v.Statement.Validate(); err != nil {
		r.fail(CheckStatement, "the %s is validly signed, but its content breaks the rules: %s", word(r.v.Statement.StatementType()), plain(err))
		return false
	}
	switch st := r.v.Statement.(type) {
	case *pledge.Pledge:
		r.pass(CheckStatement, "the pledge is well-formed: %s %s is a valid identifier, its date %s is the date of signed_at %s, and its text hashes to its template's sha256",
			st.Signer.Scheme, st.Signer.ID, st.Date, st.SignedAt)
	default:
		r.pass(CheckStatement, "the %s is well-formed", word(st.StatementType()))
	}
	return true
}

// checkTime: a pledge's signed_at against the log's clock.
func (r *report) checkTime() bool {
	loggedAt := r.main.entry.LoggedAt
	facts := &EntryFacts{Origin: r.cp.Origin, Index: r.main.index(), TreeSize: r.cp.Size, Type: r.v.Statement.StatementType(), LoggedAt: formatLoggedAt(loggedAt)}
	facts.Root = base64.StdEncoding.EncodeToString(r.cp.Root[:])
	r.facts = facts
	pl, ok := r.v.Statement.(*pledge.Pledge)
	if !ok {
		r.pass(CheckTime, "the log recorded the %s on %s", word(r.v.Statement.StatementType()), humanLogged(loggedAt))
		return true
	}
	if err := r.policy.CheckSigningTime(pl, loggedAt); err != nil {
		r.fail(CheckTime, "the pledge is %s", plain(err))
		return false
	}
	signedAt, _ := pl.SignedAtTime()
	r.pass(CheckTime, "the log recorded the pledge on %s (%s %s); the signer dated it %s, signed at %s",
		humanLogged(loggedAt), loggedAt.In(signedAt.Location()).Format("15:04:05"), offsetOf(signedAt), humanDate(signedAt), signedAt.Format("15:04 -07:00"))
	signer := pl.Signer
	facts.Signer, facts.Date, facts.SignedAt = &signer, pl.Date, pl.SignedAt
	facts.Template, facts.Election, facts.Place = pl.Template.ID, pl.Election, pl.Place
	facts.KeyID = r.v.Signers[0].Key.KeyID()
	facts.Key, facts.Published = r.keyFacts, r.templateFacts
	facts.Text = pl.Text
	facts.localTimes(signedAt, loggedAt)
	return true
}

// checkClaim: what someone asserts about the bundle, when asked.
func (r *report) checkClaim() bool {
	c := r.claim
	if c == nil {
		return true
	}
	pl, ok := r.v.Statement.(*pledge.Pledge)
	var problems []Message
	if !ok {
		problems = append(problems, msgf("the entry is %s, not a pledge", article(r.v.Statement.StatementType())))
	} else {
		if pl.Signer.Scheme != c.Scheme || pl.Signer.ID != c.ID {
			problems = append(problems, msgf("it was signed by %s %s, not %s %s", pl.Signer.Scheme, pl.Signer.ID, clean(c.Scheme), clean(c.ID)))
		}
		if pl.Date != c.Date {
			problems = append(problems, msgf("it is dated %s, not %s", pl.Date, clean(c.Date)))
		}
		if c.Template != "" && pl.Template.ID != c.Template {
			problems = append(problems, msgf("its template is %s, not %s", pl.Template.ID, clean(c.Template)))
		}
		if c.Election != "" && pl.Election != c.Election {
			problems = append(problems, msgf("its election is %s, not %s", quote(pl.Election), quote(c.Election)))
		}
	}
	if len(problems) > 0 {
		r.fail(CheckClaim, "the claim does not hold: %s", joinWith("%s; %s", problems))
		return false
	}
	r.pass(CheckClaim, "%s %s (%s) signed this pledge dated %s", pl.Signer.Scheme, pl.Signer.ID, quote(pl.Signer.Name), pl.Date)
	return true
}

func names(regs []*Registrar) []string {
	out := make([]string, len(regs))
	for i, r := range regs {
		out[i] = r.Name
	}
	return out
}

// registrarNames writes registrars by their policy names, with the key.
func registrarNames(regs []*Registrar) Message {
	parts := make([]Message, len(regs))
	for i, r := range regs {
		parts[i] = msgf("%s (key %s)", quote(r.Name), r.JWK.KeyID())
	}
	return joinWith("%s and %s", parts)
}

// joinAnd writes "a, b and c".
func joinAnd(parts []Message) Message {
	if len(parts) < 2 {
		return joinWith("%s, %s", parts)
	}
	return msgf("%s and %s", joinWith("%s, %s", parts[:len(parts)-1]), parts[len(parts)-1])
}

// joinWith joins messages two by two with a two-verb format, such as
// "%s, %s", so that the separator is translated too.
func joinWith(format string, parts []Message) Message {
	if len(parts) == 0 {
		return Message{Format: "%s", Args: []any{""}}
	}
	m := parts[0]
	for _, p := range parts[1:] {
		m = msgf(format, m, p)
	}
	return m
}

// word is a word the report prints from a fixed set (statement types,
// months, "a pledge"): translated when the catalog has it (TestTranslated
// enumerates the set).
func word(s string) Message { return Message{Format: s} }

// Text renders the report for people: one line per check, then the verdict
// and what the bundle does not prove.
func (r *Report) Text() string {
	var b strings.Builder
	for _, c := range r.Checks {
		mark := "PASS"
		if !c.Pass {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "%s [%s] %s\n", mark, c.ID, graphic(c.Reason))
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

// graphic escapes every character of s that is not graphic (controls,
// format characters such as bidirectional overrides, separators), so that
// no reason, whatever an entry holds, can forge a line of a report. The
// checks quote what they print from entries; this is the last guard.
func graphic(s string) string {
	for _, r := range s {
		if !unicode.IsGraphic(r) {
			q := strconv.QuoteToGraphic(s)
			return q[1 : len(q)-1]
		}
	}
	return s
}

// MarshalJSONIndent writes the report as indented JSON with stable field
// names.
func (r *Report) MarshalJSONIndent() ([]byte, error) {
	type plain Report
	return json.Marshal((*plain)(r), jsontext.WithIndent("  "))
}

// article puts "a" or "an" before a statement type.
func article(w string) Message {
	if strings.ContainsRune("aeiou", rune(w[0])) {
		return word("an " + w)
	}
	return word("a " + w)
}

// plain words an error for people reading a report: a trust rule's error
// is its translatable Message; another error (from the parsers) loses its
// Go package prefixes and type names and fits on one line.
func plain(err error) any {
	var re *RuleError
	if errors.As(err, &re) {
		return re.Msg
	}
	return plainText(err)
}

func plainText(err error) string {
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
func explainCheckpoint(err error, p *Policy) Message {
	v := p.Verifier()
	var invalid *note.InvalidSignatureError
	var unverified *note.UnverifiedNoteError
	switch {
	case errors.As(err, &invalid):
		return msgf("the checkpoint carries a signature by the log key %s+%08x that is not valid: the checkpoint or its signature was changed after the log signed it", v.Name(), v.KeyHash())
	case errors.As(err, &unverified):
		var names []string
		for _, s := range unverified.Note.UnverifiedSigs {
			names = append(names, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
		}
		return msgf("the checkpoint is not signed by the log key %s+%08x that the policy trusts; it is signed only by %s", v.Name(), v.KeyHash(), strings.Join(names, ", "))
	}
	return msgf("the checkpoint is not a valid statement of the log %q signed with its key: %s", p.Origin, plain(err))
}

func msgf(format string, args ...any) Message { return Message{Format: format, Args: args} }
