package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/text/language"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
	"github.com/pakta-id/pakta/verify/render"
)

// claimFlags are the flags of a claim about a person's pledge on a date,
// shared by verify (the claim check) and get (the query).
type claimFlags struct {
	nip, scheme, id, date, template, election string
}

func (c *claimFlags) register(cmd *cobra.Command, withTemplate bool) {
	f := cmd.Flags()
	f.StringVar(&c.nip, "nip", "", "the signer's `NIP` (18 digits)")
	f.StringVar(&c.scheme, "scheme", "", "the signer's identifier `scheme` (nip, nik or agency:<code>), with --id")
	f.StringVar(&c.id, "id", "", "the signer's `identifier` in --scheme")
	f.StringVar(&c.date, "date", "", "the pledge's own `date`, YYYY-MM-DD")
	if withTemplate {
		f.StringVar(&c.template, "template", "", "also claim the template `id`")
		f.StringVar(&c.election, "election", "", "also claim the `election`")
	}
}

func (c *claimFlags) any() bool {
	return c.nip != "" || c.scheme != "" || c.id != "" || c.date != "" || c.template != "" || c.election != ""
}

// claim checks the flags and returns the claim they make: a person and a
// date are required together.
func (c *claimFlags) claim() (*verify.Claim, error) {
	scheme, id := c.scheme, c.id
	switch {
	case c.nip != "" && (c.scheme != "" || c.id != ""):
		return nil, usagef("give --nip, or --scheme and --id, not both")
	case c.nip != "":
		scheme, id = pledge.SchemeNIP, c.nip
	case c.scheme == "" || c.id == "":
		return nil, usagef("a claim needs the signer: --nip, or --scheme and --id")
	}
	if c.date == "" {
		return nil, usagef("a claim needs --date YYYY-MM-DD (the pledge's own date)")
	}
	if err := pledge.ValidateID(scheme, id, "", time.Time{}); err != nil {
		return nil, usageError(err)
	}
	if _, err := time.Parse(pledge.DateLayout, c.date); err != nil {
		return nil, usagef("--date %q is not a date YYYY-MM-DD", c.date)
	}
	return &verify.Claim{Scheme: scheme, ID: id, Date: c.date, Template: c.template, Election: c.election}, nil
}

func newVerifyCmd() *cobra.Command {
	var (
		policyPath string
		cf         claimFlags
		asJSON     bool
		rf         reportFlags
		history    bool
		lf         logFlags
	)
	cmd := &cobra.Command{
		Use:   "verify [--policy P] [--nip X | --scheme S --id I] [--date D] BUNDLE...",
		Short: "Check bundles offline against a trust policy",
		Long: `Verify checks each bundle (.pakta.json; "-" is stdin) offline, against the
trust policy alone, and prints its report: every check named, pass or fail,
and why. The checks, in order: bundle, checkpoint, inclusion, signature,
key, statement, time, and, when a claim is given, claim.

A claim: --nip X --date D (or --scheme S --id I --date D for staff without a
NIP) asserts that this person signed the pledge and that its own date is D;
--template and --election narrow it further.

The report is in Indonesian (--lang id, the default) or English (--lang
en): check ids, field names and JSON members stay as they are. --format
text (the default) prints, for each bundle, every check, what each failed
or unchecked check means for a dispute, the facts (who, the pledge text,
when in WIB/WITA/WIT and UTC, on time or late, who enrolled the key) and
what the bundle does not prove. --format json (or --json) prints each
report as a JSON object (the shape POST /v1/verify returns), one after the
other in the order given. --format html and --format pdf (an A4 evidence
sheet to sign and file) render one bundle; pdf needs --out or a stdout that
is not a terminal. --address URL names where the bundle can be fetched
again: printed, and carried by the PDF's QR code.

--history (one bundle, text, html or pdf) adds the signer's history from the
log in --dir or at --server URL: every key enrolled in their name and by
which registrar, revocations, pledges (on time or late, corrections) and
rulings, each row saying whether its own bundle verifies. Those rows are
marked as outside what the bundle proves: they are the log's word, read
today, not evidence carried by the bundle.

Exit codes:
  0  every check passed for every bundle
  1  a check failed for some bundle (including a malformed bundle)
  2  bad usage, an unreadable policy or bundle file, or a file that does not
     even begin with a JSON object`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var claim *verify.Claim
			if cf.any() {
				var err error
				if claim, err = cf.claim(); err != nil {
					return err
				}
			}
			if asJSON {
				if cmd.Flags().Changed("format") && rf.format != string(render.JSON) {
					return usagef("--json and --format %s: choose one", rf.format)
				}
				rf.format = string(render.JSON)
			}
			ro, format, err := rf.options(len(args))
			if err != nil {
				return err
			}
			if history && (len(args) != 1 || format == render.JSON) {
				return usagef("--history adds rows to the report of one bundle in text, html or pdf")
			}
			if !history && (cmd.Flags().Changed("dir") || cmd.Flags().Changed("server")) {
				return usagef("--dir and --server say where --history reads the signer's history: give --history too")
			}
			if history && lf.server == "" && !cmd.Flags().Changed("policy") {
				policyPath = dataDir(lf.dir).policy() // the log's own
			}
			policy, err := readPolicy(policyPath)
			if err != nil {
				return err
			}
			out, closeOut, err := rf.output(cmd, format)
			if err != nil {
				return err
			}
			defer closeOut()
			errw := cmd.ErrOrStderr()
			code := exitOK
			for i, path := range args {
				b, err := readFileLimited(path, verify.MaxBundleSize)
				if err != nil && !isTooLarge(err) {
					fmt.Fprintf(errw, "pakta: %s: %v\n", path, err)
					code = exitUsage
					continue
				}
				r, err := verify.VerifyBytes(b, policy, claim)
				if errors.Is(err, verify.ErrNotJSONObject) {
					fmt.Fprintf(errw, "pakta: %s is not a bundle: it does not begin with a JSON object\n", path)
					code = exitUsage
					continue
				} else if err != nil {
					fmt.Fprintf(errw, "pakta: %s: %v\n", path, err)
					code = exitUsage
					continue
				}
				if !r.Passed() && code == exitOK {
					code = exitFailure
				}
				if history {
					if ro.History, err = reportHistory(cmd.Context(), &lf, r, claim, policy, ro.Lang); err != nil {
						return err
					}
				}
				if format == render.Text && len(args) > 1 {
					if i > 0 {
						fmt.Fprintln(out)
					}
					fmt.Fprintf(out, "== %s\n", path)
				}
				if err := render.Write(out, format, r, ro); err != nil {
					return err
				}
			}
			if err := closeOut(); err != nil {
				return err
			}
			return silentExit(code)
		},
	}
	cmd.Flags().StringVar(&policyPath, "policy", defaultPolicy, "trust policy `file`")
	cf.register(cmd, true)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print each report as JSON (--format json)")
	rf.register(cmd)
	cmd.Flags().BoolVar(&history, "history", false, "add the signer's history from the log (--dir D or --server URL), marked as outside the bundle's proof")
	lf.register(cmd)
	lf.registerKey(cmd)
	return cmd
}

// reportHistory reads the history of the person a report is about (the
// verified signer, else the claim's) and words it as rows of the report.
func reportHistory(ctx context.Context, lf *logFlags, r *verify.Report, claim *verify.Claim, policy *verify.Policy, lang language.Tag) ([]render.HistoryRow, error) {
	var scheme, id string
	var skip, this *uint64
	switch {
	case r.Entry != nil && r.Entry.Signer != nil:
		scheme, id = r.Entry.Signer.Scheme, r.Entry.Signer.ID
		this = &r.Entry.Index
		if r.Entry.Key != nil {
			skip = &r.Entry.Key.Index // the bundle prints its own enrollment
		}
	case claim != nil:
		scheme, id = claim.Scheme, claim.ID
	default:
		return nil, usagef("--history: the bundle proves no signer (it is not a pledge that verifies): name the person with --nip or --scheme and --id, and --date")
	}
	events, _, err := readHistory(ctx, lf, scheme, id, false)
	if err != nil {
		return nil, err
	}
	return historyRows(events, policy, lang, skip, this), nil
}

// claimIf is claim when want is true, and nil otherwise.
func (c *claimFlags) claimIf(want bool) (*verify.Claim, error) {
	if !want {
		return nil, nil
	}
	return c.claim()
}
