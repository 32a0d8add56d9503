package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/ledger"
	paktaclient "github.com/pakta-id/pakta/ledger/client"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
	"github.com/pakta-id/pakta/verify/render"
)

// historyEvent is one entry of a person's history, with its bundle file.
type historyEvent struct {
	Index      uint64          `json:"index"`
	Type       string          `json:"type"`
	LoggedAt   string          `json:"logged_at"`
	AnnulledBy *uint64         `json:"annulled_by,omitempty"`
	Bundle     json.RawMessage `json:"bundle"`
}

// historyRead is one read of the person's records.
type historyRead struct {
	At      string            `json:"at"`
	Reader  ledger.ReaderInfo `json:"reader"`
	Request string            `json:"request"`
}

// maxHistory bounds what one history command reads: far above any real
// person's entries, low enough that a hostile server cannot page forever.
const maxHistory = 100_000

func newHistoryCmd() *cobra.Command {
	var (
		lf         logFlags
		nip        string
		scheme, id string
		policyPath string
		asJSON, me bool
		rf         reportFlags
	)
	cmd := &cobra.Command{
		Use:   "history [--dir D | --server URL --key K] (--nip X | --scheme S --id I | --me) [--policy P] [--json | --format html|pdf [--lang id|en] [--out F]]",
		Short: "Everything the log holds about a person: keys, revocations, pledges, rulings",
		Long: `History lists, in log order, every entry about one person: each key enrolled
in their name (by which registrar, when, valid until when), each revocation,
each pledge and correction (under which template, signed and logged when,
on time or late), and each ruling of the supervising authority about them.
Each entry's bundle is verified with the trust policy (--policy, default the
log's own in --dir, else ./pakta-data/policy.json), and the line says so.

It answers "that is not my signature": a key the person never held shows
up here with the registrar who enrolled it; and "I signed before the
deadline": the pledge's logged_at and the template's deadline are here.

It also lists who read the person's records through a server, when, and
the reader's signed request (kept beside the log, not in it: not
tamper-evident). A server's histories are restricted reads: --key signs them
(a registrar's for its agencies, a policy reader's, or the person's own
enrolled key); --me (with --server and your own --key) reads your own.

--json prints the events with their bundles. --format html or pdf renders
the history as a document to file beside the evidence sheets (pakta verify
--format pdf), in Indonesian (--lang id, the default) or English, to --out
FILE (a pdf never to a terminal). Exit codes: 0 when every bundle verifies,
1 when one does not or the log fails, 2 for bad usage.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case me && (nip != "" || scheme != "" || id != ""):
				return usagef("--me is the signer's own history: give no --nip, --scheme or --id with it")
			case me && (lf.server == "" || lf.key == ""):
				return usagef("--me needs --server and your own enrolled --key")
			case me:
			case nip != "" && (scheme != "" || id != ""):
				return usagef("give --nip, or --scheme and --id, not both")
			case nip != "":
				scheme, id = pledge.SchemeNIP, nip
			case scheme == "" || id == "":
				return usagef("history needs the person: --nip, or --scheme and --id")
			}
			if !me {
				if err := pledge.ValidateID(scheme, id, "", time.Time{}); err != nil {
					return usageError(err)
				}
			}
			format := render.Text
			if cmd.Flags().Changed("format") || cmd.Flags().Changed("lang") || cmd.Flags().Changed("out") {
				var err error
				if _, format, err = rf.options(1); err != nil {
					return err
				}
				if format != render.HTML && format != render.PDF {
					return usagef("history --format renders html or pdf (text is the default, --json the events)")
				}
				if asJSON {
					return usagef("--json and --format %s: choose one", format)
				}
			}
			if policyPath == "" {
				policyPath = dataDir(defaultDir).policy()
				if lf.server == "" {
					policyPath = dataDir(lf.dir).policy()
				}
			}
			policy, err := readPolicy(policyPath)
			if err != nil {
				return err
			}
			lf.origin = policy.Origin
			events, reads, err := readHistory(cmd.Context(), &lf, scheme, id, me)
			if err != nil {
				return err
			}
			if me {
				scheme, id = "your", "records"
			}
			if asJSON {
				if events == nil {
					events = []historyEvent{}
				}
				if reads == nil {
					reads = []historyRead{}
				}
				out := map[string]any{"scheme": scheme, "id": id, "events": events, "reads": reads}
				if me {
					out = map[string]any{"events": events, "reads": reads}
				}
				if err := printJSON(cmd.OutOrStdout(), out); err != nil {
					return err
				}
			}
			if format != render.Text {
				return writeHistoryDoc(cmd, &rf, format, scheme, id, events, policy, policyPath)
			}
			failed := 0
			if !asJSON {
				failed = printHistory(cmd.OutOrStdout(), scheme, id, events, policy)
				printReads(cmd.OutOrStdout(), reads)
			} else {
				for _, ev := range events {
					if r, err := verify.VerifyBytes(ev.Bundle, policy, nil); err != nil || !r.Passed() {
						failed++
					}
				}
			}
			if failed > 0 {
				return failf("%d of %d entries do not verify under %s", failed, len(events), policyPath)
			}
			return nil
		},
	}
	lf.register(cmd)
	lf.registerKey(cmd)
	f := cmd.Flags()
	f.BoolVar(&me, "me", false, "your own history, read with your enrolled --key from --server")
	f.StringVar(&nip, "nip", "", "the person's `NIP` (18 digits)")
	f.StringVar(&scheme, "scheme", "", "the person's identifier `scheme` (nip, nik or agency:<code>), with --id")
	f.StringVar(&id, "id", "", "the person's `identifier` in --scheme")
	f.StringVar(&policyPath, "policy", "", "the trust policy `file` to verify with")
	f.BoolVar(&asJSON, "json", false, "print the events and their bundles as JSON")
	f.StringVar(&rf.lang, "lang", "id", "document `language` for --format: id (Indonesian) or en (English)")
	f.StringVar(&rf.format, "format", "text", "`format`: text (the default), or a document: html or pdf")
	f.StringVar(&rf.out, "out", "", "write the document to `file` instead of stdout")
	return cmd
}

// readHistory reads every page of a person's history, or with me the
// key's own from the server.
func readHistory(ctx context.Context, lf *logFlags, scheme, id string, me bool) ([]historyEvent, []historyRead, error) {
	if lf.server != "" {
		c, err := lf.client()
		if err != nil {
			return nil, nil, err
		}
		return c.History(ctx, scheme, id, me)
	}
	if _, err := lf.readKey(); err != nil {
		return nil, nil, err
	}
	l, err := dataDir(lf.dir).openLog(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer l.Close()
	var out []historyEvent
	var from uint64
	for {
		events, page, err := l.History(ctx, scheme, id, from, ledger.MaxPageLimit)
		if err != nil {
			return nil, nil, failure(err)
		}
		for _, ev := range events {
			b, err := ev.Bundle.Marshal()
			if err != nil {
				return nil, nil, err
			}
			out = append(out, historyEvent{Index: ev.Index, Type: ev.Type, LoggedAt: ev.LoggedAt.UTC().Format("2006-01-02T15:04:05.000Z"), AnnulledBy: ev.AnnulledBy, Bundle: b})
		}
		if !page.More || len(out) >= maxHistory {
			break
		}
		from = page.Next
	}
	var reads []historyRead
	var after []byte
	for {
		page, err := l.Reads(ctx, scheme, id, after, ledger.MaxPageLimit)
		if err != nil {
			return nil, nil, failure(err)
		}
		for _, r := range page.Reads {
			reads = append(reads, historyRead{At: r.At.UTC().Format("2006-01-02T15:04:05.000Z"), Reader: r.Reader, Request: r.Request})
		}
		if !page.More || len(reads) >= maxHistory {
			return out, reads, nil
		}
		after = page.Next
	}
}

// History reads every page of a person's history from the server (with me,
// the key's own).
func (c *client) History(ctx context.Context, scheme, id string, me bool) ([]historyEvent, []historyRead, error) {
	var h *paktaclient.History
	var err error
	if me {
		h, err = c.c.Me(ctx)
	} else {
		h, err = c.c.History(ctx, scheme, id)
	}
	if err != nil {
		return nil, nil, wrap(err)
	}
	out := make([]historyEvent, len(h.Events))
	for i, ev := range h.Events {
		out[i] = historyEvent{Index: ev.Index, Type: ev.Type, LoggedAt: ev.LoggedAt, AnnulledBy: ev.AnnulledBy, Bundle: ev.Bundle}
	}
	reads := make([]historyRead, len(h.Reads))
	for i, r := range h.Reads {
		reads[i] = historyRead{At: r.At, Reader: ledger.ReaderInfo{Role: r.Reader.Role, Name: r.Reader.Name, KID: r.Reader.KID}, Request: r.Request}
	}
	return out, reads, nil
}

// printReads writes one line per read of the person's records.
func printReads(w io.Writer, reads []historyRead) {
	if len(reads) == 0 {
		return
	}
	n := fmt.Sprintf("%d reads", len(reads))
	if len(reads) == 1 {
		n = "1 read"
	}
	fmt.Fprintf(w, "%s of these records through the server (recorded beside the log, not in it):\n", n)
	for _, r := range reads {
		who := r.Reader.Role
		if r.Reader.Name != "" {
			who += " " + safe(r.Reader.Name)
		}
		fmt.Fprintf(w, "  %s  by %s (key %s)\n", safe(r.At), who, safe(r.Reader.KID))
	}
}

// printHistory writes one line per event, verified, and returns how many
// failed to verify.
func printHistory(w io.Writer, scheme, id string, events []historyEvent, policy *verify.Policy) int {
	fmt.Fprintf(w, "history of %s %s: %d entries\n", scheme, id, len(events))
	failed := 0
	for _, ev := range events {
		r, err := verify.VerifyBytes(ev.Bundle, policy, nil)
		mark := "verified"
		if err != nil {
			mark, failed = "NOT a bundle", failed+1
		} else if f := r.Failed(); f != nil {
			mark, failed = "FAILS ["+f.ID+"]", failed+1
		}
		fmt.Fprintf(w, "#%-6d %s  %-10s %s  (%s)\n", ev.Index, ev.LoggedAt, ev.Type, describeEntry(ev.Bundle, policy), mark)
		if ev.AnnulledBy != nil {
			fmt.Fprintf(w, "         annulled by the ruling at #%d\n", *ev.AnnulledBy)
		}
	}
	return failed
}

// describeEntry words what an entry says, for a history line. Everything
// taken from the entry is quoted when it holds anything but graphic
// characters, so that no entry can forge a line.
func describeEntry(bundle []byte, policy *verify.Policy) string {
	b, err := verify.ParseBundle(bundle)
	if err != nil {
		return "(unreadable bundle)"
	}
	e, err := verify.ParseEntry(b.Entry)
	if err != nil {
		return "(unreadable entry)"
	}
	j, err := pledge.ParseUnvalidated(e.JWS)
	if err != nil {
		return "(unreadable statement)"
	}
	who := func(skip string) string {
		var names []string
		for _, h := range j.Headers {
			if h.KeyID == skip {
				continue
			}
			if r, ok := policy.Registrar(h.KeyID); ok {
				names = append(names, safe(r.Name))
			} else if rd, ok := policy.Reader(h.KeyID); ok {
				names = append(names, safe(rd.Name))
			} else {
				names = append(names, "key "+h.KeyID)
			}
		}
		return strings.Join(names, " and ")
	}
	switch st := j.Statement.(type) {
	case *pledge.Enrollment:
		if st.JWK == nil {
			return "enrollment without a key"
		}
		kid := st.JWK.KeyID()
		until := "with no end"
		if st.ValidUntil != "" {
			until = "until " + safe(st.ValidUntil)
		}
		return fmt.Sprintf("key %s enrolled by %s for %s, valid from %s %s", kid, who(kid), safe(st.Subject.Name), safe(st.ValidFrom), until)
	case *pledge.Revocation:
		return fmt.Sprintf("key %s revoked by %s: %s", safe(st.KID), who(""), safe(st.Reason))
	case *pledge.Pledge:
		s := fmt.Sprintf("pledge under template %s for %s, signed at %s in %s", safe(st.Template.ID), safe(st.Election), safe(st.SignedAt), safe(st.Place))
		if len(j.Headers) > 0 {
			s += ", key " + j.Headers[0].KeyID
		}
		if st.Supersedes != nil {
			s += fmt.Sprintf(", correcting #%d", *st.Supersedes)
		}
		if r, err := verify.VerifyBytes(bundle, policy, nil); err == nil && r.Entry != nil && r.Entry.Published != nil && r.Entry.Published.OnTime != nil {
			if *r.Entry.Published.OnTime {
				s += ", on time"
			} else {
				s += ", LATE (deadline " + r.Entry.Published.Deadline + ")"
			}
		}
		return s
	case *pledge.Ruling:
		concerns := make([]string, len(st.Concerns))
		for i, c := range st.Concerns {
			concerns[i] = "#" + strconv.FormatUint(c, 10)
		}
		s := fmt.Sprintf("ruling %s by %s about %s, decided %s: %s", safe(st.Case), who(""), strings.Join(concerns, ", "), safe(st.DecidedAt), safe(firstLine(st.Finding)))
		if len(st.Annuls) > 0 {
			annuls := make([]string, len(st.Annuls))
			for i, a := range st.Annuls {
				annuls[i] = "#" + strconv.FormatUint(a, 10)
			}
			s += "; annuls " + strings.Join(annuls, ", ")
		}
		return s
	}
	return j.Statement.StatementType()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// safe prints a string from an entry as it is when every character is
// graphic, and quoted with escapes otherwise.
func safe(s string) string {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || !strconv.IsGraphic(r) {
			return strconv.QuoteToGraphic(s)
		}
	}
	return s
}
