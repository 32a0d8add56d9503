package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/pledge/roster"
	"github.com/pakta-id/pakta/verify"
)

func newReportCmd() *cobra.Command {
	var (
		lf                                       logFlags
		rosterPath, date, tmpl, election, policy string
		asJSON, asCSV                            bool
	)
	cmd := &cobra.Command{
		Use:   "report [--roster FILE] [--template T] [--election E] [--date D] [--dir D | --server URL --key K] [--json | --csv]",
		Short: "Who on the roster signed on time, late, or not at all, per unit",
		Long: `Report asks the log, for each person on the roster, for their pledges, and
says per unit who signed on time, who signed late and who has not signed,
with counts. On time or late is judged by when the log logged the pledge
(logged_at) against its template's deadline, never by the signer's clock; a
template without a deadline has no late pledges. A person with several
pledges (corrections) is on time if one of them was.

The roster is --roster FILE, or the one "pakta roster import" loaded into
--dir (` + rosterFile + `). It is read as HR exports it (see "pakta roster import
--help"); a malformed roster is an error naming the line and column.

--template, --election and --date (the pledges' own date, YYYY-MM-DD) narrow
which pledges count. A local log (--dir) is searched for every pledge of each
person; a server (--server) lists pledges day by day, so it needs --date, and
every bundle it returns is verified against --policy (default
./pakta-data/policy.json) before it counts. A server's pledges are restricted
reads: --key signs them (a registrar's private JWK, for its agencies, or a
policy reader's), and the server records each read.

Output: text by default; --json, or --csv with one row a person (unit,
scheme, id, name, status, index, logged_at, signed_at, template, deadline;
status is on_time, late or not_signed). Exit codes: 0 when the report is made
(whatever the coverage), 1 if the log fails or a server's bundle does not
verify, 2 for bad usage or a malformed roster.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON && asCSV {
				return usagef("give --json or --csv, not both")
			}
			if date != "" {
				if _, err := time.Parse(pledge.DateLayout, date); err != nil {
					return usagef("--date %q is not a date YYYY-MM-DD", date)
				}
			} else if lf.server != "" {
				return usagef("with --server, give --date: a server lists a person's pledges day by day")
			}
			if rosterPath == "" {
				rosterPath = dataDir(lf.dir).roster()
				if _, err := os.Stat(rosterPath); errors.Is(err, fs.ErrNotExist) {
					return usagef("no roster in %s: give --roster FILE, or load one with \"pakta roster import FILE --dir %s\"", lf.dir, lf.dir)
				}
			}
			r, err := readRoster(rosterPath)
			if err != nil {
				return err
			}
			var pol *verify.Policy
			if lf.server != "" {
				if pol, err = readPolicy(policy); err != nil {
					return err
				}
				lf.origin = pol.Origin
			}
			b, err := lf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer b.Close()
			pledges, err := pledgesOf(cmd.Context(), b, pol, r, date)
			if err != nil {
				return err
			}
			rep := roster.Coverage(r, pledges, roster.Options{Date: date, Template: tmpl, Election: election})
			switch {
			case asJSON:
				return printJSON(cmd.OutOrStdout(), rep)
			case asCSV:
				return rep.WriteCSV(cmd.OutOrStdout())
			}
			return rep.WriteText(cmd.OutOrStdout())
		},
	}
	lf.register(cmd)
	lf.registerKey(cmd)
	f := cmd.Flags()
	f.StringVar(&rosterPath, "roster", "", "roster `file` (default: "+rosterFile+" in --dir)")
	f.StringVar(&date, "date", "", "count only pledges of this `date`, YYYY-MM-DD")
	f.StringVar(&tmpl, "template", "", "count only pledges of this template `id`")
	f.StringVar(&election, "election", "", "count only pledges for this `election`")
	f.StringVar(&policy, "policy", defaultPolicy, "trust policy `file` for --server bundles")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.BoolVar(&asCSV, "csv", false, "print the report as CSV, one row a person")
	return cmd
}

// pledgesOf gathers the pledges of everyone on the roster: those dated date,
// or every one when date is "" (a local log only). With a policy, each
// bundle is verified before it counts; without (a local log, which this
// process opened itself), it is read as the log wrote it.
func pledgesOf(ctx context.Context, b backend, policy *verify.Policy, r *roster.Roster, date string) ([]roster.Signed, error) {
	var out []roster.Signed
	for _, p := range r.People {
		bundles, err := personPledges(ctx, b, p, date)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", p.Scheme, p.ID, err)
		}
		for _, bu := range bundles {
			s, err := readSigned(bu, policy)
			if err != nil {
				return nil, failf("%s %s: %w", p.Scheme, p.ID, err)
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// personPledges is the bundles of a person's pledges dated date, or of all
// of them when date is "" (which only a local log can list).
func personPledges(ctx context.Context, b backend, p roster.Person, date string) ([][]byte, error) {
	if date != "" {
		return b.Pledges(ctx, p.Scheme, p.ID, date)
	}
	ll, ok := b.(localLog)
	if !ok {
		return nil, usagef("only a local log lists pledges without --date")
	}
	idx, err := ll.l.EntriesOf(ctx, p.Scheme, p.ID)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, i := range idx {
		bu, err := ll.Bundle(ctx, i)
		if err != nil {
			return nil, err
		}
		parsed, err := verify.ParseBundle(bu)
		if err != nil {
			return nil, err
		}
		if parsed.Template != nil { // only a pledge's bundle carries a template
			out = append(out, bu)
		}
	}
	return out, nil
}

// readSigned is what a bundle establishes about its pledge: verified under
// policy when there is one.
func readSigned(b []byte, policy *verify.Policy) (roster.Signed, error) {
	if policy != nil {
		rep, err := verify.VerifyBytes(b, policy, nil)
		if err != nil {
			return roster.Signed{}, err
		}
		return roster.FromReport(rep)
	}
	bu, err := verify.ParseBundle(b)
	if err != nil {
		return roster.Signed{}, err
	}
	return roster.ReadBundle(bu)
}
