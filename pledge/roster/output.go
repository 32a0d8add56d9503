package roster

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
)

// Scope says which pledges the report counts, in words.
func (o Options) Scope() string {
	var parts []string
	if o.Date != "" {
		parts = append(parts, "pledges dated "+clean(o.Date))
	}
	if o.Template != "" {
		parts = append(parts, "template "+clean(o.Template))
	}
	if o.Election != "" {
		parts = append(parts, clean(o.Election))
	}
	if len(parts) == 0 {
		return "all pledges"
	}
	if o.Date == "" {
		parts[0] = "pledges of " + parts[0]
	}
	return strings.Join(parts, ", ")
}

func percent(n, total int) string {
	if total == 0 {
		return "0%"
	}
	return strconv.Itoa(n*100/total) + "%"
}

// WriteText writes the report for people: the totals, then per unit who
// signed on time, late, and who has not signed. Every string from the
// roster or an entry is printed as is when it is plain text, and quoted with
// escapes otherwise, so that no name can forge a line of the report.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "%s: %d of %d signed (%s): %d on time, %d late, %d not signed\n",
		r.Scope(), r.Signed, r.Total, percent(r.Signed, r.Total), r.OnTime, r.Late, r.NotSigned)
	for _, u := range r.Units {
		name := clean(u.Unit)
		if u.Unit == "" {
			name = "(no unit)"
		}
		fmt.Fprintf(ew, "\n%s: %d of %d signed (%d on time, %d late)\n", name, u.Signed, u.Total, u.OnTime, u.Late)
		for _, s := range []Status{OnTime, Late, NotSigned} {
			for _, p := range u.People {
				if p.Status != s {
					continue
				}
				switch s {
				case OnTime:
					fmt.Fprintf(ew, "  on time     %s  %s  (index %d, logged %s)\n", clean(p.ID), clean(p.Name), *p.Index, p.LoggedAt)
				case Late:
					fmt.Fprintf(ew, "  LATE        %s  %s  (index %d, logged %s, after the deadline %s)\n", clean(p.ID), clean(p.Name), *p.Index, p.LoggedAt, clean(p.Deadline))
				default:
					fmt.Fprintf(ew, "  NOT signed  %s  %s\n", clean(p.ID), clean(p.Name))
				}
			}
		}
	}
	return ew.err
}

// WriteCSV writes the report as CSV, one row a person, with the header
// unit,scheme,id,name,status,index,logged_at,signed_at,template,deadline.
// status is on_time, late or not_signed; the pledge's columns are empty for
// someone who has not signed.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"unit", "scheme", "id", "name", "status", "index", "logged_at", "signed_at", "template", "deadline"})
	for _, u := range r.Units {
		for _, p := range u.People {
			index := ""
			if p.Index != nil {
				index = strconv.FormatUint(*p.Index, 10)
			}
			cw.Write([]string{u.Unit, p.Scheme, p.ID, p.Name, string(p.Status), index, p.LoggedAt, p.SignedAt, p.Template, p.Deadline})
		}
	}
	cw.Flush()
	return cw.Error()
}

// clean prints a string as it is when every character of it is graphic,
// and quoted with escapes otherwise (a control character, a line break, a
// bidirectional override), so that it cannot forge what is printed around it.
func clean(s string) string {
	for _, r := range s {
		if !unicode.IsGraphic(r) {
			return strconv.QuoteToGraphic(s)
		}
	}
	return s
}

// errWriter keeps the first write error, so that a report is written with
// plain Fprintf calls and checked once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}
