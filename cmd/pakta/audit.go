package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/pledge"
)

func newAuditCmd() *cobra.Command {
	var (
		dir, server, policyPath string
		keyFile                 string
		earlier                 []string
		save                    string
		quiet, asJSON           bool
	)
	cmd := &cobra.Command{
		Use:   "audit (--dir D | --server URL [--key K]) [--policy P] [--earlier CHECKPOINT]… [--save CHECKPOINT]",
		Short: "Recompute a whole log and compare it with everything it has published",
		Long: `Audit recomputes everything in a log from its entries alone: every entry's
form and signatures, every acceptance rule in log order, logged_at never
decreasing, every hash tile, and every checkpoint.

  --dir D        a local log (default ./pakta-data), checked down to every
                 stored hash row, index row and stored checkpoint; a log that
                 a running server holds is refused: audit it with --server
  --server URL   a served log, through its C2SP checkpoint and tiles, as a
                 mirror does; --policy (default ./pakta-data/policy.json)
                 says which log key to trust. Without --key, with public
                 reads only: the checkpoint, every hash tile (each checked
                 against the signed root) and --earlier, which proves the
                 log never rewrote its history but checks no entry (entry
                 tiles name people: they are restricted reads). With --key
                 (a policy reader's private JWK: auditor or supervisor),
                 every entry as well, as a local audit does.

--earlier FILE (repeatable) gives checkpoints you saved before: each must be
a prefix of today's tree, which proves the log did not rewrite its history.
--save FILE writes today's verified checkpoint for the next audit.

Progress goes to stderr. Exit codes: 0 if everything agrees, 1 naming the
first entry (and, for a tile, its path) where something does not, 2 for bad
usage.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usagef("audit takes no arguments")
			}
			if dir != "" && server != "" {
				return usagef("give --dir or --server, not both")
			}
			var prev [][]byte
			for _, f := range earlier {
				b, err := readFileLimited(f, 64<<10)
				if err != nil {
					return usageError(err)
				}
				prev = append(prev, b)
			}
			ctx := cmd.Context()
			progress := newProgress(cmd.ErrOrStderr(), quiet)
			opts := ledger.AuditOptions{Progress: progress.update}
			var sum *ledger.AuditSummary
			var err error
			if server != "" {
				if policyPath == "" {
					policyPath = defaultPolicy
				}
				policy, perr := readPolicy(policyPath)
				if perr != nil {
					return perr
				}
				var key *pledge.PrivateKey
				if keyFile != "" {
					if key, err = pledge.ReadPrivateKeyFile(keyFile); err != nil {
						return usageError(err)
					}
				}
				c, cerr := newClient(server, key, policy.Origin)
				if cerr != nil {
					return cerr
				}
				if key == nil {
					progress.unit = "hash tiles"
					sum, err = ledger.AuditHashTiles(ctx, tileClient{c}, policy, prev, opts)
				} else {
					sum, err = ledger.AuditTiles(ctx, tileClient{c}, policy, prev, opts)
				}
			} else {
				if dir == "" {
					dir = defaultDir
				}
				d := dataDir(dir)
				if policyPath == "" {
					policyPath = d.policy()
				}
				policy, perr := readPolicy(policyPath)
				if perr != nil {
					return perr
				}
				if len(prev) > 0 {
					return usagef("--earlier is for --server audits: a local audit checks every checkpoint the log stored")
				}
				if keyFile != "" {
					return usagef("--key signs the reads of a --server audit; a local audit (--dir) reads without one")
				}
				sum, err = ledger.Audit(ctx, d.db(), policy, opts)
			}
			progress.done()
			if err != nil {
				var ae *ledger.AuditError
				if errors.As(err, &ae) {
					return failf("audit failed: %w", err)
				}
				if errors.Is(err, ledger.ErrLocked) {
					return failf("%w", err)
				}
				return failure(err)
			}
			if save != "" {
				if err := os.WriteFile(save, sum.Checkpoint, 0o644); err != nil {
					return failure(err)
				}
			}
			out := cmd.OutOrStdout()
			if sum.Types == nil {
				if asJSON {
					return printJSON(out, map[string]any{"ok": true, "size": sum.Size, "root": b64(sum.Root), "checkpoints": sum.Checkpoints, "entries_checked": false})
				}
				fmt.Fprintf(out, "audit passed (public reads): %d entries, root %s, every hash tile agrees, %d checkpoint(s) consistent; entries not checked (give --key, a policy reader's, to check them)\n", sum.Size, b64(sum.Root), sum.Checkpoints)
				return nil
			}
			if asJSON {
				return printJSON(out, map[string]any{"ok": true, "size": sum.Size, "root": b64(sum.Root), "checkpoints": sum.Checkpoints, "entries": sum.Types})
			}
			fmt.Fprintf(out, "audit passed: %d entries (%s), root %s, %d checkpoint(s) agree\n", sum.Size, typeCounts(sum.Types), b64(sum.Root), sum.Checkpoints)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "data directory of a local log (default ./pakta-data)")
	cmd.Flags().StringVar(&server, "server", "", "URL of a pakta server to audit through its tiles")
	cmd.Flags().StringVar(&policyPath, "policy", "", "trust policy (default: the data directory's, or ./pakta-data/policy.json)")
	cmd.Flags().StringArrayVar(&earlier, "earlier", nil, "a checkpoint saved by an earlier audit (repeatable)")
	cmd.Flags().StringVar(&keyFile, "key", "", "a policy reader's private JWK `file` (auditor, supervisor): also check every entry of a --server")
	cmd.Flags().StringVar(&save, "save", "", "write today's verified checkpoint to this file")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress on stderr")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func typeCounts(m map[string]int) string {
	var parts []string
	for _, t := range []string{"enrollment", "pledge", "revocation", "template"} {
		if m[t] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[t], t))
		}
	}
	if len(parts) == 0 {
		return "empty"
	}
	return strings.Join(parts, ", ")
}

// tileClient reads a served log's C2SP checkpoint and tiles.
type tileClient struct{ c *client }

func (t tileClient) Checkpoint(ctx context.Context) ([]byte, error) {
	b, err := t.c.c.Checkpoint(ctx)
	return b, wrap(err)
}

func (t tileClient) HashTile(ctx context.Context, level uint8, index uint64, width int) ([]byte, error) {
	b, err := t.c.c.HashTile(ctx, level, index, width)
	return b, wrap(err)
}

func (t tileClient) EntryBundle(ctx context.Context, index uint64, width int) ([]byte, error) {
	b, err := t.c.c.EntryBundle(ctx, index, width)
	return b, wrap(err)
}

// progress shows an audit's progress on stderr: one line rewritten in
// place on a terminal, a line every few seconds otherwise.
type progress struct {
	w        io.Writer
	tty      bool
	off      bool
	start    time.Time
	last     time.Time
	lastDone uint64
	total    uint64
	unit     string // what is counted: "entries" unless set
}

func newProgress(w io.Writer, quiet bool) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{w: w, tty: tty, off: quiet, start: time.Now()}
}

func (p *progress) update(done, total uint64) {
	if p.off {
		return
	}
	p.lastDone, p.total = done, total
	now := time.Now()
	every := 3 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if now.Sub(p.last) < every && done != total {
		return
	}
	p.last = now
	p.print()
}

func (p *progress) print() {
	pct := 100.0
	if p.total > 0 {
		pct = 100 * float64(p.lastDone) / float64(p.total)
	}
	el := time.Since(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(p.lastDone) / el
	}
	const width = 30
	bar := strings.Repeat("#", int(pct/100*width)) + strings.Repeat(".", width-int(pct/100*width))
	unit := p.unit
	if unit == "" {
		unit = "entries"
	}
	line := fmt.Sprintf("audit [%s] %5.1f%% %d/%d %s, %.0f/s", bar, pct, p.lastDone, p.total, unit, rate)
	if p.tty {
		fmt.Fprintf(p.w, "\r%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) done() {
	if !p.off && p.tty {
		fmt.Fprintln(p.w)
	}
}
