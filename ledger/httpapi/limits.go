package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pakta-id/pakta/verify"
)

// Defaults of the limits in Options (DESIGN.md, "Limits").
const (
	// DefaultBodyBudget bounds the request bodies held in memory at once,
	// across every request: 64 bodies of the largest kind (a 1 MiB bundle
	// to verify), or a thousand submissions of 64 KiB.
	DefaultBodyBudget = 64 << 20
	// DefaultMaxInFlight bounds the submissions and verifications served
	// at once. At 2,000 appends/s and a quarter of a second each, about 500
	// are in flight; twice that leaves room for a burst.
	DefaultMaxInFlight = 1024
	// DefaultBodyTimeout bounds reading one body, from the end of its
	// headers: 64 KiB in 20 s is 3.2 KB/s, slower than a poor mobile link.
	DefaultBodyTimeout = 20 * time.Second
)

// retryAfterShed is the Retry-After of a request shed for load: a second
// is long enough for a burst to pass and short enough for a person
// waiting at a phone.
const retryAfterShed = time.Second

// Reasons a request is shed, the label of pakta_http_shed_total.
const (
	shedBodyBudget = "body_budget"
	shedInFlight   = "in_flight"
)

// budget is a count of bytes (or requests) that callers take from and give
// back; take fails rather than wait, so that load is shed, not queued.
type budget struct {
	mu        sync.Mutex
	used, max int64
}

func (b *budget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return false
	}
	b.used += n
	return true
}

func (b *budget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// limits holds a handler's shared budgets.
type limits struct {
	bodies      budget // bytes of request bodies
	inFlight    budget // submissions and verifications
	bodyTimeout time.Duration
	shed        atomic.Int64
}

func newLimits(opts Options, maxBody int64) *limits {
	l := &limits{bodyTimeout: opts.BodyTimeout}
	l.bodies.max = opts.BodyBudget
	if l.bodies.max <= 0 {
		l.bodies.max = DefaultBodyBudget
	}
	// A budget smaller than the largest body would refuse that body
	// forever: it must hold at least one of each kind.
	l.bodies.max = max(l.bodies.max, maxBody, verify.MaxBundleSize)
	l.inFlight.max = int64(opts.MaxInFlight)
	if l.inFlight.max <= 0 {
		l.inFlight.max = DefaultMaxInFlight
	}
	if l.bodyTimeout <= 0 {
		l.bodyTimeout = DefaultBodyTimeout
	}
	return l
}

// overloaded is the 503 of a request shed before any work was done on it.
func overloaded(reason, msg string, detail map[string]any) *httpError {
	detail["reason"] = reason
	detail["retry_after_seconds"] = retrySeconds(retryAfterShed)
	return &httpError{status: http.StatusServiceUnavailable, msg: msg, detail: detail,
		retryAfter: retryAfterShed, outcome: outcomePushback}
}

// admit takes a place among the requests in flight, or returns a 503. The
// caller calls release once done.
func (h *Handler) admit(w http.ResponseWriter) (release func(), err error) {
	if !h.lim.inFlight.take(1) {
		h.m.shed.WithLabelValues(shedInFlight).Inc()
		w.Header().Set("Connection", "close") // the body is not read: do not reuse the connection
		return nil, overloaded(shedInFlight,
			fmt.Sprintf("the server is serving %d submissions and verifications already: retry shortly", h.lim.inFlight.max),
			map[string]any{"max_in_flight": h.lim.inFlight.max})
	}
	return func() { h.lim.inFlight.give(1) }, nil
}

// readBody reads a request body of at most limit bytes: 413 past it, 408
// when the client is slower than the body timeout, 503 when the bodies
// already held would exceed the budget. It reserves the body's declared
// length (or limit, when none is declared) before reading a byte, and
// gives it back when release is called, after the body is no longer used.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, release func(), err error) {
	tooLarge := &httpError{status: http.StatusRequestEntityTooLarge,
		msg:    fmt.Sprintf("the request body is over the %d-byte limit", limit),
		detail: map[string]any{"limit_bytes": limit}}
	if r.ContentLength > limit {
		return nil, nil, tooLarge
	}
	n := limit
	if r.ContentLength >= 0 {
		n = r.ContentLength
	}
	if !h.lim.bodies.take(n) {
		h.m.shed.WithLabelValues(shedBodyBudget).Inc()
		w.Header().Set("Connection", "close")
		return nil, nil, overloaded(shedBodyBudget,
			"the server holds as many request bodies as its memory budget allows: retry shortly",
			map[string]any{"body_budget_bytes": h.lim.bodies.max})
	}
	give := func() { h.lim.bodies.give(n) }
	defer func() {
		if err != nil {
			give()
		}
	}()
	// A deadline for the body alone, so that a slow sender holds its share
	// of the budget for a bounded time whatever the server's ReadTimeout.
	// (A server whose own ReadTimeout is shorter keeps its deadline.)
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); !ok || srv.ReadTimeout <= 0 || srv.ReadTimeout > h.lim.bodyTimeout {
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(h.lim.bodyTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return nil, nil, err
		}
	}
	mbr := http.MaxBytesReader(unwrap(w), r.Body, limit)
	if r.ContentLength >= 0 {
		// The declared length, read into a buffer of exactly that size:
		// io.ReadAll would grow one to twice as much.
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(mbr, body)
		if errors.Is(err, io.EOF) {
			err = nil // an empty body
		}
	} else {
		body, err = io.ReadAll(mbr)
	}
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case err == nil:
		return body, give, nil
	case errors.As(err, &mbe):
		return nil, nil, tooLarge
	case errors.As(err, &ne) && ne.Timeout():
		w.Header().Set("Connection", "close")
		return nil, nil, &httpError{status: http.StatusRequestTimeout,
			msg:    fmt.Sprintf("reading the request body took over %s", h.lim.bodyTimeout),
			detail: map[string]any{"body_timeout_seconds": h.lim.bodyTimeout.Seconds()}, err: err}
	}
	return nil, nil, &httpError{status: http.StatusBadRequest, msg: "reading the request body: " + err.Error(), err: err}
}
