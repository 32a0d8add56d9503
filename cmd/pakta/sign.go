package main

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/pledge"
)

// pledgeForm is what "pakta sign" reads: the pledge minus what it derives
// (type, date, the template's hash and the text itself).
type pledgeForm struct {
	ID         string        `json:"id,omitzero" yaml:"id"`
	Signer     pledge.Person `json:"signer" yaml:"signer"`
	Template   string        `json:"template" yaml:"template"`
	Election   string        `json:"election" yaml:"election"`
	Place      string        `json:"place" yaml:"place"`
	SignedAt   string        `json:"signed_at,omitzero" yaml:"signed_at"`
	TZ         string        `json:"tz,omitzero" yaml:"tz"`
	Supersedes *uint64       `json:"supersedes,omitzero" yaml:"supersedes"`
}

const maxTextSize = 64 << 10

func newSignCmd() *cobra.Command {
	var (
		keyPath, form, textPath, out, tz string
		witnesses                        []string
	)
	cmd := &cobra.Command{
		Use:   "sign --key EMPLOYEE.jwk --form PLEDGE --text TEMPLATE.txt [--out FILE]",
		Short: "Sign a pledge from a form (and, as subcommands, templates and revocations)",
		Long: `Sign makes a pledge from a JSON or YAML form and signs it with the employee's
key (the one enrolled for the signer). The form:
  signer:
    scheme: nip
    id: "198703152010011002"
    name: Budi Santoso
    unit: Bagian Umum                # optional, as position
    agency: {code: "7601", name: Pemerintah Kabupaten Mamuju}
    employment: PNS
  template: netralitas-2024          # the template id
  election: Pemilu 2024
  place: Mamuju
  signed_at: now                     # optional: now (the default) or RFC 3339
  tz: WITA                           # optional: the zone of "now" (or --tz)
  id: ...                            # optional: default a random UUID
  supersedes: 12                     # optional: the index this corrects

The text is --text exactly as shown to the signer; its SHA-256 becomes
template.sha256. The date is signed_at's calendar date in its own offset.
--witness adds a registrar's countersignature (JWS JSON serialization).
The JWS goes to --out (refusing to overwrite) or stdout.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyPath == "" || form == "" || textPath == "" {
				return usagef("sign needs --key, --form and --text")
			}
			var f pledgeForm
			if err := readForm(form, &f); err != nil {
				return err
			}
			text, err := readFileLimited(textPath, maxTextSize)
			if err != nil {
				return usagef("reading the text: %w", err)
			}
			p, err := f.pledge(string(text), tz, time.Now())
			if err != nil {
				return usageError(err)
			}
			key, err := pledge.ReadPrivateKeyFile(keyPath)
			if err != nil {
				return usageError(err)
			}
			var jws []byte
			if len(witnesses) == 0 {
				jws, err = pledge.Sign(p, key)
			} else {
				keys := []*pledge.PrivateKey{key}
				for _, w := range witnesses {
					k, err := pledge.ReadPrivateKeyFile(w)
					if err != nil {
						return usageError(err)
					}
					keys = append(keys, k)
				}
				jws, err = pledge.SignJSON(p, keys...)
			}
			if err != nil {
				return err
			}
			if err := writeOutput(cmd.OutOrStdout(), out, append(jws, '\n')); err != nil {
				return err
			}
			if out != "" && out != "-" {
				fmt.Fprintf(cmd.ErrOrStderr(), "pledge %s by %s %s dated %s written to %s\n", p.ID, p.Signer.Scheme, p.Signer.ID, p.Date, out)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyPath, "key", "", "the signer's private JWK `file`")
	f.StringVar(&form, "form", "", "the pledge form, a JSON or YAML `file`")
	f.StringVar(&textPath, "text", "", "the template text `file`, exactly as shown to the signer")
	f.StringVar(&tz, "tz", "", "time `zone` of signed_at \"now\": WIB, WITA, WIT, +08:00, … (default the form's tz, else local)")
	f.StringArrayVar(&witnesses, "witness", nil, "a registrar's private JWK `file` to countersign with (repeatable)")
	f.StringVar(&out, "out", "", "write the JWS to `file` (default stdout)")
	cmd.AddCommand(newSignTemplateCmd(), newSignRevocationCmd(), newSignRulingCmd())
	return cmd
}

// pledge builds the pledge the form describes, with text and the clock
// now, through pledge.NewPledge (as an embedding app does): the form's id,
// signed_at and supersedes, when given, replace what it derives.
func (f *pledgeForm) pledge(text, tz string, now time.Time) (*pledge.Pledge, error) {
	at := now
	if f.SignedAt == "" || f.SignedAt == "now" {
		zone := f.TZ
		if tz != "" {
			zone = tz
		}
		loc, err := parseZone(zone)
		if err != nil {
			return nil, err
		}
		at = now.In(loc)
	} else {
		if f.TZ != "" || tz != "" {
			return nil, fmt.Errorf("signed_at %s carries its own offset: drop tz", f.SignedAt)
		}
		var err error
		if at, err = time.Parse(time.RFC3339, f.SignedAt); err != nil {
			return nil, fmt.Errorf("signed_at %q is not \"now\" or an RFC 3339 timestamp such as 2023-11-27T08:15:00+08:00", f.SignedAt)
		}
	}
	// The form names the template by id; the text file is its wording.
	t := &pledge.Template{ID: f.Template, Text: text, Election: f.Election}
	p, err := pledge.NewPledge(f.Signer, t, f.Place, at, rand.Reader)
	if err != nil {
		return nil, err
	}
	if f.ID != "" {
		p.ID = f.ID
	}
	if f.SignedAt != "" && f.SignedAt != "now" {
		p.SignedAt = f.SignedAt // as written, its offset and precision kept
	}
	p.Supersedes = f.Supersedes
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func newSignTemplateCmd() *cobra.Command {
	var keyPath, id, lang, textPath, out, election, deadline string
	var agencies []string
	cmd := &cobra.Command{
		Use:   "template --key REGISTRAR.jwk --id ID --election E --agency CODE… --text FILE [--deadline T] [--out FILE]",
		Short: "Sign a template (the published wording of a pledge) as a registrar",
		Long: `A template is the official wording of one pledge for one election, for the
agencies it names. Publish it in the log (pakta submit) before anyone signs:
the log accepts a pledge only under a template logged earlier that covers the
signer's agency, with the same id, text and election. One template per id: a
new wording is a new id. --agency is repeatable; "*" (every agency) needs a
registrar whose own scope is "*". Pledges logged after --deadline are kept but
reported late.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyPath == "" || id == "" || textPath == "" || election == "" || len(agencies) == 0 {
				return usagef("sign template needs --key, --id, --election, --agency and --text")
			}
			text, err := readFileLimited(textPath, maxTextSize)
			if err != nil {
				return usagef("reading the text: %w", err)
			}
			t := &pledge.Template{Type: pledge.TypeTemplate, ID: id, Lang: lang, Election: election, Agencies: agencies,
				Text: string(text), SHA256: pledge.TextHash(string(text)), Deadline: deadline}
			return signStatement(cmd, t, keyPath, out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyPath, "key", "", "the registrar's private JWK `file`")
	f.StringVar(&id, "id", "", "template `id`, such as netralitas-2024 (a-z 0-9 . -)")
	f.StringVar(&election, "election", "", "the `election` the pledge is for, such as \"Pemilu 2029\"")
	f.StringArrayVar(&agencies, "agency", nil, "an agency `code` the template is for (repeat; \"*\" for every agency)")
	f.StringVar(&deadline, "deadline", "", "when pledges are due, RFC 3339 with offset (`time`), such as 2029-01-10T23:59:59+08:00")
	f.StringVar(&lang, "lang", "id", "`language` tag of the text")
	f.StringVar(&textPath, "text", "", "the template text `file`")
	f.StringVar(&out, "out", "", "write the JWS to `file` (default stdout)")
	return cmd
}

func newSignRevocationCmd() *cobra.Command {
	var keyPath, kid, reason, out string
	cmd := &cobra.Command{
		Use:   "revocation --key REGISTRAR.jwk --kid KID --reason TEXT [--out FILE]",
		Short: "Sign a revocation of an enrolled key as a registrar",
		Long: `A revocation takes effect at its position in the log: pledges logged after it
with that key are refused; those logged before stay valid.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyPath == "" || kid == "" || reason == "" {
				return usagef("sign revocation needs --key, --kid and --reason")
			}
			r := &pledge.Revocation{Type: pledge.TypeRevocation, KID: kid, Reason: reason}
			return signStatement(cmd, r, keyPath, out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyPath, "key", "", "the registrar's private JWK `file`")
	f.StringVar(&kid, "kid", "", "the `kid` of the key to revoke")
	f.StringVar(&reason, "reason", "", "why, in words (`text`)")
	f.StringVar(&out, "out", "", "write the JWS to `file` (default stdout)")
	return cmd
}

// signStatement validates st, signs it with the key in keyPath as a compact
// JWS and writes it to out.
func signStatement(cmd *cobra.Command, st pledge.Statement, keyPath, out string) error {
	if err := st.Validate(); err != nil {
		return usageError(err)
	}
	key, err := pledge.ReadPrivateKeyFile(keyPath)
	if err != nil {
		return usageError(err)
	}
	jws, err := pledge.Sign(st, key)
	if err != nil {
		return err
	}
	return writeOutput(cmd.OutOrStdout(), out, append(jws, '\n'))
}

func newSignRulingCmd() *cobra.Command {
	var keyPath, caseID, finding, findingPath, decidedAt, out string
	var concerns, annuls []uint
	cmd := &cobra.Command{
		Use:   "ruling --key SUPERVISOR.jwk --case C --concerns I… --finding TEXT [--annuls I…] [--decided-at T] [--out FILE]",
		Short: "Sign a ruling of the supervising authority about entries of the log",
		Long: `A ruling records the supervising authority's finding on a dispute, next to
the evidence: the case, the log indexes of the entries it is about, the
finding, and optionally the pledges it annuls. Only a key the trust policy
lists as a reader with the role supervisor may sign one ("pakta policy
add-reader --role supervisor"). An annulled pledge stays in the log; reports
and a person's history show it annulled, and the signer may pledge again
under that template. Sanctions stay with the employing agency.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyPath == "" || caseID == "" || len(concerns) == 0 || (finding == "") == (findingPath == "") {
				return usagef("sign ruling needs --key, --case, --concerns and one of --finding or --finding-file")
			}
			if findingPath != "" {
				b, err := readFileLimited(findingPath, maxTextSize)
				if err != nil {
					return usagef("reading the finding: %w", err)
				}
				finding = strings.TrimRight(string(b), "\n")
			}
			if decidedAt == "" || decidedAt == "now" {
				decidedAt = timestamp(time.Now())
			}
			r := &pledge.Ruling{Type: pledge.TypeRuling, Case: caseID, Finding: finding, DecidedAt: decidedAt}
			for _, c := range concerns {
				r.Concerns = append(r.Concerns, uint64(c))
			}
			for _, a := range annuls {
				r.Annuls = append(r.Annuls, uint64(a))
			}
			return signStatement(cmd, r, keyPath, out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyPath, "key", "", "the supervisor's private JWK `file`")
	f.StringVar(&caseID, "case", "", "the `case` number")
	f.UintSliceVar(&concerns, "concerns", nil, "log `indexes` of the entries the ruling is about (comma-separated or repeated)")
	f.UintSliceVar(&annuls, "annuls", nil, "log `indexes` of the pledges it annuls, among --concerns")
	f.StringVar(&finding, "finding", "", "the finding, in words (`text`)")
	f.StringVar(&findingPath, "finding-file", "", "the finding, from a `file`")
	f.StringVar(&decidedAt, "decided-at", "now", "when it was decided, RFC 3339 with offset (`time`)")
	f.StringVar(&out, "out", "", "write the JWS to `file` (default stdout)")
	return cmd
}
