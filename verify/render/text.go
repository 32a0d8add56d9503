package render

import (
	"bufio"
	"fmt"
	"io"

	"github.com/pakta-id/pakta/verify"
)

// WriteText writes the report as plain text: the verdict, one line per
// check ("LULUS [key] …": check ids stay untranslated), a paragraph for
// each check that failed or was not made, the facts, the pledge text, the
// key history and what the bundle does not prove.
func WriteText(w io.Writer, r *verify.Report, o Options) error {
	s := build(r, o)
	b := bufio.NewWriter(w)
	fmt.Fprintln(b, s.Title)
	if s.Log != "" {
		fmt.Fprintln(b, s.Log)
	}
	fmt.Fprintln(b, s.Verdict)
	fmt.Fprintf(b, "\n%s\n", s.ChecksTitle)
	for _, c := range s.Checks {
		fmt.Fprintf(b, "%s [%s] %s\n", c.Mark, c.ID, c.Reason)
	}
	if len(s.Meanings) > 0 {
		fmt.Fprintf(b, "\n%s\n", s.MeaningsTitle)
		for _, m := range s.Meanings {
			fmt.Fprintf(b, "[%s] %s\n", m.ID, m.Text)
		}
	}
	if len(s.Facts) > 0 {
		fmt.Fprintf(b, "\n%s\n", s.FactsTitle)
		for _, f := range s.Facts {
			fmt.Fprintf(b, "  %s: %s\n", f.Label, f.Value)
		}
	}
	if len(s.Text) > 0 {
		fmt.Fprintf(b, "\n%s\n", s.TextTitle)
		for _, l := range s.Text {
			fmt.Fprintf(b, "  | %s\n", l)
		}
	}
	if len(s.History) > 0 || s.HistoryNote != "" {
		fmt.Fprintf(b, "\n%s\n", s.HistoryTitle)
		for _, h := range s.History {
			mark := "-"
			if h.Outside {
				mark = "*"
			}
			fmt.Fprintf(b, "  %s %s: %s: %s\n", mark, h.When, h.Event, h.Detail)
		}
		if s.HistoryNote != "" {
			fmt.Fprintf(b, "  %s\n", s.HistoryNote)
		}
	}
	fmt.Fprintf(b, "\n%s\n", s.NotProvenTitle)
	for _, n := range s.NotProven {
		fmt.Fprintf(b, "  - %s\n", n)
	}
	fmt.Fprintf(b, "\n%s\n", s.Checkpoint)
	if s.Address != "" {
		fmt.Fprintf(b, "%s: %s\n", s.AddressLabel, s.Address)
	}
	return b.Flush()
}
