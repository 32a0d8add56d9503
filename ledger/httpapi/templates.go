package httpapi

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"
)

// GET /v1/templates[?agency=CODE&limit=&cursor=] lists the published
// templates, public (DESIGN.md, "Private reads": a template holds no
// personal data): what the signing page shows and signs.
//
//	{"templates": [{"id", "lang", "election", "agencies", "text", "sha256",
//	  "deadline", "index", "logged_at"}], "next_cursor": "…"}

// ResourceTemplates is GET /v1/templates, for Options.Authorize.
const ResourceTemplates = "templates"

// templateJSON is a published template: the statement's members, and where
// and when the log recorded it.
type templateJSON struct {
	ID       string   `json:"id"`
	Lang     string   `json:"lang"`
	Election string   `json:"election"`
	Agencies []string `json:"agencies"`
	Text     string   `json:"text"`
	SHA256   string   `json:"sha256"`
	Deadline string   `json:"deadline,omitempty"`
	Index    uint64   `json:"index"`
	LoggedAt string   `json:"logged_at"`
}

// loggedAtLayout is how logged_at is written in entries.
const loggedAtLayout = "2006-01-02T15:04:05.000Z"

func (h *Handler) getTemplates(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r)
	if err != nil {
		return err
	}
	for k := range q {
		if k != "agency" && k != "limit" && k != "cursor" {
			return badRequest(fmt.Sprintf("unknown query parameter %.40q: use agency, limit and cursor", k))
		}
	}
	limit, err := pageLimit(q)
	if err != nil {
		return err
	}
	agency, hasAgency := q["agency"]
	if hasAgency && (agency == "" || len(agency) > 64) {
		return badRequest("agency= needs an agency code (at most 64 bytes)")
	}
	after := ""
	if s, ok := q["cursor"]; ok {
		if after, ok = parseTemplateCursor(s); !ok {
			return badRequest(fmt.Sprintf("cursor %.40q is not one this server gave: pass next_cursor back as it came", s))
		}
	}
	page, err := h.l.Templates(r.Context(), agency, after, limit)
	if err != nil {
		return err
	}
	out := struct {
		Templates  []templateJSON `json:"templates"`
		NextCursor string         `json:"next_cursor,omitempty"`
	}{Templates: make([]templateJSON, len(page.Templates))}
	for i, p := range page.Templates {
		t := p.Template
		out.Templates[i] = templateJSON{ID: t.ID, Lang: t.Lang, Election: t.Election, Agencies: t.Agencies, Text: t.Text,
			SHA256: t.SHA256, Deadline: t.Deadline, Index: p.Index, LoggedAt: p.LoggedAt.UTC().Format(loggedAtLayout)}
	}
	if page.More {
		out.NextCursor = templateCursor(page.Templates[len(page.Templates)-1].Template.ID)
	}
	// New templates appear as they are published: a short max-age.
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(templatesMaxAge/time.Second)))
	return writeJSON(w, http.StatusOK, out)
}

const templatesMaxAge = 10 * time.Second

// A template cursor is opaque to clients: the last id of the page,
// versioned.
func templateCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("t1:" + id))
}

func parseTemplateCursor(s string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !bytes.HasPrefix(b, []byte("t1:")) || len(b) == 3 || templateCursor(string(b[3:])) != s {
		return "", false
	}
	return string(b[3:]), true
}
