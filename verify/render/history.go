package render

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/pakta-id/pakta/verify"
)

// History is a person's history in a log, for a document of its own
// (pakta history --format html|pdf): what a supervisor files beside the
// evidence sheets of a dispute.
type History struct {
	Origin string // the log's origin
	Scheme string // the person: scheme and identifier
	ID     string
	Name   string // as the latest enrollment in their name gives it ("" if none)
	// Offset is the UTC offset the times are shown in beside UTC (the
	// person's pledges', +08:00 for WITA); "" shows UTC only.
	Offset string
	// ReadAt is when the history was read (RFC 3339).
	ReadAt string
	Rows   []HistoryRow
	// Failed counts the rows whose bundle does not verify.
	Failed int
}

// historySheet is a History laid out in one language, escaped.
type historySheet struct {
	Lang, Title, Person, Log, Summary, RowsTitle, Note, Footer string
	Rows                                                       []historyRow
	Failed                                                     bool
}

func buildHistory(h *History, o Options) *historySheet {
	pr := newPrinter(lang(o))
	if loc, ok := offsetLocation(h.Offset); ok {
		pr.zone, pr.loc = verify.ZoneName(h.Offset), loc
	}
	s := &historySheet{Lang: lang(o).String(), Title: pr.t("History of a person in the log"), Failed: h.Failed > 0}
	s.Person = esc(h.Scheme) + " " + esc(h.ID)
	if h.Name != "" {
		s.Person = pr.t("%s (%s)", esc(h.Name), s.Person)
	}
	s.Log = pr.t("log %s, read on %s", `"`+esc(h.Origin)+`"`, pr.both(pr.inZone(h.ReadAt), h.ReadAt))
	if h.Failed > 0 {
		s.Summary = pr.t("%d entries; %d of them do not verify under the trust policy", len(h.Rows), h.Failed)
	} else {
		s.Summary = pr.t("%d entries, each verified with its own bundle under the trust policy", len(h.Rows))
	}
	s.RowsTitle = pr.t("Entries in log order")
	for _, r := range h.Rows {
		s.Rows = append(s.Rows, historyRow{
			When:   pr.both(pr.inZone(r.LoggedAt), r.LoggedAt),
			Event:  pr.t("%s (index %d)", pr.event(r.Type), r.Index),
			Detail: esc(r.Detail),
		})
	}
	s.Note = pr.t("Each row is an entry of the log about this person, in log order, at the time the log recorded it (logged_at). The list is what the log answered when it was read: a bundle proves each row, but nothing here proves that the log holds no other entry about the person; a full audit of the log does.")
	s.Footer = s.Log
	return s
}

func offsetLocation(offset string) (*time.Location, bool) {
	t, err := time.Parse("-07:00", offset)
	if err != nil {
		return nil, false
	}
	return t.Location(), true
}

//go:embed history.html.tmpl
var historySource string

var historyTemplate = template.Must(template.New("history").Parse(historySource))

// WriteHistory renders a person's history as a document of its own, in
// HTML or PDF.
func WriteHistory(w io.Writer, f Format, h *History, o Options) error {
	s := buildHistory(h, o)
	switch f {
	case HTML:
		if err := historyTemplate.Execute(w, s); err != nil {
			return fmt.Errorf("render: html: %w", err)
		}
		return nil
	case PDF:
		return writeHistoryPDF(w, s, newPrinter(lang(o)))
	}
	return fmt.Errorf("render: a history renders as html or pdf, not %q", f)
}

func writeHistoryPDF(w io.Writer, s *historySheet, pr *printer) error {
	pdf, enc := newA4(s.Title, s.Footer, pr)
	pdf.SetFont("Helvetica", "B", 15)
	pdf.MultiCell(textWidth, 7, enc(s.Title), "", "L", false)
	pdf.SetFont("Helvetica", "B", 11)
	pdf.MultiCell(textWidth, 5.5, enc(s.Person), "", "L", false)
	pdf.SetFont("Helvetica", "", 9.5)
	pdf.MultiCell(textWidth, 4.5, enc(s.Log), "", "L", false)
	if s.Failed {
		pdf.SetTextColor(160, 0, 0)
	}
	pdf.MultiCell(textWidth, 4.5, enc(s.Summary), "", "L", false)
	pdf.SetTextColor(0, 0, 0)
	heading(pdf, enc, s.RowsTitle)
	for _, h := range s.Rows {
		row(pdf, enc, h.Event, h.When+": "+h.Detail)
	}
	pdf.Ln(1)
	pdf.SetFont("Helvetica", "I", 8.5)
	pdf.MultiCell(textWidth, 4, enc(s.Note), "", "L", false)
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("render: pdf: %w", err)
	}
	return nil
}
