package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// rowView is the log's index as of one position: the committed rows plus
// those of the entries sequenced before it in the same batch. get returns
// nil, nil for an absent row.
type rowView interface {
	get(ctx context.Context, key []byte) ([]byte, error)
	// statement is the statement logged at index (before the one being
	// accepted), or nil when the view cannot read entries (an audit
	// through tiles, which keeps none): rules may use it only for index
	// rows, never to decide.
	statement(ctx context.Context, index uint64) (pledge.Statement, error)
}

// overlay is a batch's rows (and statements) on top of the store.
// The batch being written, if any, lies between the two: its rows are not
// in the store until its commit returns.
type overlay struct {
	st     store.Reader
	recent *rowCache // durable rows, checked before the store
	prev   *overlay  // the batch in flight, or nil
	rows   map[string][]byte
	stmts  map[uint64]pledge.Statement
}

func (o *overlay) statement(ctx context.Context, index uint64) (pledge.Statement, error) {
	for v := o; v != nil; v = v.prev {
		if st, ok := v.stmts[index]; ok {
			return st, nil
		}
	}
	return storedStatement(ctx, o.st, index)
}

// storedStatement reads and parses the statement of a stored entry.
func storedStatement(ctx context.Context, st store.Reader, index uint64) (pledge.Statement, error) {
	b, err := st.Entry(ctx, index)
	if err != nil {
		return nil, fmt.Errorf("ledger: reading entry %d: %w", index, err)
	}
	e, err := verify.ParseEntry(b)
	if err != nil {
		return nil, fmt.Errorf("ledger: entry %d: %w", index, err)
	}
	j, err := pledge.Parse(e.JWS)
	if err != nil {
		return nil, fmt.Errorf("ledger: entry %d: %w", index, err)
	}
	return j.Statement, nil
}

func (o *overlay) get(ctx context.Context, key []byte) ([]byte, error) {
	for v := o; v != nil; v = v.prev {
		if b, ok := v.rows[string(key)]; ok {
			return b, nil
		}
	}
	if b, ok := o.recent.get(key); ok {
		return b, nil
	}
	v, err := o.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err == nil && immutable(key) {
		o.recent.put([]store.Row{{Key: key, Value: v}})
	}
	return v, err
}

func (o *overlay) put(rows []store.Row) {
	for _, r := range rows {
		o.rows[string(r.Key)] = r.Value
	}
}

// outcome of the acceptance rules for one statement: either a duplicate of
// an entry already logged, or the rows to write with it.
type outcome struct {
	duplicate bool
	index     uint64 // the earlier entry, for a duplicate
	rows      []store.Row
	meta      meta // what the entry's bundle carries (also in rows)
}

func lookupIndex(ctx context.Context, v rowView, key []byte) (uint64, bool, error) {
	b, err := v.get(ctx, key)
	if err != nil || b == nil {
		return 0, false, err
	}
	i, err := parseIndex(b)
	return i, err == nil, err
}

// rules applies the log's acceptance rules: the trust rules of package
// verify (the same functions the offline verifier and the audit call),
// and the log's own (duplicates, conflicts, corrections). The log and the
// audit each have one.
type rules struct {
	policy *verify.Policy
	parsed parsedCache
}

// parsedCache keeps the statements the rules read back from the index
// (enrollments, templates), parsed, by the index of their entry: an entry
// never changes, so a cached statement never goes stale. The log also puts
// in the enrollments and templates it has just committed, so that a pledge
// following its key's enrollment is checked without parsing the enrollment
// again.
//
// It is bounded by maxParsed and emptied when full: a province enrolls
// millions of keys, each used about once, and every cached statement is
// live heap that the collector marks and doubles (its heap goal is twice
// the live heap).
type parsedCache struct {
	m recentMap[uint64, pledge.Statement]
}

// maxParsed bounds a parsedCache: a morning assembly of 16,000 employees
// enrolled and then pledging is served from it. A parsed enrollment with
// its key is about 1 KB of heap. At the former 65,536 the key and statement
// caches held some 30 MB of a 52 MB live heap in a 10 M-entry server, and
// its RSS missed 300 MB (BENCHMARKS.md, session 8).
const maxParsed = 1 << 14

func (c *parsedCache) statement(index uint64, payload []byte) (pledge.Statement, error) {
	if st, ok := c.m.load(index); ok {
		return st, nil
	}
	st, err := pledge.ParseStatement(payload)
	if err != nil {
		return nil, fmt.Errorf("ledger: the stored statement of entry %d does not parse: %w", index, err)
	}
	c.put(index, st)
	return st, nil
}

// put keeps st, the statement of entry index, parsed from that entry's
// payload (or verified from its JWS: the same parse).
func (c *parsedCache) put(index uint64, st pledge.Statement) { c.m.put(index, st, maxParsed) }

// refusal turns a trust rule's error into the log's: ErrForbidden for what
// the policy does not allow, ErrInvalid for the rest.
func refusal(err error) error {
	if errors.Is(err, verify.ErrNotAllowed) {
		return fmt.Errorf("%w: %w", ErrForbidden, err)
	}
	return fmt.Errorf("%w: %w", ErrInvalid, err)
}

// accept applies the log's acceptance rules to a verified statement that
// would be entry index, logged at loggedAt. Rejections wrap ErrInvalid,
// ErrForbidden or are a *ConflictError; any other error is the log's own.
// dedupPayload is s's dedup row key (dedupKey), or nil to have accept
// hash the payload itself.
func (ru *rules) accept(ctx context.Context, v rowView, s *pledge.Verified, dedupPayload []byte, index uint64, loggedAt time.Time) (outcome, error) {
	if dedupPayload == nil {
		dedupPayload = dedupKey(s.Payload)
	}
	if i, ok, err := lookupIndex(ctx, v, dedupPayload); err != nil || ok {
		return outcome{duplicate: true, index: i}, err
	}
	a := &acceptance{rules: ru, ctx: ctx, v: v, s: s, index: index, loggedAt: loggedAt}
	a.rows = []store.Row{{Key: dedupPayload, Value: indexValue(index)}}
	var err error
	switch st := s.Statement.(type) {
	case *pledge.Pledge:
		err = a.pledge(st)
	case *pledge.Enrollment:
		err = a.enrollment(st)
	case *pledge.Revocation:
		err = a.revocation(st)
	case *pledge.Template:
		err = a.template(st)
	case *pledge.Ruling:
		err = a.ruling(st)
	default:
		err = fmt.Errorf("%w: statement type %q is not logged", ErrInvalid, s.Statement.StatementType())
	}
	if err != nil {
		return outcome{}, err
	}
	a.rows = append(a.rows, store.Row{Key: metaKey(index), Value: a.meta.encode()})
	return outcome{rows: a.rows, meta: a.meta}, nil
}

// dedupKey is the one dedup row of a statement, by payload: the same JWS
// bytes have the same payload, and a statement re-signed (ES256
// signatures differ each time) is still the same statement.
func dedupKey(payload []byte) []byte { return hashKey(rowDedupPayload, payload) }

// acceptance is one statement going through the rules.
type acceptance struct {
	*rules
	ctx      context.Context
	v        rowView
	s        *pledge.Verified
	index    uint64
	loggedAt time.Time
	meta     meta
	rows     []store.Row
}

func (a *acceptance) add(key, value []byte) {
	a.rows = append(a.rows, store.Row{Key: key, Value: value})
}

// registrarsUsed records the first entry each registrar signed, so that the
// log can refuse a policy that drops one it used.
func (a *acceptance) registrarsUsed(regs []*verify.Registrar) error {
	for _, r := range regs {
		key := registrarKey(r.JWK.KeyID())
		if b, err := a.v.get(a.ctx, key); err != nil {
			return err
		} else if b == nil {
			a.add(key, indexValue(a.index))
		}
	}
	return nil
}

// key reads a key's record: its latest enrollment, parsed, and its
// revocation, if any (one row, one read).
func (a *acceptance) key(kid string) (keyRecord, *pledge.Enrollment, bool, error) {
	b, err := a.v.get(a.ctx, keyKey(kid))
	if err != nil || b == nil {
		return keyRecord{}, nil, false, err
	}
	rec, err := decodeKeyRecord(b)
	if err != nil {
		return keyRecord{}, nil, false, err
	}
	st, err := a.parsed.statement(rec.Index, rec.Payload)
	if err != nil {
		return keyRecord{}, nil, false, err
	}
	e, ok := st.(*pledge.Enrollment)
	if !ok {
		return keyRecord{}, nil, false, fmt.Errorf("ledger: the key record of %s holds a %s", kid, st.StatementType())
	}
	return rec, e, true, nil
}

func (a *acceptance) pledge(p *pledge.Pledge) error {
	a.meta.Type = 'p'
	if err := a.policy.CheckSigningTime(p, a.loggedAt); err != nil {
		return fmt.Errorf("%w: pledge %w", ErrInvalid, err)
	}
	// The first signature is the signer's own; any other is a witness of
	// the signing, who must be a registrar for the signer's agency so that
	// a bundle can be checked with the policy alone.
	first := a.s.Signers[0]
	if first.Chain == nil {
		kid := first.Key.KeyID()
		rec, e, enrolled, err := a.key(kid)
		switch {
		case err != nil:
			return err
		case !enrolled:
			return fmt.Errorf("%w: key %s is not enrolled in this log", ErrForbidden, kid)
		case rec.Revoked:
			return fmt.Errorf("%w: key %s was revoked at index %d", ErrForbidden, kid, rec.RevokedAt)
		}
		if err := verify.CheckKeyBinding(p, kid, verify.Binding{Enrollment: e, Index: rec.Index}, a.index, a.loggedAt); err != nil {
			return refusal(err)
		}
		a.meta.HasEnroll, a.meta.Enrollment = true, rec.Index
	} else if err := a.policy.CheckRootScope(first.Chain, p.Signer.Agency.Code); err != nil {
		return refusal(err)
	}
	regs, err := a.policy.CheckRegistrars(a.s.Signers[1:], "", p.Signer.Agency.Code, a.loggedAt)
	if err != nil {
		return refusal(fmt.Errorf("the countersignature: %w", err))
	}
	if err := a.registrarsUsed(regs); err != nil {
		return err
	}
	if err := a.bindTemplate(p); err != nil {
		return err
	}
	latest := latestKey(p.Signer.Scheme, p.Signer.ID, p.Template.ID, p.Election)
	b, err := a.v.get(a.ctx, latest)
	if err != nil {
		return err
	}
	next := latestRecord{Index: a.index}
	if b != nil {
		prev, err := decodeLatest(b)
		if err != nil {
			return err
		}
		annulled, err := a.annulled(prev.Index)
		if err != nil {
			return err
		}
		switch {
		case annulled && p.Supersedes == nil:
			// The pledge before was annulled by a ruling: the signer
			// pledges anew, and corrections count from here.
		case p.Supersedes == nil:
			return &ConflictError{Index: prev.Index, Reason: fmt.Sprintf("%s %s already pledged for template %s and %q at index %d; a correction must say \"supersedes\": %d", p.Signer.Scheme, p.Signer.ID, p.Template.ID, p.Election, prev.Index, prev.Index)}
		case *p.Supersedes != prev.Index:
			return &ConflictError{Index: prev.Index, Reason: fmt.Sprintf("supersedes %d, but the signer's latest pledge for template %s and %q is at index %d", *p.Supersedes, p.Template.ID, p.Election, prev.Index)}
		case int(prev.Corrections) >= a.policy.MaxCorrections:
			return &ConflictError{Index: prev.Index, Reason: fmt.Sprintf("%s %s has corrected the pledge for template %s and %q %d times already, the most the policy allows (max_corrections)", p.Signer.Scheme, p.Signer.ID, p.Template.ID, p.Election, prev.Corrections)}
		}
		if p.Supersedes != nil {
			next.Corrections = prev.Corrections + 1
		}
	} else if p.Supersedes != nil {
		return fmt.Errorf("%w: supersedes %d, but %s %s has no earlier pledge for template %s and %q", ErrInvalid, *p.Supersedes, p.Signer.Scheme, p.Signer.ID, p.Template.ID, p.Election)
	}
	a.add(latest, next.encode())
	a.add(personKey(p.Signer.Scheme, p.Signer.ID, a.index), []byte{a.meta.Type})
	a.add(personDateKey(p.Signer.Scheme, p.Signer.ID, p.Date, a.index), nil)
	a.add(dateKey(p.Date, a.index), nil)
	return nil
}

// bindTemplate finds the template the pledge names and applies the
// template rules.
func (a *acceptance) bindTemplate(p *pledge.Pledge) error {
	b, err := a.v.get(a.ctx, templateKey(p.Template.ID))
	if err != nil {
		return err
	}
	if b == nil {
		return fmt.Errorf("%w: template %s is not published in this log: a registrar publishes it first", ErrForbidden, p.Template.ID)
	}
	ti, payload, err := decodeTemplateRecord(b)
	if err != nil {
		return err
	}
	st, err := a.parsed.statement(ti, payload)
	if err != nil {
		return err
	}
	t, ok := st.(*pledge.Template)
	if !ok {
		return fmt.Errorf("ledger: the template row of %s holds a %s", p.Template.ID, st.StatementType())
	}
	if err := verify.CheckTemplateBinding(p, verify.TemplateBinding{Template: t, Index: ti}, a.index); err != nil {
		return refusal(err)
	}
	a.meta.HasTemplate, a.meta.Template = true, ti
	return nil
}

func (a *acceptance) enrollment(e *pledge.Enrollment) error {
	a.meta.Type = 'e'
	kid := e.JWK.KeyID()
	regs, err := a.policy.CheckEnrollment(e, a.s.Signers, a.loggedAt)
	if err != nil {
		return refusal(err)
	}
	rec, prev, enrolled, err := a.key(kid)
	if err != nil {
		return err
	}
	if rec.Revoked {
		return fmt.Errorf("%w: key %s was revoked at index %d and cannot be enrolled again: make a new key", ErrForbidden, kid, rec.RevokedAt)
	}
	if enrolled && (prev.Subject.Scheme != e.Subject.Scheme || prev.Subject.ID != e.Subject.ID) {
		return &ConflictError{Index: rec.Index, Reason: fmt.Sprintf("key %s is already enrolled for %s %s at index %d: one key belongs to one person", kid, prev.Subject.Scheme, prev.Subject.ID, rec.Index)}
	}
	if err := a.registrarsUsed(regs); err != nil {
		return err
	}
	a.add(keyKey(kid), keyRecord{Index: a.index, Payload: a.s.Payload}.encode())
	a.add(personKey(e.Subject.Scheme, e.Subject.ID, a.index), []byte{a.meta.Type})
	return nil
}

func (a *acceptance) revocation(r *pledge.Revocation) error {
	a.meta.Type = 'r'
	rec, e, enrolled, err := a.key(r.KID)
	if err != nil {
		return err
	}
	if !enrolled {
		// The registrars must still be the policy's, so that a stranger
		// learns nothing from the answer.
		if _, err := a.policy.CheckRegistrars(a.s.Signers, "", "", a.loggedAt); err != nil {
			return refusal(err)
		}
		return fmt.Errorf("%w: key %s is not enrolled in this log, so it cannot be revoked", ErrInvalid, r.KID)
	}
	regs, err := a.policy.CheckRevocation(a.s.Signers, &e.Subject, a.loggedAt)
	if err != nil {
		return refusal(err)
	}
	if rec.Revoked {
		return &ConflictError{Index: rec.RevokedAt, Reason: fmt.Sprintf("key %s is already revoked at index %d", r.KID, rec.RevokedAt)}
	}
	if err := a.registrarsUsed(regs); err != nil {
		return err
	}
	// The revoked key's enrollment goes in the bundle: it shows whose key
	// it was, and so that the registrar acted for that person's agency.
	a.meta.HasEnroll, a.meta.Enrollment = true, rec.Index
	rec.Revoked, rec.RevokedAt = true, a.index
	a.add(keyKey(r.KID), rec.encode())
	a.add(personKey(e.Subject.Scheme, e.Subject.ID, a.index), []byte{a.meta.Type})
	return nil
}

func (a *acceptance) template(t *pledge.Template) error {
	a.meta.Type = 't'
	regs, err := a.policy.CheckTemplate(t, a.s.Signers, a.loggedAt)
	if err != nil {
		return refusal(err)
	}
	key := templateKey(t.ID)
	if b, err := a.v.get(a.ctx, key); err != nil {
		return err
	} else if b != nil {
		prev, _, err := decodeTemplateRecord(b)
		if err != nil {
			return err
		}
		return &ConflictError{Index: prev, Reason: fmt.Sprintf("template %s is already published at index %d: a new wording is a new id", t.ID, prev)}
	}
	if err := a.registrarsUsed(regs); err != nil {
		return err
	}
	a.add(key, encodeTemplateRecord(a.index, a.s.Payload))
	return nil
}

// annulled reports whether a ruling annulled the entry at index.
func (a *acceptance) annulled(index uint64) (bool, error) {
	b, err := a.v.get(a.ctx, annulKey(index))
	return b != nil, err
}

func (a *acceptance) ruling(r *pledge.Ruling) error {
	a.meta.Type = 'u'
	if _, err := a.policy.CheckRuling(r, a.s.Signers, a.index); err != nil {
		return refusal(err)
	}
	for _, i := range r.Annuls {
		if done, err := a.annulled(i); err != nil {
			return err
		} else if done {
			prev, _ := a.v.get(a.ctx, annulKey(i))
			p, _ := parseIndex(prev)
			return &ConflictError{Index: p, Reason: fmt.Sprintf("entry %d is already annulled by the ruling at index %d", i, p)}
		}
	}
	for _, i := range r.Annuls {
		a.add(annulKey(i), indexValue(a.index))
	}
	// The ruling joins the history of every person it concerns. Who that
	// is comes from the entries; an audit through tiles, which keeps no
	// entries, skips these rows (it has no index rows to compare).
	seen := map[string]bool{}
	for _, i := range r.Concerns {
		a.add(concernKey(i, a.index), nil)
		st, err := a.v.statement(a.ctx, i)
		if err != nil {
			return err
		}
		who, err := a.personOf(st)
		if err != nil || who == nil {
			return err
		}
		if k := string(personPrefix(rowPerson, who.Scheme, who.ID)); !seen[k] {
			seen[k] = true
			a.add(personKey(who.Scheme, who.ID, a.index), []byte{a.meta.Type})
		}
	}
	return nil
}

// personOf is whom a statement is about, or nil.
func (a *acceptance) personOf(st pledge.Statement) (*pledge.Person, error) {
	switch s := st.(type) {
	case *pledge.Pledge:
		return &s.Signer, nil
	case *pledge.Enrollment:
		return &s.Subject, nil
	case *pledge.Revocation:
		_, e, ok, err := a.key(s.KID)
		if err != nil || !ok {
			return nil, err
		}
		return &e.Subject, nil
	}
	return nil, nil
}
