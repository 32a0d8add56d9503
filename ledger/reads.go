package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/pledge"
)

// Private reads (DESIGN.md, "Private reads"): who may read a person's
// records is the HTTP layer's to decide; the log tells it whose key signed
// a read token (EnrolledKey), whom an entry names (PeopleOf) and which
// agencies a person belongs to (AgenciesOf), and keeps the record of every
// read that named a person (RecordRead, Reads), beside the tree.

// PersonRef names a person: an identifier scheme and an id in it.
type PersonRef struct {
	Scheme string
	ID     string
}

// EnrolledKey is a key enrolled in the log, as of its latest enrollment.
type EnrolledKey struct {
	JWK *pledge.PublicKey
	// Subject is whom the key belongs to: the enrollment's subject.
	Subject pledge.Person
	// Index is where the latest enrollment of the key is logged.
	Index      uint64
	Enrollment *pledge.Enrollment
	// Revoked is set once a revocation of the key is logged, at RevokedAt.
	Revoked   bool
	RevokedAt uint64
}

// Usable returns nil if the key may sign for its subject at now: not
// revoked, and now within its enrollment's validity.
func (k *EnrolledKey) Usable(now time.Time) error {
	switch {
	case k.Revoked:
		return fmt.Errorf("ledger: key %s was revoked at index %d", k.JWK.KeyID(), k.RevokedAt)
	case !k.Enrollment.Covers(now):
		until := "with no end"
		if k.Enrollment.ValidUntil != "" {
			until = "until " + k.Enrollment.ValidUntil
		}
		return fmt.Errorf("ledger: key %s is valid from %s %s, not at %s", k.JWK.KeyID(), k.Enrollment.ValidFrom, until, now.UTC().Format(time.RFC3339))
	}
	return nil
}

// EnrolledKey returns the key kid as the log knows it, or an error wrapping
// ErrNotFound if no enrollment of it is logged (a registrar's or a policy
// reader's key is not enrolled: the policy has those).
func (l *Log) EnrolledKey(ctx context.Context, kid string) (*EnrolledKey, error) {
	if l.isClosed() {
		return nil, ErrClosed
	}
	b, err := l.st.Get(ctx, keyKey(kid))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: key %s is not enrolled in this log", ErrNotFound, kid)
	}
	if err != nil {
		return nil, err
	}
	rec, err := decodeKeyRecord(b)
	if err != nil {
		return nil, err
	}
	if _, size := l.Checkpoint(); rec.Index >= size {
		// Committed, not yet checkpointed: not yet acknowledged either.
		return nil, fmt.Errorf("%w: key %s is not enrolled in this log yet", ErrNotFound, kid)
	}
	st, err := l.rules.parsed.statement(rec.Index, rec.Payload)
	if err != nil {
		return nil, err
	}
	e, ok := st.(*pledge.Enrollment)
	if !ok {
		return nil, fmt.Errorf("ledger: the key record of %s holds a %s", kid, st.StatementType())
	}
	return &EnrolledKey{JWK: e.JWK, Subject: e.Subject, Index: rec.Index, Enrollment: e, Revoked: rec.Revoked, RevokedAt: rec.RevokedAt}, nil
}

// PeopleOf returns the people entry index names, each once, with the agency
// the entry gives them: a pledge's signer, an enrollment's subject, the
// subject of a revoked key, and the people of the entries a ruling
// concerns. A template names nobody.
func (l *Log) PeopleOf(ctx context.Context, index uint64) ([]pledge.Person, error) {
	if _, size := l.Checkpoint(); index >= size {
		return nil, fmt.Errorf("%w: entry %d: the log has %d entries", ErrNotFound, index, size)
	}
	st, err := storedStatement(ctx, l.st, index)
	if err != nil {
		return nil, err
	}
	var out []pledge.Person
	add := func(p pledge.Person) {
		if !slices.ContainsFunc(out, func(q pledge.Person) bool {
			return q.Scheme == p.Scheme && q.ID == p.ID && q.Agency.Code == p.Agency.Code
		}) {
			out = append(out, p)
		}
	}
	if r, ok := st.(*pledge.Ruling); ok {
		for _, c := range r.Concerns {
			cs, err := storedStatement(ctx, l.st, c)
			if err != nil {
				return nil, err
			}
			ps, err := l.peopleOfStatement(ctx, cs)
			if err != nil {
				return nil, err
			}
			for _, p := range ps {
				add(p)
			}
		}
		return out, nil
	}
	ps, err := l.peopleOfStatement(ctx, st)
	for _, p := range ps {
		add(p)
	}
	return out, err
}

func (l *Log) peopleOfStatement(ctx context.Context, st pledge.Statement) ([]pledge.Person, error) {
	switch s := st.(type) {
	case *pledge.Pledge:
		return []pledge.Person{s.Signer}, nil
	case *pledge.Enrollment:
		return []pledge.Person{s.Subject}, nil
	case *pledge.Revocation:
		k, err := l.EnrolledKey(ctx, s.KID)
		if err != nil {
			return nil, err
		}
		return []pledge.Person{k.Subject}, nil
	}
	return nil, nil
}

// maxAgencyEntries bounds the entries AgenciesOf reads: a person has a few
// enrollments and pledges, not thousands.
const maxAgencyEntries = 10_000

// AgenciesOf returns the agency codes the log's enrollments and pledges
// give the person (scheme, id), each once, in log order: none for a person
// the log does not know.
func (l *Log) AgenciesOf(ctx context.Context, scheme, id string) ([]string, error) {
	prefix := personPrefix(rowPerson, scheme, id)
	_, size := l.Checkpoint()
	var idx []uint64
	err := l.st.Scan(ctx, prefix, func(key, v []byte) error {
		if len(key) != len(prefix)+8 || len(v) != 1 || (v[0] != 'e' && v[0] != 'p') {
			return nil
		}
		if i := binary.BigEndian.Uint64(key[len(prefix):]); i < size {
			idx = append(idx, i)
		}
		if len(idx) >= maxAgencyEntries {
			return errStopScan
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return nil, fmt.Errorf("ledger: reading the entries of %s %s: %w", scheme, id, err)
	}
	var out []string
	for _, i := range idx {
		st, err := storedStatement(ctx, l.st, i)
		if err != nil {
			return nil, err
		}
		ps, err := l.peopleOfStatement(ctx, st)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if p.Scheme == scheme && p.ID == id && !slices.Contains(out, p.Agency.Code) {
				out = append(out, p.Agency.Code)
			}
		}
	}
	return out, nil
}

// Read is the record of one restricted read that named a person.
type Read struct {
	At time.Time `json:"at"`
	// Reader is who signed the request.
	Reader ReaderInfo `json:"reader"`
	// Request is the reader's signed request, the read token (a compact
	// JWS) exactly as sent: evidence anyone can check with the reader's
	// key that this reader asked for this path.
	Request string `json:"request"`
}

// ReaderInfo names the signer of a read.
type ReaderInfo struct {
	// Role is "registrar", a policy reader's role (auditor, supervisor), or
	// "employee" (the person's own key).
	Role string `json:"role"`
	// Name is the policy's name of a registrar or reader; empty for an
	// employee, who reads only their own records.
	Name string `json:"name,omitempty"`
	KID  string `json:"kid"`
}

// Side row keys of read records (store.Side):
//
//	v/<at ms 8B BE><nonce>                         → the Read, as JSON
//	w/<len scheme><scheme><len id><id><at ms 8B BE><nonce> → ∅: a person's reads, in time order
//
// A read names the people once each, however many: an audit's entry tile
// names 256 people and stores its request once.
var (
	readPrefix       = []byte("v/")
	personReadPrefix = []byte("w/")
)

func readPos(at time.Time, nonce string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(at.UnixMilli())), nonce...)
}

func personReadsPrefix(scheme, id string) []byte {
	return appendLP(appendLP(bytes.Clone(personReadPrefix), scheme), id)
}

// RecordRead records durably that rd read the records of people (each
// once), before the caller answers. nonce is the read token's (unique among
// tokens not yet expired, and recorded with rd.At, so unique for good).
// Below the disk reserve it returns ErrDiskFull and records nothing: a
// restricted read is not served unrecorded.
func (l *Log) RecordRead(ctx context.Context, rd Read, nonce string, people []PersonRef) error {
	if l.isClosed() {
		return ErrClosed
	}
	if len(people) == 0 {
		return nil
	}
	if err := l.readsRecordable(); err != nil {
		return err
	}
	rows, err := readRows(rd, nonce, people)
	if err != nil {
		return err
	}
	if err := l.st.SideUpdate(ctx, &store.SideUpdate{Put: rows}); err != nil {
		return fmt.Errorf("ledger: recording a read: %w", err)
	}
	return nil
}

// readsRecordable refuses restricted reads below the disk reserve: a read
// that cannot be recorded is not served.
func (l *Log) readsRecordable() error {
	if d := l.disk.status(); d.Low {
		return fmt.Errorf("%w: %d MiB free, below the %d MiB reserve: restricted reads are not served while they cannot be recorded", ErrDiskFull, d.Free>>20, d.Reserve>>20)
	}
	return nil
}

// readRows are the rows that record rd: the record, and a row for each
// person it names (each once).
func readRows(rd Read, nonce string, people []PersonRef) ([]store.Row, error) {
	rd.At = rd.At.UTC().Truncate(time.Millisecond)
	b, err := json.Marshal(rd)
	if err != nil {
		return nil, fmt.Errorf("ledger: encoding a read record: %w", err)
	}
	pos := readPos(rd.At, nonce)
	rows := []store.Row{{Key: append(bytes.Clone(readPrefix), pos...), Value: b}}
	seen := make(map[PersonRef]bool, len(people))
	for _, p := range people {
		if !seen[p] {
			seen[p] = true
			rows = append(rows, store.Row{Key: append(personReadsPrefix(p.Scheme, p.ID), pos...)})
		}
	}
	return rows, nil
}

// ReadsPage is one page of a person's reads.
type ReadsPage struct {
	Reads []Read
	// More reports that reads follow: resume after Next.
	More bool
	Next []byte
}

// Reads returns up to limit (1 to MaxPageLimit) records of reads of the
// person (scheme, id), in time order, after the position after (nil for
// the first page; a page's Next for the following one).
func (l *Log) Reads(ctx context.Context, scheme, id string, after []byte, limit int) (ReadsPage, error) {
	if limit < 1 || limit > MaxPageLimit {
		return ReadsPage{}, fmt.Errorf("%w: page limit %d is not between 1 and %d", ErrInvalid, limit, MaxPageLimit)
	}
	prefix := personReadsPrefix(scheme, id)
	start := prefix
	if after != nil {
		start = append(append(bytes.Clone(prefix), after...), 0) // the first key after it
	}
	var page ReadsPage
	var positions [][]byte
	err := l.st.SideScan(ctx, prefix, start, func(k, _ []byte) error {
		if len(positions) == limit {
			page.More = true
			return errStopScan
		}
		positions = append(positions, bytes.Clone(k[len(prefix):]))
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return ReadsPage{}, fmt.Errorf("ledger: reading the reads of %s %s: %w", scheme, id, err)
	}
	for _, pos := range positions {
		b, err := l.st.SideGet(ctx, append(bytes.Clone(readPrefix), pos...))
		if err != nil {
			return ReadsPage{}, fmt.Errorf("ledger: the read record of %s %s at %x: %w", scheme, id, pos, err)
		}
		var rd Read
		if err := json.Unmarshal(b, &rd); err != nil {
			return ReadsPage{}, fmt.Errorf("ledger: the read record at %x is malformed: %w", pos, err)
		}
		page.Reads = append(page.Reads, rd)
	}
	if page.More {
		page.Next = positions[len(positions)-1]
	}
	return page, nil
}
