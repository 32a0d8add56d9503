package httpapi

import (
	"bufio"
	"net/http"

	"github.com/go-json-experiment/json"
)

// eventHead is an event of a person's history without its bundle, which
// is written raw (as the log's bundles are).
type eventHead struct {
	Index      uint64  `json:"index"`
	Type       string  `json:"type"`
	LoggedAt   string  `json:"logged_at"`
	AnnulledBy *uint64 `json:"annulled_by,omitzero"`
}

// getHistory serves GET /v1/people/{scheme}/{id}/history: one page of
// everything the log holds about a person (every enrollment in their name,
// revocation, pledge, correction and ruling), in log order, each with its
// bundle. "reads" (who read the person's records) is empty until private
// reads record them.
func (h *Handler) getHistory(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r)
	if err != nil {
		return err
	}
	scheme, id := r.PathValue("scheme"), r.PathValue("id")
	limit, from, err := pageQuery(q)
	if err != nil {
		return err
	}
	events, page, err := h.l.History(r.Context(), scheme, id, from, limit)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteString(`{"events":[`)
	for i, ev := range events {
		if i > 0 {
			bw.WriteByte(',')
		}
		head, err := json.Marshal(eventHead{Index: ev.Index, Type: ev.Type, LoggedAt: ev.LoggedAt.UTC().Format("2006-01-02T15:04:05.000Z"), AnnulledBy: ev.AnnulledBy})
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
	bw.WriteString(`],"reads":[]`)
	if page.More {
		bw.WriteString(`,"next_cursor":"` + makeCursor(page.Next) + `"`)
	}
	bw.WriteString("}\n")
	return bw.Flush()
}
