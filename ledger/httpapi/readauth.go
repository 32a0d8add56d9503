package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

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
// a reader the request's data is not for is 403.

// reader is who signed a read token that passed.
type reader struct {
	kid string
	// registrar, for a registrar of the policy (not retired): the
	// subjects of its agencies.
	registrar *verify.Registrar
	// policyReader, for a policy reader (auditor, supervisor): everything.
	policyReader *verify.Reader
	// An enrolled employee (that person's own records) comes with the
	// private reads: a subject *pledge.Person here, found by the kid in the
	// log, and mayRead comparing it.
}

// name is how the reader is named in messages and logs.
func (rd *reader) name() string {
	switch {
	case rd.registrar != nil:
		return "registrar " + rd.registrar.Name
	case rd.policyReader != nil:
		return rd.policyReader.Role + " " + rd.policyReader.Name
	}
	return "key " + rd.kid
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

// authenticate checks the request's read token and returns its reader, or
// a 401 (or 403 for a registrar the policy has retired).
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (*reader, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return nil, unauthorized(w, "this is a restricted read: sign the request with a read token (Authorization: PaktaSig <JWS>)", nil)
	}
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, pledge.ReadScheme) {
		return nil, unauthorized(w, fmt.Sprintf("the Authorization scheme is not %s", pledge.ReadScheme), nil)
	}
	t, err := pledge.ParseReadToken([]byte(strings.TrimSpace(token)))
	if err != nil {
		return nil, unauthorized(w, "malformed read token: "+err.Error(), err)
	}
	now := h.l.Now()
	target := pledge.ReadTarget{Aud: h.l.Origin(), Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery}
	if err := t.Check(target, now); err != nil {
		return nil, unauthorized(w, err.Error(), err)
	}
	policy := h.l.Policy()
	rd := &reader{kid: t.Header.KeyID}
	var key *pledge.PublicKey
	if reg, ok := policy.Registrar(rd.kid); ok {
		rd.registrar, key = reg, reg.JWK
	} else if pr, ok := policy.Reader(rd.kid); ok {
		rd.policyReader, key = pr, pr.JWK
	} else {
		return nil, unauthorized(w, fmt.Sprintf("key %s is not a reader of this log (a registrar or reader of its trust policy)", rd.kid), nil)
	}
	if err := t.Verify(key, policy.Algorithms); err != nil {
		return nil, unauthorized(w, err.Error(), err)
	}
	if err := h.l.UseNonce(r.Context(), t.Claims.Nonce, t.Expires()); err != nil {
		if errors.Is(err, ledger.ErrReplay) {
			return nil, unauthorized(w, "replayed read token: "+err.Error(), err)
		}
		return nil, err
	}
	if rd.registrar != nil && !rd.registrar.ActiveAt(now) {
		return nil, forbidden(fmt.Sprintf("registrar %q was retired at %s: it reads nothing now", rd.registrar.Name, rd.registrar.Until))
	}
	return rd, nil
}
