package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/text/language"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
	"github.com/pakta-id/pakta/verify/render"
)

// historyWords are the words of a history row in the report's languages:
// render prints the rows' details as given, so they are worded here, where
// the history is read.
var historyWords = map[string][2]string{ // English, Indonesian
	"enrolled":   {"key %s enrolled for %s by %s (the key signed too), valid from %s %s", "kunci %s didaftarkan untuk %s oleh %s (kunci itu turut menandatangani), berlaku sejak %s %s"},
	"until":      {"until %s", "sampai %s"},
	"no end":     {"with no end", "tanpa batas akhir"},
	"revoked":    {"key %s revoked by %s: %s", "kunci %s dicabut oleh %s: %s"},
	"pledge":     {"template %s, %s, signed at %s (the signer's clock) in %s, with key %s", "templat %s, %s, ditandatangani pada %s (jam penanda tangan) di %s, dengan kunci %s"},
	"corrects":   {"; corrects #%d", "; mengoreksi #%d"},
	"on time":    {"; ON TIME (deadline %s)", "; TEPAT WAKTU (batas waktu %s)"},
	"late":       {"; LATE (deadline %s)", "; TERLAMBAT (batas waktu %s)"},
	"ruling":     {"case %s by %s about %s%s, decided %s: %s", "perkara %s oleh %s mengenai %s%s, diputus %s: %s"},
	"annuls":     {", annulling %s", ", membatalkan %s"},
	"annulled":   {"; ANNULLED by the ruling at #%d", "; DIBATALKAN oleh putusan #%d"},
	"this":       {" [this bundle]", " [bundel ini]"},
	"verified":   {" (its bundle verifies)", " (bundelnya terverifikasi)"},
	"fails":      {" (its bundle FAILS [%s])", " (bundelnya GAGAL [%s])"},
	"unknown":    {"key %s", "kunci %s"},
	"and":        {" and ", " dan "},
	"unreadable": {"an entry that cannot be read", "entri yang tidak dapat dibaca"},
}

// historyWord prints a history word in lang.
func historyWord(lang language.Tag, key string, args ...any) string {
	w := historyWords[key][0]
	if lang == verify.Indonesian {
		w = historyWords[key][1]
	}
	return fmt.Sprintf(w, args...)
}

// historyRows turns a person's history into the rows a report prints
// beside what the bundle proves, in lang: each key enrolled in their name
// (by which registrar, valid when), each revocation, each pledge (on time
// or late, corrections, annulments) and each ruling, each row saying
// whether its own bundle verifies under policy. The entry at skip (the
// key enrollment the bundle itself carries, and so prints) is left out;
// the entry at this is marked as the bundle's own.
func historyRows(events []historyEvent, policy *verify.Policy, lang language.Tag, skip, this *uint64) []render.HistoryRow {
	var rows []render.HistoryRow
	for _, ev := range events {
		if skip != nil && ev.Index == *skip {
			continue
		}
		detail := describeRow(ev, policy, lang)
		if ev.AnnulledBy != nil {
			detail += historyWord(lang, "annulled", *ev.AnnulledBy)
		}
		if r, err := verify.VerifyBytes(ev.Bundle, policy, nil); err != nil {
			detail += historyWord(lang, "fails", verify.CheckBundle)
		} else if f := r.Failed(); f != nil {
			detail += historyWord(lang, "fails", f.ID)
		} else {
			detail += historyWord(lang, "verified")
		}
		if this != nil && ev.Index == *this {
			detail += historyWord(lang, "this")
		}
		rows = append(rows, render.HistoryRow{Index: ev.Index, Type: ev.Type, LoggedAt: ev.LoggedAt, Detail: detail})
	}
	return rows
}

// kid8 is the first 8 characters of a key id, as the enrollment request
// shows them on a phone (shortKID), marked as cut.
func kid8(kid string) string {
	if len(kid) > 8 {
		return shortKID(kid) + "…"
	}
	return kid
}

// describeRow words one event of the history. Strings from entries are
// left as they are: render escapes what it prints.
func describeRow(ev historyEvent, policy *verify.Policy, lang language.Tag) string {
	b, err := verify.ParseBundle(ev.Bundle)
	if err != nil {
		return historyWord(lang, "unreadable")
	}
	e, err := verify.ParseEntry(b.Entry)
	if err != nil {
		return historyWord(lang, "unreadable")
	}
	j, err := pledge.ParseUnvalidated(e.JWS)
	if err != nil {
		return historyWord(lang, "unreadable")
	}
	who := func(skip string) string {
		var names []string
		for _, h := range j.Headers {
			switch r, isReg := policy.Registrar(h.KeyID); {
			case h.KeyID == skip:
			case isReg:
				names = append(names, strconv.Quote(r.Name))
			default:
				if rd, ok := policy.Reader(h.KeyID); ok {
					names = append(names, strconv.Quote(rd.Name))
				} else {
					names = append(names, historyWord(lang, "unknown", kid8(h.KeyID)))
				}
			}
		}
		return strings.Join(names, historyWord(lang, "and"))
	}
	switch st := j.Statement.(type) {
	case *pledge.Enrollment:
		if st.JWK == nil {
			return historyWord(lang, "unreadable")
		}
		kid := st.JWK.KeyID()
		until := historyWord(lang, "no end")
		if st.ValidUntil != "" {
			until = historyWord(lang, "until", st.ValidUntil)
		}
		return historyWord(lang, "enrolled", kid8(kid), st.Subject.Name, who(kid), st.ValidFrom, until)
	case *pledge.Revocation:
		return historyWord(lang, "revoked", kid8(st.KID), who(""), st.Reason)
	case *pledge.Pledge:
		kid := ""
		if len(j.Headers) > 0 {
			kid = kid8(j.Headers[0].KeyID)
		}
		s := historyWord(lang, "pledge", st.Template.ID, st.Election, st.SignedAt, st.Place, kid)
		if st.Supersedes != nil {
			s += historyWord(lang, "corrects", *st.Supersedes)
		}
		if r, err := verify.VerifyBytes(ev.Bundle, policy, nil); err == nil && r.Entry != nil && r.Entry.Published != nil && r.Entry.Published.OnTime != nil {
			if *r.Entry.Published.OnTime {
				s += historyWord(lang, "on time", r.Entry.Published.Deadline)
			} else {
				s += historyWord(lang, "late", r.Entry.Published.Deadline)
			}
		}
		return s
	case *pledge.Ruling:
		annuls := ""
		if len(st.Annuls) > 0 {
			annuls = historyWord(lang, "annuls", indexes(st.Annuls))
		}
		return historyWord(lang, "ruling", st.Case, who(""), indexes(st.Concerns), annuls, st.DecidedAt, firstLine(st.Finding))
	}
	return j.Statement.StatementType()
}

// indexes writes #3, #4.
func indexes(list []uint64) string {
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = "#" + strconv.FormatUint(x, 10)
	}
	return strings.Join(out, ", ")
}

// writeHistoryDoc renders a person's history as an html or pdf document:
// the rows of verify --history, with the person's name (from the latest
// enrollment in their name) and times in the zone of their latest pledge.
func writeHistoryDoc(cmd *cobra.Command, rf *reportFlags, format render.Format, scheme, id string, events []historyEvent, policy *verify.Policy, policyPath string) error {
	ro, _, err := rf.options(1)
	if err != nil {
		return err
	}
	h := &render.History{Origin: policy.Origin, Scheme: scheme, ID: id, ReadAt: time.Now().UTC().Format(time.RFC3339),
		Rows: historyRows(events, policy, ro.Lang, nil, nil)}
	for _, ev := range events {
		if r, err := verify.VerifyBytes(ev.Bundle, policy, nil); err != nil || !r.Passed() {
			h.Failed++
		}
		b, err := verify.ParseBundle(ev.Bundle)
		if err != nil {
			continue
		}
		e, err := verify.ParseEntry(b.Entry)
		if err != nil {
			continue
		}
		j, err := pledge.ParseUnvalidated(e.JWS)
		if err != nil {
			continue
		}
		switch st := j.Statement.(type) {
		case *pledge.Enrollment:
			h.Name = st.Subject.Name
		case *pledge.Pledge:
			if t, err := st.SignedAtTime(); err == nil {
				h.Offset = t.Format("-07:00")
			}
		}
	}
	out, closeOut, err := rf.output(cmd, format)
	if err != nil {
		return err
	}
	defer closeOut()
	if err := render.WriteHistory(out, format, h, ro); err != nil {
		return err
	}
	if err := closeOut(); err != nil {
		return err
	}
	if h.Failed > 0 {
		return failf("%d of %d entries do not verify under %s", h.Failed, len(events), policyPath)
	}
	return nil
}
