// Package httpapi serves a pakta log over HTTP, as DESIGN.md fixes it:
//
//	GET  /checkpoint                   the latest signed checkpoint (C2SP tlog-checkpoint)
//	GET  /tile/<L>/<N>[.p/<W>]         hash tiles (C2SP tlog-tiles)
//	GET  /tile/entries/<N>[.p/<W>]     entry bundles, gzipped if the client accepts it (*: policy readers)
//	POST /v1/entries                   one JWS → 201 + bundle (200 + bundle if already logged)
//	GET  /v1/entries/{index}           the bundle of an entry (*)
//	GET  /v1/pledges?nip=&date=        {"bundles": [...], "next_cursor": …} (or scheme=&id=&date=;
//	                                   limit=1…1000, default 100; cursor=next_cursor) (*)
//	GET  /v1/people/{scheme}/{id}/history
//	                                   {"events": [{"index", "type", "logged_at", "bundle"}],
//	                                   "reads": [{"at", "reader", "request"}], "next_cursor": …}
//	                                   (limit=, cursor= as above) (*)
//	GET  /v1/me                        the history of the person whose enrolled key signs the request (*)
//	GET  /v1/proof/consistency?from=&to=
//	POST /v1/verify[?nip=&date=…]      a bundle → the verification report
//	GET  /healthz                      {"status": "ok"|"degraded", "size": N, "appends": …}, or 503
//	GET  /policy.json                  the trust policy verifiers of this log use (Options.PolicyJSON)
//	POST /v1/enrollment-requests       a request signed by the enrolled key → {"code","kid","expires"}
//	GET  /v1/enrollment-requests[/{code}]  status (public), list and content (registrar reads)
//	GET  /v1/templates[?agency=]       {"templates": [...], "next_cursor": …}, public
//
// (*) Restricted reads (DESIGN.md, "Private reads"): the request carries
// "Authorization: PaktaSig <read token>" (package pledge has the format);
// without one, or with one that does not check out, the answer is 401, and
// 403 for a reader who may not read that person (readauth.go says who reads
// what). Every restricted read that names a person is recorded durably
// before it is answered, and the person's history lists it. Options.
// PublicEntries serves them without a token (demos).
//
// A submission's body is the JWS with Content-Type application/jose
// (compact) or application/jose+json (JSON serialization). Trailing
// whitespace is trimmed before it is logged (a file saved by an editor ends
// in a newline), nothing else: send files with curl --data-binary @file
// (curl -d strips every newline, which is harmless for a compact JWS but
// changes a pretty-printed JSON one, and with it the logged bytes).
//
// The handlers are thin: they parse the request, call the ledger and map its
// errors to statuses. Every error body is JSON {"error": "...", "detail": …}.
// Every request first passes Options.Authorize with the resource it reads or
// writes (the Resource constants): a hook for the embedding app's own
// rules, on top of the read tokens.
//
// Limits (DESIGN.md, "Limits"): a body limit per endpoint (413), a body
// read deadline (408), a budget for the request bodies held in memory at
// once and a cap on submissions and verifications in flight (both 503 with
// Retry-After, before the body is read), pages of at most 1,000 bundles
// (400 past it), and 507 while the log's disk is below its reserve.
// LimitConnections caps the open connections in front of the handler.
//
// The handler does not serve /metrics and registers nothing globally: the
// binary registers Collectors on its registry, or mounts MetricsHandler.
// NewServer and Serve run it with timeouts and a graceful shutdown.
package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/verify"
)

// DefaultMaxBodyBytes is the limit on a submission's body when
// Options.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 64 << 10

// Resources, the second argument of Options.Authorize.
const (
	ResourceCheckpoint   = "checkpoint"    // GET /checkpoint
	ResourceHashTile     = "hash-tile"     // GET /tile/<L>/<N>
	ResourceEntryBundle  = "entry-bundle"  // GET /tile/entries/<N>: entry bytes
	ResourceBundle       = "bundle"        // GET /v1/entries/{index}: entry bytes
	ResourcePledges      = "pledges"       // GET /v1/pledges: entries of a person
	ResourceHistory      = "history"       // GET /v1/people/{scheme}/{id}/history: every entry about a person
	ResourceMe           = "me"            // GET /v1/me: the signer's own history
	ResourceConsistency  = "consistency"   // GET /v1/proof/consistency
	ResourceSubmit       = "submit"        // POST /v1/entries
	ResourceVerify       = "verify"        // POST /v1/verify
	ResourceHealth       = "health"        // GET /healthz
	ResourcePolicy       = "policy"        // GET /policy.json
	resourceUnknownRoute = "unknown-route" // anything else (404, 405)
)

// Options configures a Handler. Every zero value means the documented
// default.
type Options struct {
	// Logger receives one Debug line per request, Warn lines for pushback
	// and a closed log, and Error lines for the server's own failures; nil
	// discards them.
	Logger *slog.Logger
	// MaxBodyBytes limits the body of POST /v1/entries; a larger body is
	// refused with 413. 0 means DefaultMaxBodyBytes. POST /v1/verify reads
	// up to verify.MaxBundleSize.
	MaxBodyBytes int64
	// BodyBudget bounds the bytes of request bodies held in memory at
	// once, across every request: a body that does not fit (its declared
	// length, or its endpoint's limit when it declares none) is refused
	// with 503 and Retry-After before a byte of it is read. 0 means
	// DefaultBodyBudget; a budget is never below the largest body limit.
	BodyBudget int64
	// MaxInFlight bounds the submissions (POST /v1/entries) and
	// verifications (POST /v1/verify) served at once; more are refused at
	// once with 503 and Retry-After rather than queued without bound. 0
	// means DefaultMaxInFlight.
	MaxInFlight int
	// BodyTimeout bounds reading one request body, from the end of its
	// headers; a slower client gets 408 and the connection is closed. 0
	// means DefaultBodyTimeout.
	BodyTimeout time.Duration
	// Authorize is called before every request is served, with the
	// resource it asks for (a Resource constant). A non-nil error refuses
	// the request with 403 and the error's text. It adds the embedding
	// app's own rules (a network, a time of day) to the read tokens that
	// restricted reads need anyway; nil adds none.
	Authorize func(r *http.Request, resource string) error
	// PublicEntries serves the restricted reads (entry tiles, bundles,
	// pledges, histories) to anyone, without a read token, and records
	// none of them: for demos only, never for a log of real people. A
	// request that carries a token is still checked and recorded. false
	// (the default) keeps them restricted.
	PublicEntries bool
	// PolicyJSON is served at GET /policy.json: the bytes of the log's
	// policy file, so that a reader can compare them with their own copy.
	// nil means the log's policy as verify.Policy.Marshal writes it.
	PolicyJSON []byte
}

// Handler serves the HTTP API of one log. It implements http.Handler.
type Handler struct {
	l         *ledger.Log
	log       *slog.Logger
	maxBody   int64
	authorize func(*http.Request, string) error
	// publicEntries is Options.PublicEntries.
	publicEntries bool
	mux           *http.ServeMux
	root          http.Handler
	policy        []byte // GET /policy.json
	m             *metrics
	lim           *limits
	reads         *readBatcher // records restricted reads, many to a write
}

// New returns the handler for l. The caller keeps l open while the handler
// serves, and closes it after the server has shut down.
func New(l *ledger.Log, opts Options) *Handler {
	h := &Handler{l: l, log: opts.Logger, maxBody: opts.MaxBodyBytes, authorize: opts.Authorize,
		publicEntries: opts.PublicEntries, mux: http.NewServeMux(), reads: &readBatcher{l: l}}
	if h.log == nil {
		h.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	h.lim = newLimits(opts, h.maxBody)
	h.policy = opts.PolicyJSON
	if h.policy == nil {
		// A policy that was parsed always marshals; should it not,
		// GET /policy.json answers 500 rather than New failing.
		h.policy, _ = l.Policy().Marshal()
	}
	h.m = newMetrics(l, h.lim)

	h.route("GET", "/checkpoint", ResourceCheckpoint, h.getCheckpoint)
	// Tiles: one method-less pattern for /tile/ (a pattern per tile route
	// would conflict) answers other methods with 405, and GET of a path
	// that has no index with 400.
	h.mux.Handle("GET /tile/{level}/{index...}", h.handle(ResourceHashTile, h.getHashTile))
	h.mux.Handle("GET /tile/entries/{index...}", h.handle(ResourceEntryBundle, h.getEntryBundle))
	h.mux.Handle("/tile/", h.handle(ResourceHashTile, func(w http.ResponseWriter, r *http.Request) error {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return methodNotAllowed(w, r, http.MethodGet)
		}
		return malformedTile(r.URL.Path)
	}))
	h.route("POST", "/v1/entries", ResourceSubmit, h.postEntry)
	h.route("GET", "/v1/entries/{index}", ResourceBundle, h.getBundle)
	h.route("GET", "/v1/pledges", ResourcePledges, h.getPledges)
	h.route("GET", "/v1/people/{scheme}/{id}/history", ResourceHistory, h.getHistory)
	h.route("GET", "/v1/me", ResourceMe, h.getMe)
	h.route("GET", "/v1/proof/consistency", ResourceConsistency, h.getConsistency)
	h.route("POST", "/v1/verify", ResourceVerify, h.postVerify)
	h.route("GET", "/healthz", ResourceHealth, h.getHealth)
	h.route("GET", "/v1/templates", ResourceTemplates, h.getTemplates)
	h.route("GET", "/policy.json", ResourcePolicy, h.getPolicy)
	h.routeRequests()
	h.mux.Handle("/", h.handle(resourceUnknownRoute, func(w http.ResponseWriter, r *http.Request) error {
		return &httpError{status: http.StatusNotFound, msg: "no such endpoint: " + r.URL.Path}
	}))
	// A cap on every body, whatever the route; the routes that read a body
	// apply their own, lower, limits.
	h.root = http.MaxBytesHandler(h.mux, max(h.maxBody, verify.MaxBundleSize))
	return h
}

// route registers f for method and path, and a JSON 405 for the path's
// other methods (GET patterns also serve HEAD).
func (h *Handler) route(method, path, resource string, f handlerFunc) {
	h.mux.Handle(method+" "+path, h.handle(resource, f))
	h.mux.Handle(path, h.handle(resource, func(w http.ResponseWriter, r *http.Request) error {
		return methodNotAllowed(w, r, method)
	}))
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, method string) error {
	allow := method
	if method == http.MethodGet {
		allow = "GET, HEAD"
	}
	w.Header().Set("Allow", allow)
	return &httpError{status: http.StatusMethodNotAllowed, msg: "method " + r.Method + " is not allowed here; use " + allow}
}

// handlerFunc serves a request or returns an error for the adapter to write.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (h *Handler) handle(resource string, f handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec, ok := w.(*recorder); ok {
			rec.route = r.Pattern // set by the mux on the request it passes on
		}
		if h.authorize != nil {
			if err := h.authorize(r, resource); err != nil {
				h.writeError(w, r, &httpError{status: http.StatusForbidden, msg: "not authorized: " + err.Error(), err: err})
				return
			}
		}
		if err := f(w, r); err != nil {
			h.writeError(w, r, err)
		}
	})
}

// ServeHTTP serves the API, logging and counting every request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	h.root.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	route := rec.route
	if route == "" {
		route = "other" // the mux redirected (e.g. an unclean path)
	}
	h.m.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
	if !h.log.Enabled(r.Context(), slog.LevelDebug) {
		// The line is not written: do not build it (a dozen
		// allocations a request, most of them boxing the values).
		return
	}
	attrs := []any{"method", r.Method, "path", r.URL.Path, "route", route, "status", rec.status,
		"bytes", rec.bytes, "duration", time.Since(start), "remote", r.RemoteAddr}
	if rec.err != nil {
		attrs = append(attrs, "err", rec.err)
	}
	h.log.DebugContext(r.Context(), "http request", attrs...)
}

// recorder notes the status, size and error of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	route  string // the pattern that served the request
	err    error
}

func (rec *recorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
	rec.ResponseWriter.WriteHeader(status)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController and http.MaxBytesReader reach the
// server's own ResponseWriter.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// unwrap returns the server's own ResponseWriter, which http.MaxBytesReader
// needs to close the connection after an oversized body.
func unwrap(w http.ResponseWriter) http.ResponseWriter {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}

// writeJSON writes v as compact JSON with a trailing newline.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v, json.Deterministic(true)) // maps in details: the same answer every time
	if err != nil {
		return err
	}
	writeRawJSON(w, status, b)
	return nil
}

// writeRawJSON writes b, a JSON document, verbatim with a trailing newline.
func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte{'\n'})
}
