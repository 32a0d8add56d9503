package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/pledge/roster"
)

// rosterFile is where "pakta roster import" keeps the roster in a data
// directory, in the form roster.MarshalCSV writes: the one file that
// "report" (without --roster) and the server's enrollment check read.
const rosterFile = "roster.csv"

func (d dataDir) roster() string { return filepath.Join(string(d), rosterFile) }

// readRoster reads and parses a roster file. An unreadable or malformed
// roster is bad input: exit 2.
func readRoster(path string) (*roster.Roster, error) {
	data, err := readFileLimited(path, roster.MaxSize)
	if err != nil {
		return nil, usagef("reading the roster: %w", err)
	}
	r, err := roster.Parse(path, data)
	if err != nil {
		return nil, usageError(err)
	}
	return r, nil
}

func newRosterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "roster",
		Short: "Load the roster of people expected to sign into a data directory",
		Args:  noArgs,
	}
	cmd.AddCommand(newRosterImportCmd())
	return cmd
}

func newRosterImportCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "import FILE [--dir D]",
		Short: "Check an HR export of the roster and load it into the data directory",
		Long: `Import reads a roster as HR exports it (CSV or TSV with ',' ';' or tab,
Indonesian or English headers such as NIP, Nama, Unit Kerja, Jabatan, Status,
NIPs with spaces, staff without a NIP with scheme and id columns), checks
every row, and stores it in D/` + rosterFile + `, replacing the roster there.
"pakta report" reads that file when it is not given --roster.

The stored file is the roster in one plain form (UTF-8, commas, the columns
scheme,id,name,unit,position,employment), whatever the export looked like;
it is written whole or not at all, readable by its owner only (it holds
personal data: a NIP holds a birth date).

A malformed roster is refused, naming the line and column ("pegawai.csv:12:3:
..."), and nothing is stored: exit 2. Columns the roster does not need are
listed and ignored.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d := dataDir(dir)
			if _, err := os.Stat(d.policy()); err != nil {
				return usagef("%s is not a pakta data directory (%v): run \"pakta init --dir %s\" first", dir, err, dir)
			}
			r, err := readRoster(args[0])
			if err != nil {
				return err
			}
			if err := replaceFile(d.roster(), r.MarshalCSV(), 0o600); err != nil {
				return failf("storing the roster: %w", err)
			}
			out := cmd.OutOrStdout()
			units := map[string]bool{}
			asn := 0
			for _, p := range r.People {
				units[p.Unit] = true
				if p.Employment != pledge.NonASN {
					asn++
				}
			}
			fmt.Fprintf(out, "%s: %d people (%d ASN, %d non-ASN) in %d units, stored in %s\n",
				args[0], r.Len(), asn, r.Len()-asn, len(units), d.roster())
			if len(r.Ignored) > 0 {
				quoted := make([]string, len(r.Ignored))
				for i, h := range r.Ignored {
					quoted[i] = fmt.Sprintf("%q", h)
				}
				fmt.Fprintf(out, "ignored columns: %s\n", strings.Join(quoted, ", "))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", defaultDir, "data `directory` of the log")
	return cmd
}

// replaceFile writes data to path atomically: a temporary file in the same
// directory, synced, then renamed over path, and the directory synced, so
// that a crash leaves the old file or the new one, never half of either.
func replaceFile(path string, data []byte, perm fs.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	dirf, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dirf.Close()
	if err := dirf.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
