package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// Restricted reads (DESIGN.md, "Private reads"): the reader signs each
// request with a read token, "Authorization: PaktaSig <compact JWS>"
// (package pledge has the format). Here the server checks it: the token is
// for this log (aud is the log's origin), this method, path and query, it
// is within its time, signed by a key the server knows as a reader, and its
// nonce is new (kept durably by the ledger). Any of that failing is 401;
// a reader the request's data is not for is 403. Every read that names a
// person is then recorded, durably, before the answer is sent.
//
// Who reads what:
//   - a policy reader (auditor, supervisor): everything, entry tiles included;
//   - a registrar of the policy, not retired: the people of its agencies;
//   - an enrolled employee key, not revoked and within its validity: that
//     person's own records.

// reader is who signed a read token that passed.
type reader struct {
	kid   string
	token string // the read token as sent: the record keeps it
	nonce string
	exp   time.Time // the token's expiry, until which its nonce is kept
	// spent is set once the nonce is recorded as used (see spend).
	spent bool
	// registrar, for a registrar of the policy (not retired): the
	// subjects of its agencies.
	registrar *verify.Registrar
	// policyReader, for a policy reader (auditor, supervisor): everything.
	policyReader *verify.Reader
	// employee, for a key enrolled in the log: its subject's records only.
	employee *ledger.EnrolledKey
}

// name is how the reader is named in messages and logs.
func (rd *reader) name() string {
	switch {
	case rd.registrar != nil:
		return "registrar " + rd.registrar.Name
	case rd.policyReader != nil:
		return rd.policyReader.Role + " " + rd.policyReader.Name
	case rd.employee != nil:
		return "the key " + rd.kid + " of " + rd.employee.Subject.Scheme + " " + rd.employee.Subject.ID
	}
	return "key " + rd.kid
}

// info is the reader as a read record names it.
func (rd *reader) info() ledger.ReaderInfo {
	switch {
	case rd.registrar != nil:
		return ledger.ReaderInfo{Role: "registrar", Name: rd.registrar.Name, KID: rd.kid}
	case rd.policyReader != nil:
		return ledger.ReaderInfo{Role: rd.policyReader.Role, Name: rd.policyReader.Name, KID: rd.kid}
	}
	return ledger.ReaderInfo{Role: "employee", KID: rd.kid}
}

// mayReadAgency reports whether the reader may read what concerns a
// subject of agency (an enrollment request, today).
func (rd *reader) mayReadAgency(agency string) bool {
	switch {
	case rd.policyReader != nil:
		return true
	case rd.registrar != nil:
		return rd.registrar.Covers(agency)
	}
	return false
}

// mayReadPerson reports whether the reader may read an entry that names p
// (with the agency that entry gives p). A nil reader is a public read
// (Options.PublicEntries).
func (rd *reader) mayReadPerson(p pledge.Person) bool {
	switch {
	case rd == nil || rd.policyReader != nil:
		return true
	case rd.registrar != nil:
		return rd.registrar.Covers(p.Agency.Code)
	case rd.employee != nil:
		return rd.employee.Subject.Scheme == p.Scheme && rd.employee.Subject.ID == p.ID
	}
	return false
}

// scope is the agency filter of the reader's lists; nil is everything.
func (rd *reader) scope() func(agency string) bool {
	if rd.policyReader != nil {
		return nil
	}
	return rd.mayReadAgency
}

// unauthorized is a 401 with the challenge that names the scheme.
func unauthorized(w http.ResponseWriter, msg string, err error) error {
	w.Header().Set("WWW-Authenticate", pledge.ReadScheme)
	return &httpError{status: http.StatusUnauthorized, msg: msg, err: err,
		detail: map[string]any{"scheme": pledge.ReadScheme, "typ": pledge.HeaderType(pledge.TypeRead)}}
}

func forbidden(msg string) error {
	return &httpError{status: http.StatusForbidden, msg: msg}
}

// restricted authenticates a restricted read. With Options.PublicEntries,
// a request without a token is served as a public read: a nil reader, and
// nothing recorded.
func (h *Handler) restricted(w http.ResponseWriter, r *http.Request) (*reader, error) {
	if h.publicEntries && r.Header.Get("Authorization") == "" {
		return nil, nil
	}
	return h.authenticate(w, r)
}

// restrictedLate is restricted without spending the token's nonce: the
// caller records its read with the nonce in one durable write (recordRead
// does, through ledger.RecordReadOnce) and must call spend before it
// answers, on every path, so that a replayed token is refused with 401
// exactly as restricted refuses it. A reader comes back with an error
// (a 403) when its signature checked but it reads nothing now.
func (h *Handler) restrictedLate(w http.ResponseWriter, r *http.Request) (*reader, error) {
	if h.publicEntries && r.Header.Get("Authorization") == "" {
		return nil, nil
	}
	return h.checkToken(w, r)
}

// authenticate checks the request's read token, spends its nonce and
// returns its reader, or a 401 (or 403 for a registrar the policy has
// retired, or an employee key revoked or outside its validity: the
// signature is theirs, but they read nothing now).
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (*reader, error) {
	rd, err := h.checkToken(w, r)
	if serr := h.spend(w, r.Context(), rd); serr != nil {
		return nil, serr
	}
	if err != nil {
		return nil, err
	}
	return rd, nil
}

// spend records the nonce of rd's token as used, unless it already is
// (rd nil: no token). A nonce used before is a replay: 401. It comes
// before any other answer to a token whose signature checked, so that a
// replay is a 401 whatever else is wrong with the request.
func (h *Handler) spend(w http.ResponseWriter, ctx context.Context, rd *reader) error {
	if rd == nil || rd.spent {
		return nil
	}
	if err := h.l.UseNonce(ctx, rd.nonce, rd.exp); err != nil {
		if errors.Is(err, ledger.ErrReplay) {
			return unauthorized(w, "replayed read token: "+err.Error(), err)
		}
		return err
	}
	rd.spent = true
	return nil
}

// checkToken checks the request's read token, but does not spend its
// nonce (spend does). It returns a nil reader with a 401 for a token that
// does not check out, and a reader with a 403 for a signer who reads
// nothing now.
func (h *Handler) checkToken(w http.ResponseWriter, r *http.Request) (*reader, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return nil, unauthorized(w, "this is a restricted read: sign the request with a read token (Authorization: PaktaSig <JWS>)", nil)
	}
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, pledge.ReadScheme) {
		return nil, unauthorized(w, fmt.Sprintf("the Authorization scheme is not %s", pledge.ReadScheme), nil)
	}
	token = strings.TrimSpace(token)
	t, err := pledge.ParseReadToken([]byte(token))
	if err != nil {
		return nil, unauthorized(w, "malformed read token: "+err.Error(), err)
	}
	now := h.l.Now()
	target := pledge.ReadTarget{Aud: h.l.Origin(), Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery}
	if err := t.Check(target, now); err != nil {
		return nil, unauthorized(w, err.Error(), err)
	}
	policy := h.l.Policy()
	rd := &reader{kid: t.Header.KeyID, token: token, nonce: t.Claims.Nonce, exp: t.Expires()}
	var key *pledge.PublicKey
	if reg, ok := policy.Registrar(rd.kid); ok {
		rd.registrar, key = reg, reg.JWK
	} else if pr, ok := policy.Reader(rd.kid); ok {
		rd.policyReader, key = pr, pr.JWK
	} else {
		k, err := h.l.EnrolledKey(r.Context(), rd.kid)
		if errors.Is(err, ledger.ErrNotFound) {
			return nil, unauthorized(w, fmt.Sprintf("key %s is not a reader of this log (a registrar or reader of its trust policy, or a key enrolled in it)", rd.kid), nil)
		} else if err != nil {
			return nil, err
		}
		rd.employee, key = k, k.JWK
	}
	if err := t.Verify(key, policy.Algorithms); err != nil {
		return nil, unauthorized(w, err.Error(), err)
	}
	if rd.registrar != nil && !rd.registrar.ActiveAt(now) {
		return rd, forbidden(fmt.Sprintf("registrar %q was retired at %s: it reads nothing now", rd.registrar.Name, rd.registrar.Until))
	}
	if rd.employee != nil {
		if err := rd.employee.Usable(now); err != nil {
			return rd, forbidden(err.Error() + ": it reads nothing now")
		}
	}
	return rd, nil
}

// authorizeEntry checks that the reader may read entry index (every person
// it names) and records the read; it returns whom the entry names.
func (h *Handler) authorizeEntry(ctx context.Context, rd *reader, index uint64) error {
	if rd == nil {
		return nil
	}
	people, err := h.l.PeopleOf(ctx, index)
	if err != nil {
		return err
	}
	refs := make([]ledger.PersonRef, 0, len(people))
	for _, p := range people {
		if !rd.mayReadPerson(p) {
			return forbidden(fmt.Sprintf("%s may not read entry %d: it names a person of agency %q, not one this reader may read", rd.name(), index, p.Agency.Code))
		}
		refs = append(refs, ledger.PersonRef{Scheme: p.Scheme, ID: p.ID})
	}
	return h.recordRead(ctx, rd, refs)
}

// authorizePerson checks that the reader may read the records of the
// person (scheme, id), and records the read. A registrar reads a person
// whom the log's enrollments or pledges place in one of its agencies, or
// whom the log does not know (there is nothing to read: an empty list).
func (h *Handler) authorizePerson(ctx context.Context, rd *reader, scheme, id string) error {
	switch {
	case rd == nil:
		return nil
	case rd.employee != nil:
		if s := rd.employee.Subject; s.Scheme != scheme || s.ID != id {
			return forbidden(fmt.Sprintf("%s reads only its own records, not those of %s %s", rd.name(), scheme, id))
		}
	case rd.registrar != nil:
		agencies, err := h.l.AgenciesOf(ctx, scheme, id)
		if err != nil {
			return err
		}
		covered := len(agencies) == 0
		for _, a := range agencies {
			covered = covered || rd.registrar.Covers(a)
		}
		if !covered {
			// The person's agencies are not named: they are the
			// person's data, which this registrar may not read.
			return forbidden(fmt.Sprintf("%s does not act for an agency of %s %s", rd.name(), scheme, id))
		}
	}
	return h.recordRead(ctx, rd, []ledger.PersonRef{{Scheme: scheme, ID: id}})
}

// recordRead records, durably, that rd read the records of people; with
// the token's nonce in the same write when it is not spent yet
// (restrictedLate). A replay leaves it unspent: spend then says 401.
func (h *Handler) recordRead(ctx context.Context, rd *reader, people []ledger.PersonRef) error {
	if rd == nil || len(people) == 0 {
		return nil
	}
	read := ledger.Read{At: h.l.Now(), Reader: rd.info(), Request: rd.token}
	if rd.spent {
		return h.l.RecordRead(ctx, read, rd.nonce, people)
	}
	if err := h.reads.record(ctx, ledger.ReadOnce{Read: read, Nonce: rd.nonce, Exp: rd.exp, People: people}); err != nil {
		return err
	}
	rd.spent = true
	return nil
}
