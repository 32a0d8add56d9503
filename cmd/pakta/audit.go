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
)

func newAuditCmd() *cobra.Command {
	var (
		dir, server, policyPath string
		earlier                 []string
		save                    string
		quiet, asJSON           bool
	)
	cmd := &cobra.Command{
		Use:   "audit (--dir D | --server URL) [--policy P] [--earlier CHECKPOINT]… [--save CHECKPOINT]",
		Short: "Recompute a whole log and compare it with everything it has published",
		Long: `Audit recomputes everything in a log from its entries alone: every entry's
form and signatures, every acceptance rule in log order, logged_at never
decreasing, every hash tile, and every checkpoint.

  --dir D        a local log (default ./pakta-data), checked down to every
                 stored hash row, index row and stored checkpoint; a log that
                 a running server holds is refused: audit it with --server
  --server URL   a served log, through its C2SP checkpoint and tiles, as a
                 mirror does; --policy (default ./pakta-data/policy.json)
                 says which log key to trust

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
				c, cerr := newClient(server)
				if cerr != nil {
					return cerr
				}
				sum, err = ledger.AuditTiles(ctx, tileClient{c}, policy, prev, opts)
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
	return t.c.get(ctx, "/checkpoint", nil)
}

func (t tileClient) HashTile(ctx context.Context, level uint8, index uint64, width int) ([]byte, error) {
	return t.c.get(ctx, tilePath(fmt.Sprintf("/tile/%d/", level), index, width), nil)
}

func (t tileClient) EntryBundle(ctx context.Context, index uint64, width int) ([]byte, error) {
	return t.c.get(ctx, tilePath("/tile/entries/", index, width), nil)
}

func tilePath(prefix string, index uint64, width int) string {
	p := prefix + ledger.TilePathIndex(index)
	if width < 256 {
		p += fmt.Sprintf(".p/%d", width)
	}
	return p
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
	line := fmt.Sprintf("audit [%s] %5.1f%% %d/%d entries, %.0f/s", bar, pct, p.lastDone, p.total, rate)
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
