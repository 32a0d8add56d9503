package httpapi

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"time"

	"github.com/pakta-id/pakta/ledger"
)

// Enrollment requests (DESIGN.md, "Enrollment requests: the employee holds
// the key"):
//
//	POST /v1/enrollment-requests          a compact JWS signed by the enrolled key alone
//	                                      → 201 {"code","kid","expires"} (200: the key's pending request)
//	GET  /v1/enrollment-requests/{code}   → {"status": "pending"|"approved"|"expired"}, public
//	GET  /v1/enrollment-requests/{code}?full=1  → {"code","kid","jws","expires"}, a registrar's read
//	GET  /v1/enrollment-requests[?limit=&cursor=] → {"requests": [...], "next_cursor"}, a registrar's read
//
// Registrar reads are limited to the registrar's agencies; a policy reader
// reads them all.

// Resources of enrollment requests, for Options.Authorize.
const (
	ResourceRequestSubmit = "enrollment-request-submit" // POST /v1/enrollment-requests
	ResourceRequestStatus = "enrollment-request-status" // GET /v1/enrollment-requests/{code}[?full=1]
	ResourceRequests      = "enrollment-requests"       // GET /v1/enrollment-requests
)

// Pages of GET /v1/enrollment-requests.
const (
	defaultRequestPage = 100
	maxRequestPage     = 1000
)

func (h *Handler) routeRequests() {
	const path = "/v1/enrollment-requests"
	h.mux.Handle("POST "+path, h.handle(ResourceRequestSubmit, h.postRequest))
	h.mux.Handle("GET "+path, h.handle(ResourceRequests, h.listRequests))
	h.mux.Handle(path, h.handle(ResourceRequests, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", "GET, HEAD, POST")
		return &httpError{status: http.StatusMethodNotAllowed, msg: "method " + r.Method + " is not allowed here; use GET or POST"}
	}))
	h.route("GET", "/v1/enrollment-requests/{code}", ResourceRequestStatus, h.getRequest)
}

// requestError maps the errors of enrollment requests that the shared
// classification does not know.
func requestError(w http.ResponseWriter, err error) error {
	var form *ledger.SubjectFormError
	switch {
	case errors.As(err, &form):
		// The device signs again in the roster's form (DESIGN.md).
		return &httpError{status: http.StatusConflict, msg: err.Error(), err: err, detail: map[string]any{"subject": form.Subject}}
	case errors.Is(err, ledger.ErrRequestConflict):
		return &httpError{status: http.StatusConflict, msg: err.Error(), err: err}
	case errors.Is(err, ledger.ErrTooManyRequests):
		return &httpError{status: http.StatusTooManyRequests, msg: err.Error(), err: err, retryAfter: time.Hour,
			detail: map[string]any{"retry_after_seconds": int64(time.Hour / time.Second)}}
	}
	return err
}

// submittedJSON is the answer to POST /v1/enrollment-requests.
type submittedJSON struct {
	Code    string `json:"code"`
	KID     string `json:"kid"`
	Expires string `json:"expires"`
}

// requestJSON is a pending request's content.
type requestJSON struct {
	Code    string `json:"code"`
	KID     string `json:"kid"`
	JWS     string `json:"jws"`
	Expires string `json:"expires"`
}

func formatExpires(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// postRequest serves POST /v1/enrollment-requests.
func (h *Handler) postRequest(w http.ResponseWriter, r *http.Request) error {
	mediaType, _, perr := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if perr != nil || mediaType != MediaTypeJOSE {
		return &httpError{status: http.StatusUnsupportedMediaType,
			msg:    fmt.Sprintf("Content-Type %q is not accepted: send the request, a compact JWS signed by the enrolled key, as %s", r.Header.Get("Content-Type"), MediaTypeJOSE),
			detail: map[string]any{"accepted": []string{MediaTypeJOSE}}}
	}
	release, err := h.admit(w)
	if err != nil {
		return err
	}
	defer release()
	body, free, err := h.readBody(w, r, h.maxBody)
	if err != nil {
		return err
	}
	defer free()
	jws := bytes.TrimRight(body, " \t\r\n")
	if len(jws) == 0 {
		return badRequest("the body is empty: send one enrollment request (a compact JWS)")
	}
	s, err := h.l.Requests().Submit(r.Context(), jws)
	if err != nil {
		return requestError(w, err)
	}
	status := http.StatusCreated
	if !s.Created {
		status = http.StatusOK
	}
	w.Header().Set("Location", "/v1/enrollment-requests/"+s.Code)
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, status, submittedJSON{Code: s.Code, KID: s.KID, Expires: formatExpires(s.Expires)})
}

// getRequest serves GET /v1/enrollment-requests/{code}: the status to
// anyone, the content (?full=1) to a reader of the subject's agency.
func (h *Handler) getRequest(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r)
	if err != nil {
		return err
	}
	code := r.PathValue("code")
	w.Header().Set("Cache-Control", "no-store")
	full, hasFull := q["full"]
	switch {
	case hasFull && full != "1":
		return badRequest(fmt.Sprintf("full=%q: use full=1 for the request's content", full))
	case len(q) > 1 || (len(q) == 1 && !hasFull):
		return badRequest("the only query parameter here is full=1")
	case !hasFull:
		status, err := h.l.Requests().Status(r.Context(), code)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]string{"status": status})
	}
	rd, err := h.authenticate(w, r)
	if err != nil {
		return err
	}
	p, err := h.l.Requests().Get(r.Context(), code)
	if err != nil {
		return err
	}
	if !rd.mayReadAgency(p.Agency) {
		return forbidden(fmt.Sprintf("%s does not act for agency %q, the subject's of request %s", rd.name(), p.Agency, p.Code))
	}
	return writeJSON(w, http.StatusOK, requestJSON{Code: p.Code, KID: p.KID, JWS: string(p.JWS), Expires: formatExpires(p.Expires)})
}

// listRequests serves GET /v1/enrollment-requests: the pending requests of
// the reader's agencies, a page at a time.
func (h *Handler) listRequests(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r)
	if err != nil {
		return err
	}
	limit := defaultRequestPage
	if s, ok := q["limit"]; ok {
		n, ok := parseDecimal(s)
		if !ok || n < 1 || n > maxRequestPage {
			return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("limit %q is not a whole number from 1 to %d", s, maxRequestPage),
				detail: map[string]any{"max_limit": maxRequestPage}}
		}
		limit = int(n)
	}
	after := ""
	if s, ok := q["cursor"]; ok {
		if after, ok = parseRequestCursor(s); !ok {
			return badRequest(fmt.Sprintf("cursor %q is not one this server gave: pass next_cursor back as it came", s))
		}
	}
	for k := range q {
		if k != "limit" && k != "cursor" {
			return badRequest(fmt.Sprintf("unknown query parameter %q: use limit and cursor", k))
		}
	}
	rd, err := h.authenticate(w, r)
	if err != nil {
		return err
	}
	if rd.registrar == nil && rd.policyReader == nil {
		return forbidden(fmt.Sprintf("%s may not list enrollment requests: a registrar (its agencies) or a policy reader does", rd.name()))
	}
	page, more, err := h.l.Requests().List(r.Context(), rd.scope(), after, limit)
	if err != nil {
		return err
	}
	out := struct {
		Requests   []requestJSON `json:"requests"`
		NextCursor string        `json:"next_cursor,omitempty"`
	}{Requests: make([]requestJSON, len(page))}
	for i, p := range page {
		out.Requests[i] = requestJSON{Code: p.Code, KID: p.KID, JWS: string(p.JWS), Expires: formatExpires(p.Expires)}
	}
	if more {
		out.NextCursor = requestCursor(page[len(page)-1].Code)
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}

// A request cursor is opaque to clients: the last code of the page,
// versioned.
func requestCursor(code string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("r1:" + code))
}

func parseRequestCursor(s string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !bytes.HasPrefix(b, []byte("r1:")) {
		return "", false
	}
	code, err := ledger.ParseCode(string(b[3:]))
	if err != nil || requestCursor(ledger.FormatCode(code)) != s {
		return "", false
	}
	return code, true
}
