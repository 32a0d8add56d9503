package verify

import (
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pakta-id/pakta/pledge"
)

// The trust rules, written once. The log applies them when it accepts a
// statement (ledger), the offline verifier when it checks a bundle, and the
// audit when it replays a log: so that the three can never disagree. Each
// takes what it judges and when the log recorded it; none reads anything
// else.
//
// A rule's error wraps ErrNotAllowed when the policy forbids the statement
// (the log answers 403), and is a plain error when the statement is
// malformed for the policy, such as a time outside the window (400).

// ErrNotAllowed marks a statement that the trust policy does not allow:
// signed by a key that is not a registrar's, a registrar acting outside its
// agencies or after its retirement, a key not bound to the signer, expired
// or not yet valid, a pledge under a template that does not cover it.
var ErrNotAllowed = errors.New("verify: not allowed by the trust policy")

func notAllowed(format string, args ...any) error {
	return &RuleError{Msg: Message{Format: format, Args: args}, Forbidden: true}
}

// malformed is a rule's error for a statement that is malformed for the
// policy (HTTP 400), such as a time outside the window.
func malformed(format string, args ...any) error {
	return &RuleError{Msg: Message{Format: format, Args: args}}
}

// RuleError is the error of a trust rule: what is wrong, as a localizable
// Message, and whether the policy forbids the statement (it then matches
// ErrNotAllowed) or it is malformed.
type RuleError struct {
	Msg       Message
	Forbidden bool
}

func (e *RuleError) Error() string {
	if e.Forbidden {
		return ErrNotAllowed.Error() + ": " + e.Msg.String()
	}
	return e.Msg.String()
}

// Is makes a forbidding RuleError match ErrNotAllowed.
func (e *RuleError) Is(target error) bool { return e.Forbidden && target == ErrNotAllowed }

// CheckRegistrars returns the registrars that signed, every signature but the
// one by skip (an enrollment's own key) being required to be a trusted
// registrar's, active at loggedAt and with agency in its scope (agency ""
// skips the scope, for a caller that checks it per agency).
func (p *Policy) CheckRegistrars(signers []pledge.Signer, skip, agency string, loggedAt time.Time) ([]*Registrar, error) {
	var out []*Registrar
	for _, s := range signers {
		kid := s.Key.KeyID()
		if kid == skip {
			continue
		}
		r, ok := p.registrars[kid]
		if !ok {
			return nil, notAllowed("key %s is not a registrar's in the trust policy", kid)
		}
		if err := r.may(agency, loggedAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// may checks that the registrar may act for agency at t.
func (r *Registrar) may(agency string, t time.Time) error {
	if !r.ActiveAt(t) {
		return notAllowed("registrar %s was retired at %s, before the log recorded this at %s", quote(r.Name), r.Until, formatLoggedAt(t))
	}
	if agency != "" && !r.Covers(agency) {
		return notAllowed("registrar %s acts for agencies %s, not for agency %s", quote(r.Name), strings.Join(r.Agencies, ", "), quote(agency))
	}
	return nil
}

// CheckEnrollment applies the rules to an enrollment logged at loggedAt and
// returns the registrars that vouched for it: at least one, each trusted
// for the subject's agency and not retired; the key's validity must not
// have ended already. (pledge.Verify has checked the key's own signature.)
func (p *Policy) CheckEnrollment(e *pledge.Enrollment, signers []pledge.Signer, loggedAt time.Time) ([]*Registrar, error) {
	regs, err := p.CheckRegistrars(signers, e.JWK.KeyID(), e.Subject.Agency.Code, loggedAt)
	if err != nil {
		return nil, err
	}
	if len(regs) == 0 {
		return nil, notAllowed("the enrollment carries no registrar's signature")
	}
	if until, ok, err := e.ValidUntilTime(); err != nil {
		return nil, err
	} else if ok && loggedAt.After(until) {
		return nil, notAllowed("the enrollment's valid_until %s had passed when the log recorded it at %s: an expired key is not enrolled", e.ValidUntil, formatLoggedAt(loggedAt))
	}
	return regs, nil
}

// CheckRevocation applies the rules to a revocation logged at loggedAt of a
// key enrolled for subject: a registrar trusted for the subject's agency.
func (p *Policy) CheckRevocation(signers []pledge.Signer, subject *pledge.Person, loggedAt time.Time) ([]*Registrar, error) {
	return p.CheckRegistrars(signers, "", subject.Agency.Code, loggedAt)
}

// CheckTemplate applies the rules to a template logged at loggedAt: signed
// by registrars whose scope holds every agency it names ("*" only from a
// national registrar).
func (p *Policy) CheckTemplate(t *pledge.Template, signers []pledge.Signer, loggedAt time.Time) ([]*Registrar, error) {
	regs, err := p.CheckRegistrars(signers, "", "", loggedAt)
	if err != nil {
		return nil, err
	}
	for _, r := range regs {
		for _, a := range t.Agencies {
			if a == pledge.AllAgencies && !r.National() {
				return nil, notAllowed("template %s is for every agency (\"*\"), but registrar %s acts only for %s", t.ID, quote(r.Name), strings.Join(r.Agencies, ", "))
			}
			if !r.Covers(a) {
				return nil, notAllowed("template %s names agency %s, outside registrar %s's agencies %s", t.ID, quote(a), quote(r.Name), strings.Join(r.Agencies, ", "))
			}
		}
	}
	return regs, nil
}

// CheckRuling applies the rules to a ruling logged at index: signed only
// by keys the policy lists as the supervising authority's (readers with
// the role supervisor, the only thing a reader may write), about entries
// logged before it.
func (p *Policy) CheckRuling(r *pledge.Ruling, signers []pledge.Signer, index uint64) ([]*Reader, error) {
	var out []*Reader
	for _, s := range signers {
		rd, ok := p.readers[s.Key.KeyID()]
		if !ok || rd.Role != RoleSupervisor {
			return nil, notAllowed("a ruling is signed by key %s, which the trust policy does not list as a supervisor's", s.Key.KeyID())
		}
		out = append(out, rd)
	}
	for _, i := range r.Concerns {
		if i >= index {
			return nil, malformed("the ruling at index %d concerns entry %d, which is not logged before it", index, i)
		}
	}
	return out, nil
}

// CheckRootScope applies the scope rule to a certificate-backed signature:
// the policy root its chain (leaf first, root last) ends in must be
// trusted for the signer's agency ("Agencies" header of the root's PEM
// block in the policy's roots).
func (p *Policy) CheckRootScope(chain []*x509.Certificate, agency string) error {
	if len(chain) == 0 {
		return notAllowed("the certificate chain is empty")
	}
	root := chain[len(chain)-1]
	scope, ok := p.rootScope[sha256.Sum256(root.Raw)]
	if !ok {
		return notAllowed("the certificate chain ends in %s, which is not a root of the trust policy", quote(root.Subject.String()))
	}
	for _, a := range scope {
		if a == pledge.AllAgencies || a == agency {
			return nil
		}
	}
	return notAllowed("the certificate root %s is trusted for agencies %s, not for the signer's agency %s", quote(root.Subject.CommonName), strings.Join(scope, ", "), quote(agency))
}

// Binding is a key's enrollment as the rules see it: what it says and
// where the log holds it.
type Binding struct {
	Enrollment *pledge.Enrollment
	Index      uint64
}

// CheckKeyBinding applies the key rules to a pledge signed with key kid and
// logged at index, loggedAt: the enrollment is for that key, logged
// earlier, for the same person (scheme, id, name, agency code, employment:
// the enrollment is authoritative), valid at signed_at, and not expired at
// loggedAt (no grace: an expired key logs nothing new). Revocation is the
// log's to check: a bundle cannot prove an absence.
func CheckKeyBinding(pl *pledge.Pledge, kid string, b Binding, index uint64, loggedAt time.Time) error {
	e := b.Enrollment
	if e.JWK.KeyID() != kid {
		return notAllowed("the enrollment at index %d is for key %s, not for the signing key %s", b.Index, e.JWK.KeyID(), kid)
	}
	if b.Index >= index {
		return notAllowed("key %s was enrolled at index %d, not before the pledge at index %d", kid, b.Index, index)
	}
	if d := subjectDiffers(&e.Subject, &pl.Signer); len(d) > 0 {
		return notAllowed("key %s is enrolled (index %d) for %s %s %s, and the pledge's signer differs in %s", kid, b.Index, e.Subject.Scheme, e.Subject.ID, quote(e.Subject.Name), joinWith("%s, %s", d))
	}
	signedAt, err := pl.SignedAtTime()
	if err != nil {
		return err
	}
	if !e.Covers(signedAt) {
		return notAllowed("key %s is valid %s, which does not cover signed_at %s", kid, validity(e), pl.SignedAt)
	}
	if until, ok, _ := e.ValidUntilTime(); ok && loggedAt.After(until) {
		return notAllowed("key %s expired at %s, before the log recorded the pledge at %s", kid, e.ValidUntil, formatLoggedAt(loggedAt))
	}
	return nil
}

func validity(e *pledge.Enrollment) Message {
	if e.ValidUntil == "" {
		return msgf("from %s with no end", e.ValidFrom)
	}
	return msgf("from %s until %s", e.ValidFrom, e.ValidUntil)
}

// subjectDiffers names the members in which a pledge's signer differs from
// the enrollment's subject (none when they agree).
func subjectDiffers(subject, signer *pledge.Person) []Message {
	var d []Message
	for _, f := range []struct{ name, want, got string }{
		{"scheme", subject.Scheme, signer.Scheme},
		{"id", subject.ID, signer.ID},
		{"name", subject.Name, signer.Name},
		{"agency.code", subject.Agency.Code, signer.Agency.Code},
		{"employment", subject.Employment, signer.Employment},
	} {
		if f.want != f.got {
			d = append(d, msgf("%s (%s, not %s)", f.name, quote(f.got), quote(f.want)))
		}
	}
	return d
}

// TemplateBinding is a published template as the rules see it.
type TemplateBinding struct {
	Template *pledge.Template
	Index    uint64
}

// CheckTemplateBinding applies the template rules to a pledge logged at
// index: the template was logged earlier, and the pledge names it by the
// same id and sha256, for the same election, and the template covers the
// signer's agency. (Who published the template was checked when it was
// logged: CheckTemplate.)
func CheckTemplateBinding(pl *pledge.Pledge, t TemplateBinding, index uint64) error {
	tm := t.Template
	switch {
	case tm.ID != pl.Template.ID:
		return notAllowed("the pledge names template %s, but the template at index %d is %s", pl.Template.ID, t.Index, tm.ID)
	case t.Index >= index:
		return notAllowed("template %s was logged at index %d, not before the pledge at index %d", tm.ID, t.Index, index)
	case tm.SHA256 != pl.Template.SHA256:
		return notAllowed("the pledge's text (sha256 %s) is not the wording of template %s (sha256 %s)", pl.Template.SHA256, tm.ID, tm.SHA256)
	case tm.Election != pl.Election:
		return notAllowed("the pledge is for election %s, but template %s is for %s", quote(pl.Election), tm.ID, quote(tm.Election))
	case !tm.Covers(pl.Signer.Agency.Code):
		return notAllowed("template %s is for agencies %s, not for the signer's agency %s", tm.ID, strings.Join(tm.Agencies, ", "), quote(pl.Signer.Agency.Code))
	}
	return nil
}

// CheckSigningTime applies the time rules to a pledge logged at loggedAt:
// signed_at carries an offset the policy allows, is no later than loggedAt
// plus MaxClockSkew and no earlier than loggedAt minus MaxSigningAge.
// Instants are compared, not calendar dates. Its errors are a malformed
// statement's (400), not ErrNotAllowed.
func (p *Policy) CheckSigningTime(pl *pledge.Pledge, loggedAt time.Time) error {
	signedAt, err := pl.SignedAtTime()
	if err != nil {
		return err
	}
	if z := offsetOf(signedAt); !containsString(p.TimeZones, z) {
		return malformed("signed_at %s has offset %s; the policy allows %s (WIB +07:00, WITA +08:00, WIT +09:00 by default)", pl.SignedAt, z, strings.Join(p.TimeZones, ", "))
	}
	if signedAt.After(loggedAt.Add(MaxClockSkew)) {
		return malformed("signed at %s, which is after the log recorded it at %s (by more than the %d minutes allowed for clock differences)",
			pl.SignedAt, formatLoggedAt(loggedAt), int(MaxClockSkew.Minutes()))
	}
	if signedAt.Before(loggedAt.Add(-p.MaxSigningAge())) {
		return malformed("signed at %s, more than %d days before the log recorded it at %s",
			pl.SignedAt, p.MaxSigningAgeDays, formatLoggedAt(loggedAt))
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func formatLoggedAt(t time.Time) string { return t.UTC().Format(loggedAtLayout) }

// quote prints a string from an entry so that it cannot forge what is
// printed around it: quoted, with every control, format and separator
// character escaped.
func quote(s string) string { return strconv.QuoteToGraphic(s) }

// clean prints a word as it is when every character of it is graphic, and
// quoted with escapes otherwise.
func clean(s string) string {
	for _, r := range s {
		if !unicode.IsGraphic(r) || r == '"' {
			return quote(s)
		}
	}
	return s
}
