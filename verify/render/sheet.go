package render

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// sheet is a report laid out for people, in one language, every string
// from an entry already escaped: the text, HTML and PDF renderers print
// it and decide nothing.
type sheet struct {
	Lang    string // "id" or "en"
	Title   string
	Log     string // the log and the entry's place in it
	Verdict string
	Pass    bool
	Claim   *line // the claim check, when one was asked

	ChecksTitle string
	Checks      []line

	MeaningsTitle string
	Meanings      []meaning

	FactsTitle string
	Facts      []fact

	TextTitle string
	Text      []string // the pledge text, line by line

	HistoryTitle string
	History      []historyRow
	HistoryNote  string // said when rows come from outside the bundle

	NotProvenTitle string
	NotProven      []string

	AddressLabel string
	Address      string
	Checkpoint   string // the footer
	SignTitle    string
	SignFields   []string
}

type line struct {
	Mark, ID, Reason string
	Pass, Skipped    bool
}

type meaning struct{ ID, Text string }

type fact struct{ Label, Value string }

type historyRow struct {
	When, Event, Detail string
	Outside             bool
}

// printer words a sheet in one language: the package's own labels (t),
// and verify's words (months).
type printer struct {
	tag language.Tag
	p   *message.Printer
	vp  *message.Printer
	// The pledge's zone, by name and as a location ("" and nil when the
	// entry is not a pledge).
	zone string
	loc  *time.Location
}

func newPrinter(tag language.Tag) *printer {
	return &printer{tag: tag, p: message.NewPrinter(tag, message.Catalog(labels)), vp: verify.Printer(tag)}
}

// t prints a label of this package in the printer's language. Numbers are
// identifiers (indexes, sizes, years): never grouped by thousands.
func (pr *printer) t(format string, args ...any) string {
	for i, a := range args {
		switch a.(type) {
		case int, int64, uint64:
			args[i] = unlocalized{a}
		}
	}
	return pr.p.Sprintf(format, args...)
}

// unlocalized prints a number as fmt does (x/text would write 2.023).
type unlocalized struct{ v any }

func (u unlocalized) Format(f fmt.State, verb rune) { fmt.Fprintf(f, fmt.FormatString(f, verb), u.v) }

// date writes 27 November 2023, the month in the printer's language.
func (pr *printer) date(t time.Time) string {
	return fmt.Sprintf("%d %s %d", t.Day(), verify.Message{Format: t.Month().String()}.In(pr.vp), t.Year())
}

// stamp writes a time with its zone's name: 27 November 2023, 09:00:06
// WITA (Indonesian: 27 November 2023 pukul 09.00.06 WITA).
func (pr *printer) stamp(t time.Time, zone string) string {
	clock := t.Format("15:04:05")
	if pr.tag == verify.Indonesian {
		clock = t.Format("15.04.05")
	}
	return pr.t("%s, %s", pr.date(t), clock) + " " + zone
}

// both writes a time in the pledge's zone (local, as the report's facts
// give it) and in UTC; only UTC when there is no zone (statements other
// than pledges).
func (pr *printer) both(local, utc string) string {
	u, err := time.Parse(time.RFC3339Nano, utc)
	if err != nil {
		return esc(utc)
	}
	out := pr.stamp(u.UTC(), "UTC")
	l, err := time.Parse(time.RFC3339Nano, local)
	if err != nil || pr.zone == "" {
		return out
	}
	return pr.t("%s (%s)", pr.stamp(l, pr.zone), out)
}

// inZone is a time of the log (UTC) in the pledge's zone, for rows the
// report's facts do not carry.
func (pr *printer) inZone(utc string) string {
	t, err := time.Parse(time.RFC3339Nano, utc)
	if err != nil || pr.loc == nil {
		return ""
	}
	return t.In(pr.loc).Format(time.RFC3339Nano)
}

// build lays out the report r.
func build(r *verify.Report, o Options) *sheet {
	tag := lang(o)
	pr := newPrinter(tag)
	loc := r.Localize(tag)
	s := &sheet{
		Lang:           tag.String(),
		Title:          pr.t("Pledge verification report"),
		Pass:           r.Passed(),
		ChecksTitle:    pr.t("Checks"),
		MeaningsTitle:  pr.t("What this means for the dispute"),
		FactsTitle:     pr.t("Facts the checks established"),
		TextTitle:      pr.t("Text of the pledge, as signed"),
		HistoryTitle:   pr.t("History of the signer's keys"),
		NotProvenTitle: pr.t("What this bundle does not prove"),
		AddressLabel:   pr.t("Bundle"),
		Address:        esc(o.Address),
		SignTitle:      pr.t("Examined by"),
		SignFields:     []string{pr.t("Name"), pr.t("Position"), pr.t("Date"), pr.t("Signature")},
	}
	if s.Pass {
		s.Verdict = pr.t("VERDICT: PASS, every check passed")
	} else {
		s.Verdict = pr.t("VERDICT: FAIL, first failed check: [%s]", r.Failed().ID)
	}
	for i, c := range r.Checks {
		l := line{ID: c.ID, Reason: esc(loc.Checks[i].Reason), Pass: c.Pass, Skipped: c.Skipped()}
		switch {
		case c.Pass:
			l.Mark = pr.t("PASS")
		case l.Skipped:
			l.Mark = pr.t("NOT CHECKED")
		default:
			l.Mark = pr.t("FAIL")
		}
		s.Checks = append(s.Checks, l)
		if c.ID == verify.CheckClaim {
			s.Claim = &s.Checks[len(s.Checks)-1]
		}
		switch {
		case l.Skipped:
			s.Meanings = append(s.Meanings, meaning{c.ID, pr.t("This check was not made, because an earlier one failed: the bundle establishes nothing about it.")})
		case !c.Pass:
			s.Meanings = append(s.Meanings, meaning{c.ID, pr.meaning(c.ID)})
		}
	}
	if s.Claim != nil {
		claim := *s.Claim // keep the pointer off the slice that grows
		s.Claim = &claim
	}
	for _, n := range loc.NotProven {
		s.NotProven = append(s.NotProven, esc(n))
	}
	if f := r.Entry; f != nil && f.Zone != "" {
		if t, err := time.Parse(time.RFC3339, f.SignedAt); err == nil {
			pr.zone, pr.loc = f.Zone, t.Location()
		}
	}
	if f := r.Entry; f != nil {
		s.Log = pr.t("log %s, entry %d of %d", strconv.Quote(esc(f.Origin)), f.Index, f.TreeSize)
		s.Checkpoint = pr.t("Checkpoint: log %s, %d entries, root %s", strconv.Quote(esc(f.Origin)), f.TreeSize, esc(f.Root))
		pr.facts(s, f)
		for _, l := range strings.Split(strings.TrimRight(f.Text, "\n"), "\n") {
			if f.Text != "" {
				s.Text = append(s.Text, esc(l))
			}
		}
		if k := f.Key; k != nil {
			s.History = append(s.History, historyRow{
				When:   pr.both(k.LoggedAtLocal, k.LoggedAt),
				Event:  pr.t("key enrolled (index %d)", k.Index),
				Detail: pr.t("key %s, by %s, valid %s", esc(f.KeyID), names(k.Registrars), pr.validity(k)),
			})
		}
	} else {
		s.Checkpoint = pr.t("The checks failed: the report establishes no entry of any log.")
	}
	for _, h := range o.History {
		s.History = append(s.History, historyRow{
			When:    pr.both(pr.inZone(h.LoggedAt), h.LoggedAt),
			Event:   pr.t("%s (index %d)", pr.event(h.Type), h.Index),
			Detail:  esc(h.Detail),
			Outside: true,
		})
	}
	if len(o.History) > 0 {
		s.HistoryTitle = pr.t("The signer's history in the log")
		s.HistoryNote = pr.t("Rows marked * come from the log's history of the person, not from this bundle: they are outside what the bundle proves.")
	} else if r.Entry != nil && r.Entry.Type == pledge.TypePledge {
		s.HistoryNote = pr.t("The bundle shows the enrollment of the key that signed; other keys of the person, and their revocations, are in the log's history of the person (pakta history).")
	}
	return s
}

// event names a statement type.
func (pr *printer) event(typ string) string {
	switch typ {
	case pledge.TypePledge:
		return pr.t("pledge")
	case pledge.TypeEnrollment:
		return pr.t("key enrolled")
	case pledge.TypeRevocation:
		return pr.t("key revoked")
	case pledge.TypeTemplate:
		return pr.t("template published")
	case pledge.TypeRuling:
		return pr.t("ruling of the supervising authority")
	}
	return esc(typ)
}

func (pr *printer) validity(k *verify.KeyFacts) string {
	if k.ValidUntil == "" {
		return pr.t("from %s with no end", esc(k.ValidFrom))
	}
	return pr.t("from %s until %s", esc(k.ValidFrom), esc(k.ValidUntil))
}

// names writes registrars by their policy names.
func names(list []string) string {
	q := make([]string, len(list))
	for i, n := range list {
		q[i] = strconv.Quote(esc(n))
	}
	return strings.Join(q, ", ")
}

// facts lists what the checks established, for the dispute: who, what,
// when, on time or late, and whose key.
func (pr *printer) facts(s *sheet, f *verify.EntryFacts) {
	add := func(label, value string) { s.Facts = append(s.Facts, fact{label, value}) }
	if f.Signer == nil {
		add(pr.t("Entry"), pr.event(f.Type))
		add(pr.t("Logged by the log at"), pr.both("", f.LoggedAt))
		return
	}
	p := f.Signer
	add(pr.t("Signer"), esc(p.Name))
	add(pr.t("Identifier"), strings.ToUpper(esc(p.Scheme))+" "+esc(p.ID))
	if p.Position != "" {
		add(pr.t("Position"), esc(p.Position))
	}
	if p.Unit != "" {
		add(pr.t("Unit"), esc(p.Unit))
	}
	add(pr.t("Agency"), pr.t("%s (code %s)", esc(p.Agency.Name), esc(p.Agency.Code)))
	add(pr.t("Employment"), esc(p.Employment))
	add(pr.t("Election"), esc(f.Election))
	add(pr.t("Place and date"), esc(f.Place)+", "+pr.day(f.Date))
	add(pr.t("Signed at, by the signer's own clock"), pr.both(f.SignedAt, f.SignedAtUTC))
	add(pr.t("Logged by the log at"), pr.t("%s, index %d", pr.both(f.LoggedAtLocal, f.LoggedAt), f.Index))
	if t := f.Published; t != nil {
		add(pr.t("Template"), pr.t("%s, published by %s at %s, index %d", esc(t.ID), names(t.Publishers), pr.both(t.LoggedAtLocal, t.LoggedAt), t.Index))
		switch {
		case t.Deadline == "" || t.OnTime == nil:
			add(pr.t("Deadline"), pr.t("none"))
		case *t.OnTime:
			add(pr.t("Deadline"), pr.both(t.DeadlineLocal, t.DeadlineUTC))
			add(pr.t("On time or late"), pr.t("ON TIME: the log recorded the pledge before the deadline"))
		default:
			add(pr.t("Deadline"), pr.both(t.DeadlineLocal, t.DeadlineUTC))
			add(pr.t("On time or late"), pr.t("LATE: the log recorded the pledge after the deadline"))
		}
	}
	if k := f.Key; k != nil {
		add(pr.t("Signing key"), esc(f.KeyID))
		add(pr.t("Key enrolled"), pr.t("by %s at %s, index %d; the key itself signed the enrollment too", names(k.Registrars), pr.both(k.LoggedAtLocal, k.LoggedAt), k.Index))
		add(pr.t("Key valid"), pr.validity(k))
	} else if f.KeyID != "" {
		add(pr.t("Signing key"), pr.t("%s, certificate-backed (no enrollment)", esc(f.KeyID)))
	}
}

// day writes a pledge's own date, YYYY-MM-DD, in words.
func (pr *printer) day(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return esc(d)
	}
	return pr.date(t)
}

// meaning is the plain-language paragraph of a failed check: what the
// failure means for someone settling a dispute with this bundle.
func (pr *printer) meaning(id string) string {
	switch id {
	case verify.CheckBundle:
		return pr.t("The file is damaged or is not a pakta bundle. Nothing in it can be relied on: ask the log for the bundle of the entry again.")
	case verify.CheckCheckpoint:
		return pr.t("The bundle is not vouched for by the log that the trust policy names, or its signed state of the log was altered. It is no evidence that anything was logged: fetch the bundle from the log itself.")
	case verify.CheckInclusion:
		return pr.t("The entry, its key's enrollment or its template is not in the log as the checkpoint fixes it: it was altered, or it does not come from this log. The bundle does not show that this pledge was logged.")
	case verify.CheckSignature:
		return pr.t("The signature does not verify: the document was changed after it was signed, or it was signed with another key than the one named. It does not show that anyone signed this text.")
	case verify.CheckKey:
		return pr.t("The key that signed is not shown to belong to the person named, or was not valid then. If the person says \"that is not my signature\", this bundle does not contradict them.")
	case verify.CheckTemplate:
		return pr.t("The signed text is not shown to be the official wording published before the pledge for this election and agency. The bundle does not show that the person signed the official pledge.")
	case verify.CheckStatement:
		return pr.t("The signed document breaks the rules of a pledge (identifier, date, text or its hash). It cannot be relied on as a pledge, even though it was signed.")
	case verify.CheckTime:
		return pr.t("The time the signer wrote on the pledge does not agree with when the log recorded it. The signer's own time cannot be relied on; only the log's time (logged_at) can, and it is not shown here to be consistent.")
	case verify.CheckWitness:
		return pr.t("The log's checkpoint is not cosigned by enough of the independent witnesses the trust policy names, or a cosignature is false. Nothing shows that the log showed this same history to everyone, and every time in the bundle rests on the log operator's clock alone: fetch the bundle again once the witnesses have cosigned.")
	case verify.CheckClaim:
		return pr.t("The bundle may be genuine, but it does not show what was claimed (the person, the date, the template or the election): it is evidence of another pledge, not of this claim.")
	}
	return pr.t("This check failed: the bundle does not establish what it checks (see its line above).")
}

// esc prints a string from an entry (or a reason quoting one) so that it
// cannot forge what is printed around it: every character that is not
// graphic (controls, format characters such as bidirectional overrides,
// line separators) is written as a Go escape; a string with none is
// printed as it is.
func esc(s string) string {
	for _, r := range s {
		if !unicode.IsGraphic(r) {
			q := strconv.QuoteToGraphic(s)
			return q[1 : len(q)-1]
		}
	}
	return s
}
