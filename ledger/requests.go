package ledger

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/pledge"
)

// Enrollment requests (DESIGN.md, "Enrollment requests: the employee holds
// the key"). An employee's device makes a key and signs the enrollment with
// it alone; the log keeps that request beside the tree, not in it, for
// RequestTTL under a six-digit code; a registrar who has met the person
// fetches it, countersigns it and appends it like any enrollment. Nobody
// but the employee ever holds the employee's key.

// RequestTTL is how long a request stays pending: a day to meet the
// registrar. A request's valid_from is when it was signed, and a request
// signed longer ago than this is refused as expired.
const RequestTTL = 24 * time.Hour

// DefaultMaxRequests caps the pending requests of a log when
// RequestConfig.MaxPending is 0: room for a large agency's whole staff,
// small enough that six-digit codes stay sparse.
const DefaultMaxRequests = 10_000

// requestFutureSkew is how far ahead of the log's clock a request's
// valid_from may be (the device's clock may run ahead).
const requestFutureSkew = 5 * time.Minute

// maxRequestPage is the largest page of List (DESIGN.md: limit 1 to 1,000).
const maxRequestPage = 1000

// Statuses of a request.
const (
	RequestPending  = "pending"
	RequestApproved = "approved"
	RequestExpired  = "expired"
)

// Errors of enrollment requests, besides ErrInvalid (malformed, badly
// signed, expired: 400), ErrForbidden (no registrar acts for the subject's
// agency, or RequestConfig.CheckSubject refused it: 403), *ConflictError
// (the key is already enrolled: 409), pledge.ErrTooLarge (413) and
// ErrNotFound (no such code: 404).
var (
	// ErrRequestConflict: the request collides with another one: its key
	// is pending for another person, or it is a request that already
	// expired, sent again. HTTP 409.
	ErrRequestConflict = errors.New("ledger: conflicting enrollment request")
	// ErrTooManyRequests: the log holds as many pending requests as
	// RequestConfig.MaxPending allows. HTTP 429.
	ErrTooManyRequests = errors.New("ledger: too many pending enrollment requests")
)

// RequestConfig configures enrollment requests. The zero value is ready to
// use.
type RequestConfig struct {
	// Random draws the codes; nil means crypto/rand.Reader.
	Random io.Reader
	// MaxPending caps the pending requests of the log, whoever they name
	// (no subject is refused for having others pending: nobody can lock a
	// person out by filing requests in their name); 0 means
	// DefaultMaxRequests.
	MaxPending int
	// CheckSubject, when set, judges a request's subject before it is kept
	// (a roster: is this person on it, in this exact form?). A
	// *ConflictError or an error wrapping ErrRequestConflict, ErrInvalid or
	// ErrForbidden is returned as it is; any other error is wrapped in
	// ErrForbidden. nil accepts every subject a registrar of the policy
	// acts for.
	CheckSubject func(subject pledge.Person) error
}

// SubmittedRequest is where a submitted request stands.
type SubmittedRequest struct {
	Code    string    // "123-456"
	KID     string    // the enrolled key
	Expires time.Time // when it stops being pending, unless approved
	// Created is false when the key already had a pending request: that
	// request is returned (its content replaced if the new one differs).
	Created bool
}

// PendingRequest is a pending request's content, for a registrar.
type PendingRequest struct {
	Code    string
	KID     string
	JWS     []byte // compact, signed by the enrolled key alone
	Expires time.Time
	Agency  string // the subject's agency code
}

// Requests are the log's pending enrollment requests. Get it from
// Log.Requests; its methods are safe for concurrent use.
type Requests struct {
	l      *Log
	random io.Reader
	max    int
	check  func(pledge.Person) error

	mu      sync.Mutex // serializes changes, so that the count and codes stay true
	pending int        // pending rows stored
	nextDue int64      // Unix ms of the earliest due row; MaxInt64 when none
}

// Side row keys of requests (store.Side). Codes are six ASCII digits.
//
//	q/c/<code>                    → requestRecord (JSON)
//	q/j/<code>                    → the request JWS, while pending
//	q/k/<kid>                     → code: the key's latest request
//	q/s/<scheme><id><code>        → ∅, while pending: the subject's requests
//	q/d/<ms 8B BE><code>          → ∅: when the record changes next
var (
	reqPrefix        = []byte("q/c/")
	reqDuePrefix     = []byte("q/d/")
	reqSubjectPrefix = []byte("q/s/")
)

func reqKey(code string) []byte    { return append(bytes.Clone(reqPrefix), code...) }
func reqJWSKey(code string) []byte { return append([]byte("q/j/"), code...) }
func reqKIDKey(kid string) []byte  { return append([]byte("q/k/"), kid...) }
func reqSubjectKey(scheme, id, code string) []byte {
	return append(appendLP(appendLP(bytes.Clone(reqSubjectPrefix), scheme), id), code...)
}
func reqDueKey(ms int64, code string) []byte {
	return append(binary.BigEndian.AppendUint64(bytes.Clone(reqDuePrefix), uint64(ms)), code...)
}

// requestRecord is what the log remembers of a request. A pending one has
// its JWS beside it; an approved or expired one is a tombstone that
// answers Status until Drop, and keeps its code from being drawn again.
type requestRecord struct {
	Code          string  `json:"code"`
	KID           string  `json:"kid"`
	Scheme        string  `json:"scheme"`
	ID            string  `json:"id"`
	Agency        string  `json:"agency"`
	PayloadSHA256 string  `json:"payload_sha256"`
	Status        string  `json:"status"`
	Expires       int64   `json:"expires"` // Unix ms
	Drop          int64   `json:"drop"`    // Unix ms: a tombstone is deleted then
	Index         *uint64 `json:"index,omitempty"`
}

// due is when the record changes next: a pending one expires, a
// tombstone is dropped.
func (r *requestRecord) due() int64 {
	if r.Status == RequestPending {
		return r.Expires
	}
	return r.Drop
}

func (r *requestRecord) encode() []byte {
	b, _ := json.Marshal(r) // only strings and integers: cannot fail
	return b
}

func decodeRequest(b []byte) (*requestRecord, error) {
	var r requestRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("ledger: a stored enrollment request does not decode: %w", err)
	}
	return &r, nil
}

// FormatCode writes a six-digit code as people read it: "123-456".
func FormatCode(code string) string {
	if len(code) != 6 {
		return code
	}
	return code[:3] + "-" + code[3:]
}

// ParseCode reads a request code as a person may type it: six digits,
// optionally split by one '-' or ' ' after the third ("123-456").
func ParseCode(s string) (string, error) {
	c := s
	if len(c) == 7 && (c[3] == '-' || c[3] == ' ') {
		c = c[:3] + c[4:]
	}
	if len(c) != 6 || !allDigits(c) {
		return "", fmt.Errorf("%w: %q is not a request code (six digits, such as 123-456)", ErrInvalid, s)
	}
	return c, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func newRequests(ctx context.Context, l *Log, cfg RequestConfig) (*Requests, error) {
	r := &Requests{l: l, random: cfg.Random, max: cfg.MaxPending, check: cfg.CheckSubject}
	if r.random == nil {
		r.random = rand.Reader
	}
	if r.max <= 0 {
		r.max = DefaultMaxRequests
	}
	err := l.st.SideScan(ctx, reqPrefix, nil, func(_, v []byte) error {
		rec, err := decodeRequest(v)
		if err != nil {
			return err
		}
		if rec.Status == RequestPending {
			r.pending++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: reading the pending enrollment requests: %w", err)
	}
	if err := r.loadNextDue(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Requests returns the log's enrollment requests.
func (l *Log) Requests() *Requests { return l.requests }

var errStopScan = errors.New("ledger: stop scan")

// loadNextDue reads the earliest due row.
func (r *Requests) loadNextDue(ctx context.Context) error {
	r.nextDue = math.MaxInt64
	err := r.l.st.SideScan(ctx, reqDuePrefix, nil, func(k, _ []byte) error {
		if len(k) >= len(reqDuePrefix)+8 {
			r.nextDue = int64(binary.BigEndian.Uint64(k[len(reqDuePrefix):]))
		}
		return errStopScan
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return fmt.Errorf("ledger: reading the enrollment requests' due times: %w", err)
	}
	return nil
}

func (r *Requests) now() time.Time { return r.l.cfg.Clock() }

// purge expires the pending requests whose day is over and drops the
// tombstones whose time is up. r.mu is held.
func (r *Requests) purge(ctx context.Context, now time.Time) error {
	ms := now.UnixMilli()
	if ms < r.nextDue {
		return nil
	}
	var due [][]byte
	err := r.l.st.SideScan(ctx, reqDuePrefix, nil, func(k, _ []byte) error {
		if len(k) < len(reqDuePrefix)+8 || int64(binary.BigEndian.Uint64(k[len(reqDuePrefix):])) > ms || len(due) == 1000 {
			return errStopScan
		}
		due = append(due, bytes.Clone(k))
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return fmt.Errorf("ledger: reading due enrollment requests: %w", err)
	}
	u := &store.SideUpdate{}
	expired := 0
	for _, k := range due {
		code := string(k[len(reqDuePrefix)+8:])
		u.Delete = append(u.Delete, k)
		rec, err := r.record(ctx, code)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if rec.due() != int64(binary.BigEndian.Uint64(k[len(reqDuePrefix):])) {
			continue // a stale due row: the record moved on
		}
		if rec.Status == RequestPending {
			expired++
			r.tombstone(u, rec, RequestExpired, rec.Expires+RequestTTL.Milliseconds())
			continue
		}
		u.Delete = append(u.Delete, reqKey(code))
		if k, err := r.l.st.SideGet(ctx, reqKIDKey(rec.KID)); err == nil && string(k) == code {
			u.Delete = append(u.Delete, reqKIDKey(rec.KID))
		}
	}
	if len(u.Delete) > 0 {
		if err := r.l.st.SideUpdate(ctx, u); err != nil {
			return fmt.Errorf("ledger: expiring enrollment requests: %w", err)
		}
		r.pending -= expired
		r.l.log.Debug("enrollment requests purged", "expired", expired, "rows", len(due))
	}
	return r.loadNextDue(ctx)
}

// tombstone adds to u the change of a pending rec into a tombstone of
// status, kept until drop (Unix ms): the JWS and the subject row go, the
// record stays to answer Status.
func (r *Requests) tombstone(u *store.SideUpdate, rec *requestRecord, status string, drop int64) {
	u.Delete = append(u.Delete, reqJWSKey(rec.Code), reqSubjectKey(rec.Scheme, rec.ID, rec.Code), reqDueKey(rec.due(), rec.Code))
	rec.Status, rec.Drop = status, drop
	u.Put = append(u.Put, store.Row{Key: reqKey(rec.Code), Value: rec.encode()}, store.Row{Key: reqDueKey(drop, rec.Code), Value: nil})
}

func (r *Requests) record(ctx context.Context, code string) (*requestRecord, error) {
	b, err := r.l.st.SideGet(ctx, reqKey(code))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: no enrollment request %s", ErrNotFound, FormatCode(code))
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: reading enrollment request %s: %w", FormatCode(code), err)
	}
	return decodeRequest(b)
}

// Submit checks an enrollment request and keeps it pending for RequestTTL
// under a new code: a compact JWS of an enrollment signed by the enrolled
// key alone (pledge.VerifyRequest), whose valid_from (when it was signed)
// is within the last RequestTTL and not ahead of the log's clock by more
// than five minutes, whose validity has not ended, for a subject whose
// agency a registrar of the policy acts for (and that CheckSubject, if set,
// accepts), with a key not enrolled yet.
//
// The same key again returns its pending request (Created false) with the
// newer content if it differs, for the same person; for another person it
// is ErrRequestConflict, as is a request that already expired, sent again.
// Past MaxPending pending requests it is ErrTooManyRequests. See the
// errors above for the rest.
func (r *Requests) Submit(ctx context.Context, jws []byte) (SubmittedRequest, error) {
	if len(jws) > pledge.MaxJWSSize {
		return SubmittedRequest{}, fmt.Errorf("ledger: request of %d bytes is over the %d-byte limit: %w", len(jws), pledge.MaxJWSSize, pledge.ErrTooLarge)
	}
	if r.l.isClosed() {
		return SubmittedRequest{}, ErrClosed
	}
	policy := r.l.cfg.Policy
	v, err := pledge.VerifyRequest(jws, policy.VerifyOptions(nil))
	if err != nil {
		if errors.Is(err, pledge.ErrTooLarge) {
			return SubmittedRequest{}, fmt.Errorf("ledger: %w", err)
		}
		return SubmittedRequest{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	e := v.Statement.(*pledge.Enrollment) // VerifyRequest checked it
	kid := e.JWK.KeyID()
	now := r.now()
	if err := r.checkRequest(ctx, e, now); err != nil {
		return SubmittedRequest{}, err
	}
	sum := sha256.Sum256(v.Payload)
	payloadHash := hex.EncodeToString(sum[:])

	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.purge(ctx, now); err != nil {
		return SubmittedRequest{}, err
	}
	if b, err := r.l.st.SideGet(ctx, reqKIDKey(kid)); err == nil {
		rec, err := r.record(ctx, string(b))
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return SubmittedRequest{}, err
		case rec.Status == RequestPending && (rec.Scheme != e.Subject.Scheme || rec.ID != e.Subject.ID):
			return SubmittedRequest{}, fmt.Errorf("%w: key %s is already in pending request %s for %s %s: one key belongs to one person", ErrRequestConflict, kid, FormatCode(rec.Code), rec.Scheme, rec.ID)
		case rec.Status == RequestPending:
			if rec.PayloadSHA256 != payloadHash {
				// The device re-signed (a name in the roster's form, say):
				// the code the registrar will be shown stays the same.
				rec.PayloadSHA256, rec.Agency = payloadHash, e.Subject.Agency.Code
				u := &store.SideUpdate{Put: []store.Row{{Key: reqKey(rec.Code), Value: rec.encode()}, {Key: reqJWSKey(rec.Code), Value: bytes.Clone(jws)}}}
				if err := r.l.st.SideUpdate(ctx, u); err != nil {
					return SubmittedRequest{}, fmt.Errorf("ledger: replacing enrollment request %s: %w", FormatCode(rec.Code), err)
				}
			}
			return SubmittedRequest{Code: FormatCode(rec.Code), KID: kid, Expires: time.UnixMilli(rec.Expires).UTC()}, nil
		case rec.PayloadSHA256 == payloadHash:
			return SubmittedRequest{}, fmt.Errorf("%w: this request was sent before as %s, which is %s: sign a new request", ErrRequestConflict, FormatCode(rec.Code), rec.Status)
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return SubmittedRequest{}, fmt.Errorf("ledger: reading the requests of key %s: %w", kid, err)
	}
	if r.pending >= r.max {
		return SubmittedRequest{}, fmt.Errorf("%w: %d are pending, the most this log keeps; requests expire %s after they are made", ErrTooManyRequests, r.pending, RequestTTL)
	}
	expires := now.Truncate(time.Second).Add(RequestTTL)
	rec := &requestRecord{KID: kid, Scheme: e.Subject.Scheme, ID: e.Subject.ID, Agency: e.Subject.Agency.Code,
		PayloadSHA256: payloadHash, Status: RequestPending, Expires: expires.UnixMilli()}
	for attempt := 0; ; attempt++ {
		if rec.Code, err = r.drawCode(); err != nil {
			return SubmittedRequest{}, err
		}
		u := &store.SideUpdate{
			Absent: [][]byte{reqKey(rec.Code)},
			Put: []store.Row{
				{Key: reqKey(rec.Code), Value: rec.encode()},
				{Key: reqJWSKey(rec.Code), Value: bytes.Clone(jws)},
				{Key: reqKIDKey(kid), Value: []byte(rec.Code)},
				{Key: reqSubjectKey(rec.Scheme, rec.ID, rec.Code), Value: nil},
				{Key: reqDueKey(rec.Expires, rec.Code), Value: nil},
			},
		}
		err := r.l.st.SideUpdate(ctx, u)
		if errors.Is(err, store.ErrExists) && attempt < 100 {
			continue // the code is taken: draw again
		}
		if err != nil {
			return SubmittedRequest{}, fmt.Errorf("ledger: keeping an enrollment request: %w", err)
		}
		break
	}
	r.pending++
	r.nextDue = min(r.nextDue, rec.Expires)
	return SubmittedRequest{Code: FormatCode(rec.Code), KID: kid, Expires: expires.UTC(), Created: true}, nil
}

// checkRequest applies the rules a request must pass before it is kept.
func (r *Requests) checkRequest(ctx context.Context, e *pledge.Enrollment, now time.Time) error {
	kid := e.JWK.KeyID()
	from, err := e.ValidFromTime()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	switch {
	case from.Before(now.Add(-RequestTTL)):
		return fmt.Errorf("%w: the request expired: it was signed (valid_from) at %s, more than %s before the log's time %s; sign a new request", ErrInvalid, e.ValidFrom, RequestTTL, now.UTC().Format(time.RFC3339))
	case from.After(now.Add(requestFutureSkew)):
		return fmt.Errorf("%w: valid_from %s is ahead of the log's time %s: a request's valid_from is when it is signed (check the device's clock)", ErrInvalid, e.ValidFrom, now.UTC().Format(time.RFC3339))
	}
	if until, ok, err := e.ValidUntilTime(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	} else if ok && !now.Before(until) {
		return fmt.Errorf("%w: the request expired: its valid_until %s has passed", ErrInvalid, e.ValidUntil)
	}
	agency := e.Subject.Agency.Code
	covered := false
	for _, reg := range r.l.cfg.Policy.Registrars {
		if reg.Covers(agency) && reg.ActiveAt(now) {
			covered = true
			break
		}
	}
	if !covered {
		return fmt.Errorf("%w: unknown subject: no registrar of this log's trust policy acts for agency %q, so nobody could approve the request", ErrForbidden, agency)
	}
	if r.check != nil {
		if err := r.check(e.Subject); err != nil {
			var ce *ConflictError
			if errors.As(err, &ce) || errors.Is(err, ErrRequestConflict) || errors.Is(err, ErrInvalid) || errors.Is(err, ErrForbidden) {
				return err
			}
			return fmt.Errorf("%w: %w", ErrForbidden, err)
		}
	}
	b, err := r.l.st.Get(ctx, keyKey(kid))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ledger: reading key %s: %w", kid, err)
	}
	rec, err := decodeKeyRecord(b)
	if err != nil {
		return err
	}
	if rec.Revoked {
		return fmt.Errorf("%w: key %s was revoked at index %d: make a new key", ErrForbidden, kid, rec.RevokedAt)
	}
	return &ConflictError{Index: rec.Index, Reason: fmt.Sprintf("key %s is already enrolled at index %d: nothing to request", kid, rec.Index)}
}

// drawCode draws six uniform random digits.
func (r *Requests) drawCode() (string, error) {
	const limit = math.MaxUint32 - math.MaxUint32%1_000_000 // no modulo bias
	var b [4]byte
	for {
		if _, err := io.ReadFull(r.random, b[:]); err != nil {
			return "", fmt.Errorf("ledger: drawing a request code: %w", err)
		}
		if n := binary.BigEndian.Uint32(b[:]); n < limit {
			return fmt.Sprintf("%06d", n%1_000_000), nil
		}
	}
}

// settle is called once an enrollment is in the log at index: the key's
// pending request is approved, and the subject's other pending requests
// are discarded (they read as expired). A failure is logged, not
// returned: the enrollment is logged, and Status reads a settled key as
// approved anyway.
func (r *Requests) settle(ctx context.Context, e *pledge.Enrollment, index uint64) {
	if err := r.settleErr(ctx, e, index); err != nil {
		r.l.log.Warn("settling the enrollment requests of an enrolled key", "kid", e.JWK.KeyID(), "index", index, "err", err)
	}
}

func (r *Requests) settleErr(ctx context.Context, e *pledge.Enrollment, index uint64) error {
	kid := e.JWK.KeyID()
	var codes []string
	prefix := reqSubjectKey(e.Subject.Scheme, e.Subject.ID, "")
	err := r.l.st.SideScan(ctx, prefix, nil, func(k, _ []byte) error {
		if len(k) == len(prefix)+6 {
			codes = append(codes, string(k[len(prefix):]))
		}
		return nil
	})
	if err != nil || len(codes) == 0 {
		return err // nothing pending for this person: no write
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now().UnixMilli()
	u := &store.SideUpdate{}
	settled := 0
	for _, code := range codes {
		rec, err := r.record(ctx, code)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if rec.Status != RequestPending {
			continue
		}
		status := RequestExpired
		if rec.KID == kid {
			status = RequestApproved
			rec.Index = &index
		}
		r.tombstone(u, rec, status, max(rec.Expires, now)+RequestTTL.Milliseconds())
		settled++
	}
	if settled == 0 {
		return nil
	}
	if err := r.l.st.SideUpdate(ctx, u); err != nil {
		return err
	}
	r.pending -= settled
	return r.loadNextDue(ctx)
}

// Pending is how many requests are pending (some may have expired and not
// yet been purged).
func (r *Requests) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pending
}

// Now is the log's clock (Config.Clock): what read tokens and requests are
// judged by.
func (l *Log) Now() time.Time { return l.cfg.Clock() }
