package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// rosterPerson is one row of a roster.
type rosterPerson struct {
	Line       int    `json:"-"`
	Scheme     string `json:"scheme"`
	ID         string `json:"id"`
	Name       string `json:"name"`
	Unit       string `json:"unit"`
	Employment string `json:"employment,omitempty"`
}

// rosterColumns are the columns a roster may have.
var rosterColumns = []string{"nip", "scheme", "id", "name", "unit", "position", "employment"}

const maxRosterSize = 64 << 20

// parseRoster reads a roster CSV strictly: a header row naming known
// columns (nip, or scheme and id; name; unit; optionally position and
// employment), every row with as many fields, every identifier valid and
// listed once. Errors name the line.
func parseRoster(name string, data []byte) ([]rosterPerson, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF")) // a spreadsheet's BOM
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = 0 // as many as the header
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty roster: it needs a header row (%s)", name, strings.Join(rosterColumns, ","))
	} else if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(rosterColumns, h) {
			return nil, fmt.Errorf("%s:1: unknown column %q (known: %s)", name, header[i], strings.Join(rosterColumns, ", "))
		}
		if _, dup := col[h]; dup {
			return nil, fmt.Errorf("%s:1: column %q appears twice", name, h)
		}
		col[h] = i
	}
	_, hasNIP := col["nip"]
	_, hasScheme := col["scheme"]
	_, hasID := col["id"]
	switch {
	case hasNIP && (hasScheme || hasID):
		return nil, fmt.Errorf("%s:1: give a nip column, or scheme and id columns, not both", name)
	case !hasNIP && !(hasScheme && hasID):
		return nil, fmt.Errorf("%s:1: the roster needs a nip column, or scheme and id columns", name)
	}
	for _, c := range []string{"name", "unit"} {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("%s:1: the roster needs a %s column", name, c)
		}
	}
	field := func(rec []string, c string) string {
		if i, ok := col[c]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var people []rosterPerson
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
			return nil, fmt.Errorf("%s:%d: %d fields, but the header has %d columns", name, pe.StartLine, len(rec), len(header))
		} else if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d: %v", name, pe.Line, pe.Err)
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := r.FieldPos(0)
		p := rosterPerson{Line: line, Scheme: field(rec, "scheme"), ID: field(rec, "id"), Name: field(rec, "name"), Unit: field(rec, "unit"), Employment: field(rec, "employment")}
		if hasNIP {
			p.Scheme, p.ID = pledge.SchemeNIP, field(rec, "nip")
		}
		if p.ID == "" {
			return nil, fmt.Errorf("%s:%d: missing identifier", name, line)
		}
		if p.Name == "" {
			return nil, fmt.Errorf("%s:%d: missing name", name, line)
		}
		if p.Unit == "" {
			return nil, fmt.Errorf("%s:%d: missing unit", name, line)
		}
		switch p.Employment {
		case "", pledge.PNS, pledge.PPPK, pledge.NonASN:
		default:
			return nil, fmt.Errorf("%s:%d: employment %q is not PNS, PPPK or NON_ASN", name, line, p.Employment)
		}
		if err := pledge.ValidateID(p.Scheme, p.ID, p.Employment, time.Time{}); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		key := p.Scheme + "\x00" + p.ID
		if first, dup := seen[key]; dup {
			return nil, fmt.Errorf("%s:%d: %s %s is already listed on line %d", name, line, p.Scheme, p.ID, first)
		}
		seen[key] = line
		people = append(people, p)
	}
	if len(people) == 0 {
		return nil, fmt.Errorf("%s: the roster lists nobody", name)
	}
	return people, nil
}

// coverage is the report: who signed, per unit.
type coverage struct {
	Date     string         `json:"date"`
	Template string         `json:"template,omitempty"`
	Election string         `json:"election,omitempty"`
	Signed   int            `json:"signed"`
	Total    int            `json:"total"`
	Units    []unitCoverage `json:"units"`
}

type unitCoverage struct {
	Unit   string         `json:"unit"`
	Signed int            `json:"signed"`
	Total  int            `json:"total"`
	People []personStatus `json:"people"`
}

type personStatus struct {
	rosterPerson
	Signed   bool    `json:"signed"`
	Index    *uint64 `json:"index,omitempty"` // the latest pledge
	SignedAt string  `json:"signed_at,omitempty"`
	Pledges  int     `json:"pledges,omitempty"` // > 1 when corrected
}

func newReportCmd() *cobra.Command {
	var (
		lf                                logFlags
		roster, date, tmpl, election, pol string
		asJSON, asCSV                     bool
	)
	cmd := &cobra.Command{
		Use:   "report --roster ROSTER.csv --date D [--template T] [--election E] [--dir D | --server URL] [--json | --csv]",
		Short: "Who on a roster has signed a pledge dated D, and who has not, per unit",
		Long: `Report reads a roster (CSV with a header row) and asks the log, for each
person, for their pledges dated D (--template and --election narrow which
pledges count). It prints, per unit, who has signed (with the index of the
latest pledge and when) and who has not, with counts.

Roster columns (names case-insensitive, in any order): nip, or scheme and id;
name; unit; optionally position and employment (PNS, PPPK, NON_ASN, which
sharpens the NIP check). Every row must have every column; an unknown column,
a malformed identifier or a person listed twice is an error naming the line.

With --server, every bundle the server returns is verified against --policy
(default ./pakta-data/policy.json) before it counts.

Output: text by default, --json or --csv for machines. Exit codes: 0 when the
report is made (whatever the coverage), 1 if the log fails or a server's
bundle does not verify, 2 for bad usage or a malformed roster.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if roster == "" || date == "" {
				return usagef("report needs --roster and --date")
			}
			if asJSON && asCSV {
				return usagef("give --json or --csv, not both")
			}
			if _, err := time.Parse(pledge.DateLayout, date); err != nil {
				return usagef("--date %q is not a date YYYY-MM-DD", date)
			}
			data, err := readFileLimited(roster, maxRosterSize)
			if err != nil {
				return usagef("reading the roster: %w", err)
			}
			people, err := parseRoster(roster, data)
			if err != nil {
				return usageError(err)
			}
			var policy *verify.Policy
			if lf.server != "" {
				if policy, err = readPolicy(pol); err != nil {
					return err
				}
			}
			b, err := lf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer b.Close()
			cov, err := makeCoverage(cmd.Context(), b, policy, people, date, tmpl, election)
			if err != nil {
				return err
			}
			switch {
			case asJSON:
				return printJSON(cmd.OutOrStdout(), cov)
			case asCSV:
				return cov.writeCSV(cmd.OutOrStdout())
			}
			cov.writeText(cmd.OutOrStdout())
			return nil
		},
	}
	lf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&roster, "roster", "", "roster CSV `file`")
	f.StringVar(&date, "date", "", "the pledges' `date`, YYYY-MM-DD")
	f.StringVar(&tmpl, "template", "", "count only pledges of this template `id`")
	f.StringVar(&election, "election", "", "count only pledges for this `election`")
	f.StringVar(&pol, "policy", defaultPolicy, "trust policy `file` for --server bundles")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.BoolVar(&asCSV, "csv", false, "print the report as CSV, one row a person")
	return cmd
}

func makeCoverage(ctx context.Context, b backend, policy *verify.Policy, people []rosterPerson, date, tmpl, election string) (*coverage, error) {
	cov := &coverage{Date: date, Template: tmpl, Election: election}
	units := map[string]int{}
	for _, p := range people {
		bundles, err := b.Pledges(ctx, p.Scheme, p.ID, date)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", p.Scheme, p.ID, err)
		}
		st := personStatus{rosterPerson: p}
		for _, bu := range bundles {
			index, pl, err := bundlePledge(bu, policy)
			if err != nil {
				return nil, failf("%s %s: %w", p.Scheme, p.ID, err)
			}
			if (tmpl != "" && pl.Template.ID != tmpl) || (election != "" && pl.Election != election) {
				continue
			}
			st.Signed = true
			st.Pledges++
			if st.Index == nil || index > *st.Index {
				st.Index, st.SignedAt = &index, pl.SignedAt
			}
		}
		u, ok := units[p.Unit]
		if !ok {
			u = len(cov.Units)
			units[p.Unit] = u
			cov.Units = append(cov.Units, unitCoverage{Unit: p.Unit, People: []personStatus{}})
		}
		uc := &cov.Units[u]
		uc.People = append(uc.People, st)
		uc.Total++
		cov.Total++
		if st.Signed {
			uc.Signed++
			cov.Signed++
		}
	}
	slices.SortStableFunc(cov.Units, func(a, b unitCoverage) int { return strings.Compare(a.Unit, b.Unit) })
	return cov, nil
}

// bundlePledge reads the pledge a bundle holds, after verifying the bundle
// when policy is not nil.
func bundlePledge(b []byte, policy *verify.Policy) (uint64, *pledge.Pledge, error) {
	if policy != nil {
		r, err := verify.VerifyBytes(b, policy, nil)
		if err != nil {
			return 0, nil, err
		}
		if !r.Passed() {
			c := r.Failed()
			return 0, nil, fmt.Errorf("a bundle fails its [%s] check: %s", c.ID, c.Reason)
		}
	}
	bu, err := verify.ParseBundle(b)
	if err != nil {
		return 0, nil, err
	}
	e, err := verify.ParseEntry(bu.Entry)
	if err != nil {
		return 0, nil, err
	}
	j, err := pledge.Parse(e.JWS)
	if err != nil {
		return 0, nil, err
	}
	pl, ok := j.Statement.(*pledge.Pledge)
	if !ok {
		return 0, nil, fmt.Errorf("a bundle holds a %s, not a pledge", j.Statement.StatementType())
	}
	p, err := verify.ParseProof([]byte(bu.Proof))
	if err != nil {
		return 0, nil, err
	}
	return p.Index, pl, nil
}

func (c *coverage) scope() string {
	s := "pledges dated " + c.Date
	if c.Template != "" {
		s += ", template " + c.Template
	}
	if c.Election != "" {
		s += ", " + c.Election
	}
	return s
}

func percent(n, total int) string {
	if total == 0 {
		return "0%"
	}
	return strconv.Itoa(n*100/total) + "%"
}

func (c *coverage) writeText(w io.Writer) {
	fmt.Fprintf(w, "%s: %d of %d signed (%s)\n", c.scope(), c.Signed, c.Total, percent(c.Signed, c.Total))
	for _, u := range c.Units {
		fmt.Fprintf(w, "\n%s: %d of %d signed\n", u.Unit, u.Signed, u.Total)
		for _, p := range u.People {
			if p.Signed {
				fmt.Fprintf(w, "  signed      %s  %s  (index %d, %s)\n", p.ID, p.Name, *p.Index, p.SignedAt)
			}
		}
		for _, p := range u.People {
			if !p.Signed {
				fmt.Fprintf(w, "  NOT signed  %s  %s\n", p.ID, p.Name)
			}
		}
	}
}

func (c *coverage) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"unit", "scheme", "id", "name", "signed", "index", "signed_at"})
	for _, u := range c.Units {
		for _, p := range u.People {
			index := ""
			if p.Index != nil {
				index = strconv.FormatUint(*p.Index, 10)
			}
			cw.Write([]string{u.Unit, p.Scheme, p.ID, p.Name, strconv.FormatBool(p.Signed), index, p.SignedAt})
		}
	}
	cw.Flush()
	return cw.Error()
}
