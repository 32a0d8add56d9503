package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pakta-id/pakta/ledger/internal/store"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// rowView is the log's index as of one position: the committed rows plus
// those of the entries sequenced before it in the same batch. get returns
// nil, nil for an absent row.
type rowView interface {
	get(ctx context.Context, key []byte) ([]byte, error)
}

// overlay is a batch's rows on top of the store.
type overlay struct {
	st   store.Reader
	rows map[string][]byte
}

func (o *overlay) get(ctx context.Context, key []byte) ([]byte, error) {
	if v, ok := o.rows[string(key)]; ok {
		return v, nil
	}
	v, err := o.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
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
}

func lookupIndex(ctx context.Context, v rowView, key []byte) (uint64, bool, error) {
	b, err := v.get(ctx, key)
	if err != nil || b == nil {
		return 0, false, err
	}
	i, err := parseIndex(b)
	return i, err == nil, err
}

// accept applies the log's acceptance rules to a verified statement that
// would be entry index, logged at loggedAt. Rejections wrap ErrInvalid,
// ErrForbidden or are a *ConflictError; any other error is the log's own.
func accept(ctx context.Context, v rowView, policy *verify.Policy, raw []byte, s *pledge.Verified, index uint64, loggedAt time.Time) (outcome, error) {
	// One dedup row, by payload: the same JWS bytes have the same payload,
	// and a statement re-signed (ES256 signatures differ each time) is
	// still the same statement.
	dedupPayload := hashKey(rowDedupPayload, s.Payload)
	if i, ok, err := lookupIndex(ctx, v, dedupPayload); err != nil || ok {
		return outcome{duplicate: true, index: i}, err
	}
	rows := []store.Row{{Key: dedupPayload, Value: indexValue(index)}}
	var m meta
	var err error
	switch st := s.Statement.(type) {
	case *pledge.Pledge:
		m, rows, err = acceptPledge(ctx, v, policy, s, st, index, loggedAt, rows)
	case *pledge.Enrollment:
		m, rows, err = acceptEnrollment(ctx, v, policy, s, st, index, rows)
	case *pledge.Revocation:
		m, rows, err = acceptRevocation(ctx, v, policy, s, st, index, rows)
	case *pledge.Template:
		m, rows, err = acceptTemplate(ctx, v, policy, s, st, index, rows)
	default:
		err = fmt.Errorf("%w: statement type %q is not logged", ErrInvalid, s.Statement.StatementType())
	}
	if err != nil {
		return outcome{}, err
	}
	rows = append(rows, store.Row{Key: metaKey(index), Value: m.encode()})
	return outcome{rows: rows}, nil
}

// requireRegistrars checks that every signer other than skip is a trusted
// registrar.
func requireRegistrars(policy *verify.Policy, s *pledge.Verified, skip string, what string) (int, error) {
	n := 0
	for _, sg := range s.Signers {
		if sg.Key.KeyID() == skip {
			continue
		}
		if !policy.IsRegistrar(sg.Key.KeyID()) {
			return 0, fmt.Errorf("%w: %s is signed by key %s, which is not a registrar this log trusts", ErrForbidden, what, sg.Key.KeyID())
		}
		n++
	}
	return n, nil
}

// keyState reads a key's record: its latest enrollment and its revocation,
// if any (one row, one read).
func keyState(ctx context.Context, v rowView, kid string) (rec keyRecord, enrolled bool, err error) {
	b, err := v.get(ctx, keyKey(kid))
	if err != nil || b == nil {
		return keyRecord{}, false, err
	}
	rec, err = decodeKeyRecord(b)
	return rec, err == nil, err
}

func acceptPledge(ctx context.Context, v rowView, policy *verify.Policy, s *pledge.Verified, p *pledge.Pledge, index uint64, loggedAt time.Time, rows []store.Row) (meta, []store.Row, error) {
	m := meta{Type: 'p'}
	signedAt, err := p.SignedAtTime()
	if err != nil {
		return m, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := policy.CheckSigningTime(signedAt, loggedAt); err != nil {
		return m, nil, fmt.Errorf("%w: pledge %w", ErrInvalid, err)
	}
	// The first signature is the signer's own; any other is a witness, who
	// must be a registrar so that a bundle can be checked with the policy
	// alone.
	first := s.Signers[0]
	if first.Chain == nil {
		kid := first.Key.KeyID()
		rec, enrolled, err := keyState(ctx, v, kid)
		if err != nil {
			return m, nil, err
		}
		switch {
		case !enrolled:
			return m, nil, fmt.Errorf("%w: key %s is not enrolled in this log", ErrForbidden, kid)
		case rec.Revoked:
			return m, nil, fmt.Errorf("%w: key %s was revoked at index %d", ErrForbidden, kid, rec.RevokedAt)
		case rec.Scheme != p.Signer.Scheme || rec.ID != p.Signer.ID:
			return m, nil, fmt.Errorf("%w: key %s is enrolled for %s %s, not for the signer %s %s", ErrForbidden, kid, rec.Scheme, rec.ID, p.Signer.Scheme, p.Signer.ID)
		case !rec.covers(signedAt):
			return m, nil, fmt.Errorf("%w: key %s is enrolled (index %d) for a period that does not cover signed_at %s", ErrForbidden, kid, rec.Index, p.SignedAt)
		}
		m.HasEnroll, m.Enrollment = true, rec.Index
	}
	if _, err := requireRegistrars(policy, &pledge.Verified{JWS: s.JWS, Signers: s.Signers[1:]}, "", "a countersignature"); err != nil {
		return m, nil, err
	}
	latest := latestKey(p.Signer.Scheme, p.Signer.ID, p.Template.ID, p.Election)
	prev, hasPrev, err := lookupIndex(ctx, v, latest)
	if err != nil {
		return m, nil, err
	}
	switch {
	case hasPrev && p.Supersedes == nil:
		return m, nil, &ConflictError{Index: prev, Reason: fmt.Sprintf("%s %s already pledged for template %s and %s at index %d; a correction must say \"supersedes\": %d", p.Signer.Scheme, p.Signer.ID, p.Template.ID, p.Election, prev, prev)}
	case hasPrev && *p.Supersedes != prev:
		return m, nil, &ConflictError{Index: prev, Reason: fmt.Sprintf("supersedes %d, but the signer's latest pledge for template %s and %s is at index %d", *p.Supersedes, p.Template.ID, p.Election, prev)}
	case !hasPrev && p.Supersedes != nil:
		return m, nil, fmt.Errorf("%w: supersedes %d, but %s %s has no earlier pledge for template %s and %s", ErrInvalid, *p.Supersedes, p.Signer.Scheme, p.Signer.ID, p.Template.ID, p.Election)
	}
	rows = append(rows,
		store.Row{Key: latest, Value: indexValue(index)},
		store.Row{Key: personKey(p.Signer.Scheme, p.Signer.ID, index), Value: []byte{m.Type}},
		store.Row{Key: personDateKey(p.Signer.Scheme, p.Signer.ID, p.Date, index)},
		store.Row{Key: dateKey(p.Date, index)},
	)
	return m, rows, nil
}

func acceptEnrollment(ctx context.Context, v rowView, policy *verify.Policy, s *pledge.Verified, e *pledge.Enrollment, index uint64, rows []store.Row) (meta, []store.Row, error) {
	m := meta{Type: 'e'}
	kid := e.JWK.KeyID()
	if n, err := requireRegistrars(policy, s, kid, "the enrollment"); err != nil {
		return m, nil, err
	} else if n == 0 {
		return m, nil, fmt.Errorf("%w: the enrollment has no registrar signature", ErrForbidden)
	}
	rec, enrolled, err := keyState(ctx, v, kid)
	if err != nil {
		return m, nil, err
	}
	if rec.Revoked {
		return m, nil, fmt.Errorf("%w: key %s was revoked at index %d and cannot be enrolled again: make a new key", ErrForbidden, kid, rec.RevokedAt)
	}
	if enrolled && (rec.Scheme != e.Subject.Scheme || rec.ID != e.Subject.ID) {
		return m, nil, &ConflictError{Index: rec.Index, Reason: fmt.Sprintf("key %s is already enrolled for %s %s at index %d: one key belongs to one person", kid, rec.Scheme, rec.ID, rec.Index)}
	}
	from, err := e.ValidFromTime()
	if err != nil {
		return m, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	until, _, err := e.ValidUntilTime()
	if err != nil {
		return m, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	jwk, err := e.JWK.MarshalJSON()
	if err != nil {
		return m, nil, err
	}
	nr := keyRecord{Index: index, ValidFrom: from, ValidUntil: until, Scheme: e.Subject.Scheme, ID: e.Subject.ID, JWK: jwk}
	rows = append(rows,
		store.Row{Key: keyKey(kid), Value: nr.encode()},
		store.Row{Key: personKey(e.Subject.Scheme, e.Subject.ID, index), Value: []byte{m.Type}},
	)
	return m, rows, nil
}

func acceptRevocation(ctx context.Context, v rowView, policy *verify.Policy, s *pledge.Verified, r *pledge.Revocation, index uint64, rows []store.Row) (meta, []store.Row, error) {
	m := meta{Type: 'r'}
	if _, err := requireRegistrars(policy, s, "", "the revocation"); err != nil {
		return m, nil, err
	}
	rec, enrolled, err := keyState(ctx, v, r.KID)
	if err != nil {
		return m, nil, err
	}
	if !enrolled {
		return m, nil, fmt.Errorf("%w: key %s is not enrolled in this log, so it cannot be revoked", ErrInvalid, r.KID)
	}
	if rec.Revoked {
		return m, nil, &ConflictError{Index: rec.RevokedAt, Reason: fmt.Sprintf("key %s is already revoked at index %d", r.KID, rec.RevokedAt)}
	}
	rec.Revoked, rec.RevokedAt = true, index
	rows = append(rows,
		store.Row{Key: keyKey(r.KID), Value: rec.encode()},
		store.Row{Key: personKey(rec.Scheme, rec.ID, index), Value: []byte{m.Type}},
	)
	return m, rows, nil
}

func acceptTemplate(ctx context.Context, v rowView, policy *verify.Policy, s *pledge.Verified, t *pledge.Template, index uint64, rows []store.Row) (meta, []store.Row, error) {
	m := meta{Type: 't'}
	if _, err := requireRegistrars(policy, s, "", "the template"); err != nil {
		return m, nil, err
	}
	key := templateKey(t.ID)
	if prev, ok, err := lookupIndex(ctx, v, key); err != nil {
		return m, nil, err
	} else if ok {
		return m, nil, &ConflictError{Index: prev, Reason: fmt.Sprintf("template %s is already published at index %d", t.ID, prev)}
	}
	return m, append(rows, store.Row{Key: key, Value: indexValue(index)}), nil
}
