package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/text/language"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
	"github.com/pakta-id/pakta/verify/render"
)

// Media types of a submission.
const (
	MediaTypeJOSE     = "application/jose"      // JWS compact serialization
	MediaTypeJOSEJSON = "application/jose+json" // JWS JSON serialization
)

// postEntry serves POST /v1/entries: one JWS, appended once durable.
//
// The body is the JWS exactly as it will be logged, except that trailing
// whitespace (spaces, tabs, CR, LF: the newline an editor adds at the end of
// a file) is trimmed first; nothing else is changed.
func (h *Handler) postEntry(w http.ResponseWriter, r *http.Request) (err error) {
	var appendTime time.Duration
	outcome := ""
	defer func() {
		if err != nil {
			outcome = h.classify(r.Context(), err).outcomeLabel()
		}
		h.m.appends.WithLabelValues(outcome).Inc()
		if appendTime > 0 {
			h.m.appendSeconds.WithLabelValues(outcome).Observe(appendTime.Seconds())
		}
	}()

	mediaType, _, perr := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if perr != nil || (mediaType != MediaTypeJOSE && mediaType != MediaTypeJOSEJSON) {
		return &httpError{status: http.StatusUnsupportedMediaType,
			msg:    fmt.Sprintf("Content-Type %q is not accepted: send a JWS as %s (compact) or %s (JSON serialization)", r.Header.Get("Content-Type"), MediaTypeJOSE, MediaTypeJOSEJSON),
			detail: map[string]any{"accepted": []string{MediaTypeJOSE, MediaTypeJOSEJSON}}}
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
	switch {
	case len(jws) == 0:
		return badRequest("the body is empty: send one JWS")
	case mediaType == MediaTypeJOSE && jws[0] == '{':
		return badRequest("the body is a JWS JSON serialization: send it as " + MediaTypeJOSEJSON)
	case mediaType == MediaTypeJOSEJSON && jws[0] != '{':
		return badRequest("the body is not a JWS JSON serialization (a JSON object): send a compact JWS as " + MediaTypeJOSE)
	}

	start := time.Now()
	res, err := h.l.Append(r.Context(), jws)
	appendTime = time.Since(start)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	outcome = outcomeAppended
	if res.Duplicate {
		status, outcome = http.StatusOK, outcomeDuplicate
	}
	// The answer is built from what the sequencer held (the entry, its
	// checkpoint, its batch's rows), not read back (ResultBundle).
	rb, err := h.l.ResultBundle(r.Context(), res)
	if err != nil {
		return err
	}
	b, err := rb.Marshal()
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/entries/"+strconv.FormatUint(res.Index, 10))
	w.Header().Set("Cache-Control", "no-store")
	writeRawJSON(w, status, b)
	return nil
}

// bundle is entry index's bundle against the latest checkpoint, as JSON.
func (h *Handler) bundle(ctx context.Context, index uint64) ([]byte, error) {
	b, err := h.l.Bundle(ctx, index)
	if err != nil {
		return nil, err
	}
	return b.Marshal()
}

// getBundle serves GET /v1/entries/{index}, a restricted read: to a
// reader who may read every person the entry names (an entry that names
// nobody, a template, to any reader).
func (h *Handler) getBundle(w http.ResponseWriter, r *http.Request) error {
	rd, err := h.restrictedLate(w, r)
	var b []byte
	if err == nil {
		b, err = h.readBundle(r, rd)
	}
	// The token's nonce is spent before anything is answered: recorded
	// with the read by readBundle, else here (a replay is 401 first).
	if serr := h.spend(w, r.Context(), rd); serr != nil {
		return serr
	}
	if err != nil {
		return err
	}
	// The bundle is built against the latest checkpoint, which moves.
	w.Header().Set("Cache-Control", readCache(rd, "no-cache"))
	writeRawJSON(w, http.StatusOK, b)
	return nil
}

// readBundle is getBundle's answer: the bundle of the entry the path
// names, once rd may read it and its read is recorded.
func (h *Handler) readBundle(r *http.Request, rd *reader) ([]byte, error) {
	s := r.PathValue("index")
	index, ok := parseDecimal(s)
	if !ok {
		return nil, badRequest(fmt.Sprintf("index %q is not a canonical decimal (digits only, no sign, no leading zeros, below 2^64)", s))
	}
	if err := h.authorizeEntry(r.Context(), rd, index); err != nil {
		return nil, err
	}
	return h.bundle(r.Context(), index)
}

// query parses a query string strictly: a malformed escape or a repeated
// parameter is an error.
func query(r *http.Request) (map[string]string, error) {
	vs, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badRequest("malformed query string: " + err.Error())
	}
	out := make(map[string]string, len(vs))
	for k, v := range vs {
		if len(v) != 1 {
			return nil, badRequest(fmt.Sprintf("query parameter %q is given %d times", k, len(v)))
		}
		out[k] = v[0]
	}
	return out, nil
}

// personQuery reads nip=… or scheme=…&id=… from a query.
func personQuery(q map[string]string) (scheme, id string, given bool, err error) {
	nip, hasNIP := q["nip"]
	scheme, hasScheme := q["scheme"]
	id, hasID := q["id"]
	switch {
	case hasNIP && (hasScheme || hasID):
		return "", "", true, badRequest("give either nip, or scheme and id, not both")
	case hasNIP:
		return pledge.SchemeNIP, nip, true, nil
	case hasScheme && hasID:
		return scheme, id, true, nil
	case hasScheme || hasID:
		return "", "", true, badRequest("scheme and id go together")
	}
	return "", "", false, nil
}

// getPledges serves GET /v1/pledges?nip=…&date=… (or scheme=…&id=…&date=…),
// one page at a time: limit=1…1000 (default 100) bundles, and a next_cursor
// to resume with while more follow. The bundles are written as they are
// built, so a page holds one bundle in memory, not a thousand. It is a
// restricted read of the person.
func (h *Handler) getPledges(w http.ResponseWriter, r *http.Request) error {
	rd, err := h.restrictedLate(w, r)
	var page ledger.Page
	if err == nil {
		page, err = h.pledgesPage(r, rd)
	}
	// As in getBundle: the nonce is spent before anything is answered.
	if serr := h.spend(w, r.Context(), rd); serr != nil {
		return serr
	}
	if err != nil {
		return err
	}
	return h.writeBundles(w, r, rd, page)
}

// pledgesPage is the page of indexes getPledges answers with, once rd may
// read the person and its read is recorded.
func (h *Handler) pledgesPage(r *http.Request, rd *reader) (ledger.Page, error) {
	q, err := query(r)
	if err != nil {
		return ledger.Page{}, err
	}
	scheme, id, given, err := personQuery(q)
	switch {
	case err != nil:
		return ledger.Page{}, err
	case !given:
		return ledger.Page{}, badRequest("name the person: nip=… or scheme=…&id=…")
	}
	date, ok := q["date"]
	if !ok {
		return ledger.Page{}, badRequest("date=YYYY-MM-DD is required")
	}
	limit, from, err := pageQuery(q)
	if err != nil {
		return ledger.Page{}, err
	}
	if err := pledge.ValidateID(scheme, id, "", time.Time{}); err != nil {
		return ledger.Page{}, badRequest(err.Error())
	}
	if err := h.authorizePerson(r.Context(), rd, scheme, id); err != nil {
		return ledger.Page{}, err
	}
	return h.l.PledgesPage(r.Context(), scheme, id, date, from, limit)
}

// pageQuery reads limit= and cursor= (DESIGN.md, "Private reads": limit 1
// to 1,000, default 100, anything else 400).
func pageQuery(q map[string]string) (limit int, from uint64, err error) {
	if limit, err = pageLimit(q); err != nil {
		return 0, 0, err
	}
	if s, ok := q["cursor"]; ok {
		if from, ok = parseCursor(s); !ok {
			return 0, 0, badRequest(fmt.Sprintf("cursor %.40q is not one this server gave: pass next_cursor back as it came", s))
		}
	}
	return limit, from, nil
}

// pageLimit reads limit=: 1 to 1,000, ledger.DefaultPageLimit when absent.
func pageLimit(q map[string]string) (int, error) {
	s, ok := q["limit"]
	if !ok {
		return ledger.DefaultPageLimit, nil
	}
	n, ok := parseDecimal(s)
	if !ok || n < 1 || n > ledger.MaxPageLimit {
		return 0, &httpError{status: http.StatusBadRequest,
			msg:    fmt.Sprintf("limit %.20q is not a whole number from 1 to %d", s, ledger.MaxPageLimit),
			detail: map[string]any{"max_limit": ledger.MaxPageLimit}}
	}
	return int(n), nil
}

// A cursor is opaque to clients; today it is the index to resume from,
// versioned so that it can change without old cursors being misread.
const cursorVersion = 1

func makeCursor(next uint64) string {
	b := binary.BigEndian.AppendUint64([]byte{cursorVersion}, next)
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseCursor(s string) (uint64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 9 || b[0] != cursorVersion || makeCursor(binary.BigEndian.Uint64(b[1:])) != s {
		return 0, false
	}
	return binary.BigEndian.Uint64(b[1:]), true
}

// writeBundles streams {"bundles":[…],"next_cursor":"…"}. The first bundle
// is built before anything is written, so that the common failures (a
// closed log) are still a JSON error; a failure after that cuts the
// response off, which a client sees as a truncated body, never as a short
// list.
func (h *Handler) writeBundles(w http.ResponseWriter, r *http.Request, rd *reader, page ledger.Page) error {
	var first []byte
	if len(page.Indexes) > 0 {
		var err error
		if first, err = h.bundle(r.Context(), page.Indexes[0]); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", readCache(rd, "no-cache"))
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteString(`{"bundles":[`)
	bw.Write(first)
	for _, index := range page.Indexes[min(1, len(page.Indexes)):] {
		b, err := h.bundle(r.Context(), index)
		if err != nil {
			h.log.ErrorContext(r.Context(), "http: a page of bundles cut off", "path", r.URL.Path, "index", index, "err", err)
			panic(http.ErrAbortHandler)
		}
		bw.WriteByte(',')
		bw.Write(b)
	}
	bw.WriteString(`]`)
	if page.More {
		bw.WriteString(`,"next_cursor":"` + makeCursor(page.Next) + `"`)
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// consistencyJSON is the body of GET /v1/proof/consistency.
type consistencyJSON struct {
	From  uint64   `json:"from"`
	To    uint64   `json:"to"`
	Proof []string `json:"proof"`
}

// getConsistency serves GET /v1/proof/consistency?from=N&to=M.
func (h *Handler) getConsistency(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r)
	if err != nil {
		return err
	}
	var sizes [2]uint64
	for i, name := range []string{"from", "to"} {
		s, ok := q[name]
		if !ok {
			return badRequest(name + "=<tree size> is required")
		}
		if sizes[i], ok = parseDecimal(s); !ok {
			return badRequest(fmt.Sprintf("%s %q is not a canonical decimal", name, s))
		}
	}
	path, err := h.l.ConsistencyProof(r.Context(), sizes[0], sizes[1])
	if err != nil {
		return err
	}
	out := consistencyJSON{From: sizes[0], To: sizes[1], Proof: make([]string, len(path))}
	for i, p := range path {
		out.Proof[i] = base64.StdEncoding.EncodeToString(p)
	}
	// A proof between two sizes never changes.
	w.Header().Set("Cache-Control", cacheImmutable)
	return writeJSON(w, http.StatusOK, out)
}

// postVerify serves POST /v1/verify: the body is a bundle, the optional
// claim is in the query (nip or scheme and id, date, template, election),
// and so are the report's language and format (lang=id|en,
// format=json|text|html|pdf).
func (h *Handler) postVerify(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r)
	if err != nil {
		return err
	}
	lang, hasLang, format, err := reportQuery(q)
	if err != nil {
		return err
	}
	var claim *verify.Claim
	scheme, id, given, err := personQuery(q)
	if err != nil {
		return err
	}
	date, hasDate := q["date"]
	template, hasTemplate := q["template"]
	election, hasElection := q["election"]
	if given || hasDate || hasTemplate || hasElection {
		if !given || !hasDate {
			return badRequest("a claim needs the person (nip=… or scheme=…&id=…) and date=YYYY-MM-DD")
		}
		claim = &verify.Claim{Scheme: scheme, ID: id, Date: date, Template: template, Election: election}
	}
	release, err := h.admit(w)
	if err != nil {
		return err
	}
	defer release()
	body, free, err := h.readBody(w, r, verify.MaxBundleSize)
	if err != nil {
		return err
	}
	defer free()
	report, err := verify.VerifyBytes(body, h.l.Policy(), claim)
	if errors.Is(err, verify.ErrNotJSONObject) {
		return badRequest("the body is not a bundle: it does not begin with a JSON object")
	}
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	if !hasLang && format == render.JSON {
		// Without ?lang, JSON is the report as it always was (English
		// reasons), for the programs that read it.
		return writeJSON(w, http.StatusOK, report)
	}
	var out bytes.Buffer
	o := render.Options{Lang: lang}
	if report.Entry != nil {
		o.Address = h.entryURL(r, report.Entry.Index)
	}
	if err := render.Write(&out, format, report, o); err != nil {
		return err
	}
	w.Header().Set("Content-Type", format.ContentType())
	w.Header().Set("Content-Length", strconv.Itoa(out.Len()))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(out.Bytes())
	return err
}

// reportQuery reads the report's language (lang=id|en; Indonesian when
// absent, except that JSON then stays as it was) and format
// (format=json|text|html|pdf; JSON when absent).
func reportQuery(q map[string]string) (lang language.Tag, hasLang bool, format render.Format, err error) {
	l, hasLang := q["lang"]
	if lang, err = verify.ParseLanguage(l); err != nil || (hasLang && l == "") {
		return lang, false, "", badRequest(fmt.Sprintf("lang %q: choose id (Indonesian) or en (English)", l))
	}
	format = render.JSON
	if f, ok := q["format"]; ok {
		if format, err = render.ParseFormat(f); err != nil || f == "" {
			return lang, false, "", badRequest(fmt.Sprintf("format %q: choose json, text, html or pdf", f))
		}
	}
	return lang, hasLang, format, nil
}

// entryURL is where this server serves the entry's bundle, for the
// report's QR code: as the client reached it.
func (h *Handler) entryURL(r *http.Request, index uint64) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/v1/entries/" + strconv.FormatUint(index, 10)
}

// healthJSON is the body of GET /healthz.
type healthJSON struct {
	// Status is "ok", or "degraded" while appends are refused for disk
	// space (reads are still served; Appends says why).
	Status  string `json:"status"`
	Size    uint64 `json:"size"`
	Appends string `json:"appends"` // "accepted", or why they are refused
	// The free disk space under the log and the reserve below which
	// appends are refused (0 when not measured or checks are off).
	DiskFree    uint64 `json:"disk_free_bytes"`
	DiskReserve uint64 `json:"disk_reserve_bytes"`
}

// getHealth serves GET /healthz: 200 while the log can be read (status
// "degraded" when appends are refused for disk space), 503 if not.
func (h *Handler) getHealth(w http.ResponseWriter, r *http.Request) error {
	if err := h.l.Health(r.Context()); err != nil {
		return &httpError{status: http.StatusServiceUnavailable, msg: "unhealthy: " + err.Error(), err: err,
			detail: map[string]any{"status": "unavailable"}}
	}
	_, size := h.l.Checkpoint()
	d := h.l.Disk()
	out := healthJSON{Status: "ok", Size: size, Appends: "accepted", DiskFree: d.Free, DiskReserve: d.Reserve}
	if d.Low {
		out.Status = "degraded"
		out.Appends = fmt.Sprintf("refused with 507: %d MiB free on the log's disk, below the %d MiB reserve", d.Free>>20, d.Reserve>>20)
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}
