package roster

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// Signed is what one bundle establishes about a pledge: who signed, where
// the log holds it, when the log logged it, and the deadline of the template
// it was signed under. FromReport reads it from a verification report,
// ReadBundle from a bundle the caller trusts.
type Signed struct {
	Scheme string
	ID     string
	Index  uint64
	// LoggedAt is the log's clock: what counts for a deadline, never the
	// signer's own (DESIGN, "Log entry").
	LoggedAt time.Time
	SignedAt string // as the pledge states it, in the signer's zone
	Date     string // the pledge's own date, YYYY-MM-DD
	Template string
	Election string
	// Deadline is the template's deadline; the zero Time when it has none.
	Deadline time.Time
}

// FromReport is what a passing verification report establishes about a
// pledge. A failed report, or one of another statement, is an error: only
// verified facts count.
func FromReport(r *verify.Report) (Signed, error) {
	if !r.Passed() || r.Entry == nil {
		c := r.Failed()
		if c == nil {
			return Signed{}, errors.New("roster: the report has no verified entry")
		}
		return Signed{}, fmt.Errorf("roster: the bundle fails its [%s] check: %s", c.ID, c.Reason)
	}
	e := r.Entry
	if e.Type != pledge.TypePledge {
		return Signed{}, fmt.Errorf("roster: entry %d is a %s, not a pledge", e.Index, e.Type)
	}
	if e.Signer == nil || e.Published == nil {
		return Signed{}, fmt.Errorf("roster: the report of entry %d names no signer or template", e.Index)
	}
	loggedAt, err := time.Parse(time.RFC3339Nano, e.LoggedAt)
	if err != nil {
		return Signed{}, fmt.Errorf("roster: entry %d: logged_at: %w", e.Index, err)
	}
	s := Signed{Scheme: e.Signer.Scheme, ID: e.Signer.ID, Index: e.Index, LoggedAt: loggedAt, SignedAt: e.SignedAt,
		Date: e.Date, Template: e.Template, Election: e.Election}
	if d := e.Published.Deadline; d != "" {
		if s.Deadline, err = time.Parse(time.RFC3339, d); err != nil {
			return Signed{}, fmt.Errorf("roster: entry %d: template deadline: %w", e.Index, err)
		}
	}
	return s, nil
}

// ReadBundle reads what a pledge's bundle states without verifying it: for
// bundles from a log the caller trusts (its own, opened locally). Anything
// else should go through verify and FromReport.
func ReadBundle(b *verify.Bundle) (Signed, error) {
	e, err := verify.ParseEntry(b.Entry)
	if err != nil {
		return Signed{}, fmt.Errorf("roster: %w", err)
	}
	j, err := pledge.Parse(e.JWS)
	if err != nil {
		return Signed{}, fmt.Errorf("roster: %w", err)
	}
	pl, ok := j.Statement.(*pledge.Pledge)
	if !ok {
		return Signed{}, fmt.Errorf("roster: the bundle holds a %s, not a pledge", j.Statement.StatementType())
	}
	proof, err := verify.ParseProof([]byte(b.Proof))
	if err != nil {
		return Signed{}, fmt.Errorf("roster: %w", err)
	}
	s := Signed{Scheme: pl.Signer.Scheme, ID: pl.Signer.ID, Index: proof.Index, LoggedAt: e.LoggedAt, SignedAt: pl.SignedAt,
		Date: pl.Date, Template: pl.Template.ID, Election: pl.Election}
	if b.Template == nil {
		return Signed{}, fmt.Errorf("roster: the bundle of entry %d carries no template", proof.Index)
	}
	te, err := verify.ParseEntry(b.Template.Entry)
	if err != nil {
		return Signed{}, fmt.Errorf("roster: template: %w", err)
	}
	tj, err := pledge.Parse(te.JWS)
	if err != nil {
		return Signed{}, fmt.Errorf("roster: template: %w", err)
	}
	t, ok := tj.Statement.(*pledge.Template)
	if !ok || t.ID != pl.Template.ID {
		return Signed{}, fmt.Errorf("roster: the bundle of entry %d does not carry template %s", proof.Index, pl.Template.ID)
	}
	if d, ok, err := t.DeadlineTime(); err != nil {
		return Signed{}, fmt.Errorf("roster: template %s: %w", t.ID, err)
	} else if ok {
		s.Deadline = d
	}
	return s, nil
}

// Options narrow which pledges count. The zero Options counts every pledge.
type Options struct {
	Date     string `json:"date,omitempty"`     // the pledge's own date, YYYY-MM-DD; "" for any
	Template string `json:"template,omitempty"` // a template id; "" for any
	Election string `json:"election,omitempty"` // "" for any
}

func (o Options) counts(s Signed) bool {
	return (o.Date == "" || s.Date == o.Date) && (o.Template == "" || s.Template == o.Template) &&
		(o.Election == "" || s.Election == o.Election)
}

// Status is where a person on the roster stands.
type Status string

const (
	// OnTime: a pledge that counts was logged by its template's deadline
	// (or its template has none).
	OnTime Status = "on_time"
	// Late: pledges that count were logged, all after their template's
	// deadline. The log keeps late pledges; reports judge them.
	Late Status = "late"
	// NotSigned: no pledge that counts.
	NotSigned Status = "not_signed"
)

// Report is who on a roster signed, per unit. Its JSON field names are an
// API ("pakta report --json").
type Report struct {
	Options
	Counts
	Units []Unit `json:"units"` // sorted by name; "" (no unit) first
}

// Counts are the totals of a report or a unit. Signed = OnTime + Late.
type Counts struct {
	Total     int `json:"total"`
	Signed    int `json:"signed"`
	OnTime    int `json:"on_time"`
	Late      int `json:"late"`
	NotSigned int `json:"not_signed"`
}

func (c *Counts) add(s Status) {
	c.Total++
	switch s {
	case OnTime:
		c.OnTime++
		c.Signed++
	case Late:
		c.Late++
		c.Signed++
	default:
		c.NotSigned++
	}
}

// Unit is one unit's people, in roster order.
type Unit struct {
	Unit string `json:"unit"`
	Counts
	People []Standing `json:"people"`
}

// Standing is one person's status, and the pledge that decides it: the
// first one logged by its deadline, or else the first one logged.
type Standing struct {
	Person
	Status   Status  `json:"status"`
	Index    *uint64 `json:"index,omitempty"`
	LoggedAt string  `json:"logged_at,omitempty"` // RFC 3339 UTC, milliseconds
	SignedAt string  `json:"signed_at,omitempty"`
	Template string  `json:"template,omitempty"`
	Deadline string  `json:"deadline,omitempty"` // RFC 3339, as the template states it
	// Pledges is how many pledges count (more than 1 after corrections or
	// under several templates), 0 when not signed.
	Pledges int `json:"pledges,omitempty"`
}

// Coverage is the status of everyone on the roster, given the pledges a
// log holds (pledges by people not on the roster are ignored), grouped per
// unit, with totals. On time or late is judged by logged_at against each
// pledge's own template's deadline, never by signed_at.
func Coverage(r *Roster, pledges []Signed, opts Options) *Report {
	first := map[key]int{} // the deciding pledge per person, in pledges
	count := map[key]int{}
	for i, s := range pledges {
		k := key{s.Scheme, s.ID}
		if _, listed := r.byID[k]; !listed || !opts.counts(s) {
			continue
		}
		count[k]++
		j, seen := first[k]
		if !seen || better(s, pledges[j]) {
			first[k] = i
		}
	}
	rep := &Report{Options: opts, Units: []Unit{}}
	units := map[string]int{}
	for _, p := range r.People {
		st := Standing{Person: p, Status: NotSigned}
		k := key{p.Scheme, p.ID}
		if i, ok := first[k]; ok {
			s := pledges[i]
			index := s.Index
			st.Status, st.Index, st.Pledges = OnTime, &index, count[k]
			st.LoggedAt, st.SignedAt, st.Template = s.LoggedAt.UTC().Format(loggedAtLayout), s.SignedAt, s.Template
			if !s.Deadline.IsZero() {
				st.Deadline = s.Deadline.Format(time.RFC3339)
				if !onTime(s) {
					st.Status = Late
				}
			}
		}
		u, ok := units[p.Unit]
		if !ok {
			u = len(rep.Units)
			units[p.Unit] = u
			rep.Units = append(rep.Units, Unit{Unit: p.Unit, People: []Standing{}})
		}
		rep.Units[u].People = append(rep.Units[u].People, st)
		rep.Units[u].add(st.Status)
		rep.add(st.Status)
	}
	slices.SortStableFunc(rep.Units, func(a, b Unit) int { return cmp.Compare(a.Unit, b.Unit) })
	return rep
}

// loggedAtLayout is how entries write logged_at.
const loggedAtLayout = "2006-01-02T15:04:05.000Z"

func onTime(s Signed) bool { return s.Deadline.IsZero() || !s.LoggedAt.After(s.Deadline) }

// better reports whether a decides a person's status rather than b: on time
// beats late (a correction logged after the deadline does not make a person
// late), then the earlier logged.
func better(a, b Signed) bool {
	if onTime(a) != onTime(b) {
		return onTime(a)
	}
	return a.Index < b.Index
}
