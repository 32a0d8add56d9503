package httpapi

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/pledge"
)

// eventHead is an event of a person's history without its bundle, which
// is written raw (as the log's bundles are).
type eventHead struct {
	Index      uint64  `json:"index"`
	Type       string  `json:"type"`
	LoggedAt   string  `json:"logged_at"`
	AnnulledBy *uint64 `json:"annulled_by,omitzero"`
}

// readJSON is a read of a person's records, as a history lists it.
type readJSON struct {
	At      string            `json:"at"`
	Reader  ledger.ReaderInfo `json:"reader"`
	Request string            `json:"request"`
}

const timeMillis = "2006-01-02T15:04:05.000Z"

// getHistory serves GET /v1/people/{scheme}/{id}/history: one page of
// everything the log holds about a person (every enrollment in their name,
// revocation, pledge, correction and ruling), in log order, each with its
// bundle, and of the reads of their records, in time order. A restricted
// read of the person.
func (h *Handler) getHistory(w http.ResponseWriter, r *http.Request) error {
	rd, err := h.restricted(w, r)
	if err != nil {
		return err
	}
	scheme, id := r.PathValue("scheme"), r.PathValue("id")
	return h.writeHistory(w, r, rd, scheme, id)
}

// getMe serves GET /v1/me: the history of the person whose enrolled key
// signed the read token, in the shape of getHistory's. It is how an
// employee sees every key enrolled in their name (one they never held
// included) and everyone who read their records.
func (h *Handler) getMe(w http.ResponseWriter, r *http.Request) error {
	rd, err := h.authenticate(w, r)
	if err != nil {
		return err
	}
	if rd.employee == nil {
		return forbidden(fmt.Sprintf("/v1/me is the signer's own history: sign with a key enrolled in your name; %s reads a person's history at /v1/people/{scheme}/{id}/history", rd.name()))
	}
	s := rd.employee.Subject
	return h.writeHistory(w, r, rd, s.Scheme, s.ID)
}

func (h *Handler) writeHistory(w http.ResponseWriter, r *http.Request, rd *reader, scheme, id string) error {
	q, err := query(r)
	if err != nil {
		return err
	}
	limit, cur, err := historyQuery(q)
	if err != nil {
		return err
	}
	if err := pledge.ValidateID(scheme, id, "", time.Time{}); err != nil {
		return badRequest(err.Error())
	}
	// Recorded first: the page lists this read too.
	if err := h.authorizePerson(r.Context(), rd, scheme, id); err != nil {
		return err
	}
	var events []ledger.Event
	var page ledger.Page
	if !cur.eventsDone {
		if events, page, err = h.l.History(r.Context(), scheme, id, cur.from, limit); err != nil {
			return err
		}
	}
	var reads ledger.ReadsPage
	if !cur.readsDone {
		if reads, err = h.l.Reads(r.Context(), scheme, id, cur.after, limit); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", readCache(rd, "no-cache"))
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteString(`{"events":[`)
	for i, ev := range events {
		if i > 0 {
			bw.WriteByte(',')
		}
		head, err := json.Marshal(eventHead{Index: ev.Index, Type: ev.Type, LoggedAt: ev.LoggedAt.UTC().Format(timeMillis), AnnulledBy: ev.AnnulledBy})
		if err != nil {
			return err
		}
		b, err := ev.Bundle.Marshal()
		if err != nil {
			h.log.ErrorContext(r.Context(), "http: a page of history cut off", "path", r.URL.Path, "index", ev.Index, "err", err)
			panic(http.ErrAbortHandler)
		}
		bw.Write(head[:len(head)-1])
		bw.WriteString(`,"bundle":`)
		bw.Write(b)
		bw.WriteByte('}')
	}
	bw.WriteString(`],"reads":`)
	out := make([]readJSON, len(reads.Reads))
	for i, rr := range reads.Reads {
		out[i] = readJSON{At: rr.At.UTC().Format(timeMillis), Reader: rr.Reader, Request: rr.Request}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	bw.Write(b)
	if (!cur.eventsDone && page.More) || (!cur.readsDone && reads.More) {
		next := historyCursor{eventsDone: cur.eventsDone || !page.More, from: page.Next, readsDone: cur.readsDone || !reads.More, after: reads.Next}
		bw.WriteString(`,"next_cursor":"` + next.String() + `"`)
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// historyCursor is where the next page of a history resumes: its events
// from an index, its reads after a position; either may be done.
type historyCursor struct {
	eventsDone, readsDone bool
	from                  uint64
	after                 []byte
}

// A history cursor is opaque to clients: version 2 (a pledges cursor is
// version 1), flags, the next event's index and the last read's position.
const (
	historyCursorVersion = 2
	cursorEventsDone     = 1
	cursorReadsDone      = 2
	maxReadPos           = 8 + 64 // at ms, and a nonce of at most 64 characters
)

func (c historyCursor) String() string {
	var flags byte
	if c.eventsDone {
		flags |= cursorEventsDone
	}
	if c.readsDone {
		flags |= cursorReadsDone
	}
	b := binary.BigEndian.AppendUint64([]byte{historyCursorVersion, flags}, c.from)
	return base64.RawURLEncoding.EncodeToString(append(b, c.after...))
}

func parseHistoryCursor(s string) (historyCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 10 || len(b) > 10+maxReadPos || b[0] != historyCursorVersion || b[1]&^(cursorEventsDone|cursorReadsDone) != 0 {
		return historyCursor{}, false
	}
	c := historyCursor{eventsDone: b[1]&cursorEventsDone != 0, readsDone: b[1]&cursorReadsDone != 0, from: binary.BigEndian.Uint64(b[2:10])}
	if len(b) > 10 {
		c.after = bytes.Clone(b[10:])
	}
	if c.String() != s || c.from == math.MaxUint64 {
		return historyCursor{}, false
	}
	return c, true
}

// historyQuery reads limit= and cursor= of a history (limit as pageQuery).
func historyQuery(q map[string]string) (int, historyCursor, error) {
	cursor, hasCursor := q["cursor"]
	delete(q, "cursor")
	limit, _, err := pageQuery(q)
	if err != nil || !hasCursor {
		return limit, historyCursor{}, err
	}
	c, ok := parseHistoryCursor(cursor)
	if !ok {
		return 0, historyCursor{}, badRequest(fmt.Sprintf("cursor %.40q is not one this server gave: pass next_cursor back as it came", cursor))
	}
	return limit, c, nil
}
