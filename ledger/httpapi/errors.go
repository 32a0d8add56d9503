package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/pledge"
)

// httpError is an error with its status, the message a client sees, and
// an optional structured detail.
type httpError struct {
	status     int
	msg        string
	detail     any
	retryAfter time.Duration // > 0: a Retry-After header
	outcome    string        // for the append counter; "" means derived from status
	err        error         // the cause, for logs
}

func (e *httpError) Error() string { return e.msg }
func (e *httpError) Unwrap() error { return e.err }

// errorBody is the JSON of every error response.
type errorBody struct {
	Error  string `json:"error"`
	Detail any    `json:"detail"`
}

// Outcomes of a submission, the label of pakta_http_appends_total.
const (
	outcomeAppended    = "appended"
	outcomeDuplicate   = "duplicate"
	outcomeInvalid     = "invalid"
	outcomeForbidden   = "forbidden"
	outcomeConflict    = "conflict"
	outcomeTooLarge    = "too_large"
	outcomeMediaType   = "unsupported_media_type"
	outcomePushback    = "pushback"
	outcomeUnavailable = "unavailable"
	outcomeDiskFull    = "disk_full"
	outcomeError       = "error"
)

// classify turns any error into an httpError: the ledger's refusals into
// their statuses, anything unknown into a 500 (a 503 if the log is closed)
// whose message does not leak storage details.
func (h *Handler) classify(ctx context.Context, err error) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	var conflict *ledger.ConflictError
	var pushback *ledger.PushbackError
	switch {
	case errors.As(err, &conflict):
		return &httpError{status: http.StatusConflict, msg: err.Error(), outcome: outcomeConflict, err: err,
			detail: map[string]any{"index": conflict.Index, "reason": conflict.Reason}}
	case errors.As(err, &pushback):
		return &httpError{status: http.StatusServiceUnavailable, msg: err.Error(), outcome: outcomePushback, err: err,
			retryAfter: pushback.RetryAfter,
			detail:     map[string]any{"retry_after_seconds": retrySeconds(pushback.RetryAfter), "pending": pushback.Pending}}
	case errors.Is(err, ledger.ErrDiskFull):
		d := h.l.Disk()
		return &httpError{status: http.StatusInsufficientStorage, msg: err.Error(), outcome: outcomeDiskFull, err: err,
			detail: map[string]any{"disk_free_bytes": d.Free, "disk_reserve_bytes": d.Reserve}}
	case errors.Is(err, ledger.ErrClosed):
		return &httpError{status: http.StatusServiceUnavailable, msg: "the log is closed (the server is shutting down)", outcome: outcomeUnavailable, err: err}
	case errors.Is(err, pledge.ErrTooLarge):
		return &httpError{status: http.StatusRequestEntityTooLarge, msg: err.Error(), outcome: outcomeTooLarge, err: err,
			detail: map[string]any{"max_jws_bytes": pledge.MaxJWSSize, "max_payload_bytes": pledge.MaxPayloadSize}}
	case errors.Is(err, ledger.ErrForbidden):
		return &httpError{status: http.StatusForbidden, msg: err.Error(), outcome: outcomeForbidden, err: err}
	case errors.Is(err, ledger.ErrInvalid):
		return &httpError{status: http.StatusBadRequest, msg: err.Error(), outcome: outcomeInvalid, err: err}
	case errors.Is(err, ledger.ErrNotFound):
		return &httpError{status: http.StatusNotFound, msg: err.Error(), err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &httpError{status: http.StatusServiceUnavailable, msg: "the request was cancelled before it finished; a submission may still have been logged: submit it again to learn its index", outcome: outcomeUnavailable, err: err}
	}
	if herr := h.l.Health(ctx); errors.Is(herr, ledger.ErrClosed) {
		return &httpError{status: http.StatusServiceUnavailable, msg: "the log is closed (the server is shutting down)", outcome: outcomeUnavailable, err: err}
	}
	return &httpError{status: http.StatusInternalServerError, msg: "internal error: the log could not serve this request", outcome: outcomeError, err: err}
}

// outcome is the append-counter label of a submission's error.
func (e *httpError) outcomeLabel() string {
	if e.outcome != "" {
		return e.outcome
	}
	switch e.status {
	case http.StatusBadRequest, http.StatusRequestTimeout:
		return outcomeInvalid
	case http.StatusForbidden:
		return outcomeForbidden
	case http.StatusRequestEntityTooLarge:
		return outcomeTooLarge
	case http.StatusUnsupportedMediaType:
		return outcomeMediaType
	}
	return outcomeError
}

func retrySeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// writeError writes err as a JSON error body and logs the server's own
// failures.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	he := h.classify(r.Context(), err)
	if rec, ok := w.(*recorder); ok {
		rec.err = err
	}
	switch {
	case he.status == http.StatusServiceUnavailable:
		h.log.WarnContext(r.Context(), "http: unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	case he.status >= 500:
		h.log.ErrorContext(r.Context(), "http: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	hdr := w.Header()
	hdr.Del("Content-Encoding")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	if he.retryAfter > 0 {
		hdr.Set("Retry-After", strconv.FormatInt(retrySeconds(he.retryAfter), 10))
	}
	if werr := writeJSON(w, he.status, errorBody{Error: he.msg, Detail: he.detail}); werr != nil {
		h.log.ErrorContext(r.Context(), "http: writing an error body", "err", werr)
	}
}

func badRequest(msg string) *httpError {
	return &httpError{status: http.StatusBadRequest, msg: msg}
}
