package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/cmd/pakta/internal/loadgen"
	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/ledger/store/pgstore"
	"github.com/pakta-id/pakta/pledge"
)

func newBenchCmd() *cobra.Command {
	var (
		dir, server, registrarKey string
		storeURL, storeSchema     string
		cfg                       loadgen.Config
		baseline, asJSON          bool
		cpuProfile                string
		maxDelay                  time.Duration
	)
	cfg.Window = 10 * time.Second
	cmd := &cobra.Command{
		Use:   "bench [--employees N] [--clients C] [--rate R] [--dir D | --server URL] [--json]",
		Short: "Load generator: enroll N employees, append their pre-signed pledges, read bundles back",
		Long: `Bench measures a signing morning. It enrolls N employees (keys made on the
spot), pre-signs one pledge each so that signing is not measured, appends them
with C concurrent clients, then reads bundles and queries pledges by person.

  (default)      in process, on a new temporary log that is deleted after
  --dir D        in process, on the log in D (it grows by 2N entries)
  --store URL    in process, the log in PostgreSQL (a new schema, dropped
                 after, unless --store-schema names one; keys from --dir or
                 a temporary directory)
  --server URL   over HTTP to a running pakta serve; --registrar-key (default
                 ./pakta-data/registrar.jwk) must be a registrar its policy trusts

--rate R offers R pledges/s open loop: each submission starts at its due
time in a goroutine of its own, however many are still waiting, and its
latency counts from that due time, so a server that falls behind shows it
in full (503s it sheds are counted by kind). Without --rate, --clients go as
fast as the log answers (closed loop).

--duration D (with --rate) soaks: R×D pledges over D (the employees pledge
again for new elections, each signed just ahead of its due time), printing
p50/p99/max for every --window (default 10s) of due times. --baseline (with --server) also runs the same load
against a no-op HTTP server in this process, for the ratio: on a 2-core
machine the generator itself takes much of the CPU.

Figures: appends/s, latency p50/p90/p99/max in ms, errors by kind, bundle
reads/s, queries/s, and (in process) the peak RSS. Exit codes: 0 when the run
completed, even with refused appends (they are counted); 1 if it could not run;
2 for bad usage.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usagef("bench takes no arguments")
			}
			if dir != "" && server != "" || storeURL != "" && server != "" {
				return usagef("give --dir (or --store) or --server, not both")
			}
			if cfg.Duration < 0 || cfg.Rate < 0 || cfg.Window <= 0 {
				return usagef("--rate and --duration must be at least 0, --window above 0")
			}
			if maxDelay != 0 && server != "" {
				return usagef("--max-delay applies in process; a server has its own (pakta serve --max-delay)")
			}
			if maxDelay < 0 {
				return usagef("--max-delay %s: must be at least 0", maxDelay)
			}
			if cfg.Duration > 0 && cfg.Rate == 0 {
				return usagef("--duration needs --rate: a soak offers a fixed rate")
			}
			ctx := cmd.Context()
			cfg.Progress = cmd.ErrOrStderr()
			var target loadgen.Target
			switch {
			case server != "":
				if registrarKey == "" {
					registrarKey = dataDir(defaultDir).registrar()
				}
				k, err := pledge.ReadPrivateKeyFile(registrarKey)
				if err != nil {
					return usageError(err)
				}
				cfg.Registrar = k
				if _, err := newClient(server, nil, ""); err != nil {
					return err
				}
				// The registrar's key signs the reads too: bundles and
				// pledges are restricted reads.
				if target, err = loadgen.NewHTTP(server, max(cfg.Clients, 32), k, ""); err != nil {
					return usageError(err)
				}
				cfg.Kind = loadgen.HTTPKind
			default:
				d := dataDir(dir)
				if dir == "" {
					tmp, err := os.MkdirTemp("", "pakta-bench-")
					if err != nil {
						return failure(err)
					}
					defer os.RemoveAll(tmp)
					d = dataDir(tmp + "/log")
					if _, err := initDataDir(ctx, d, "pakta.bench/log"); err != nil {
						return err
					}
				}
				k, err := pledge.ReadPrivateKeyFile(d.registrar())
				if err != nil {
					return usageError(err)
				}
				cfg.Registrar = k
				var l *ledger.Log
				if storeURL != "" {
					if storeSchema == "" {
						storeSchema = fmt.Sprintf("pakta_bench_%d", time.Now().UnixNano())
						defer pgstore.Drop(context.WithoutCancel(ctx), storeURL, storeSchema)
					}
					l, err = openPostgres(ctx, d, storeURL, storeSchema, ledger.Config{MaxDelay: maxDelay}, slog.New(slog.DiscardHandler))
				} else {
					l, err = d.openLogConfig(ctx, ledger.Config{MaxDelay: maxDelay})
				}
				if err != nil {
					return err
				}
				defer l.Close()
				target = loadgen.Local{Log: l}
				cfg.Kind = loadgen.LocalKind
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return failure(err)
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return failure(err)
				}
				defer pprof.StopCPUProfile()
			}
			res, err := loadgen.Run(ctx, target, cfg)
			if err != nil {
				return failure(err)
			}
			out := map[string]any{"result": res, "gomaxprocs": runtime.GOMAXPROCS(0)}
			if server == "" {
				out["peak_rss_mib"] = peakRSS()
			}
			if baseline && server != "" {
				noop, err := runNoopBaseline(ctx, cfg)
				if err != nil {
					return failure(err)
				}
				out["noop_baseline"] = noop
				if noop.Append.PerSecond > 0 {
					out["append_vs_noop"] = res.Append.PerSecond / noop.Append.PerSecond
				}
				if noop.Reads.PerSecond > 0 {
					out["reads_vs_noop"] = res.Reads.PerSecond / noop.Reads.PerSecond
				}
				if noop.Queries.PerSecond > 0 {
					out["queries_vs_noop"] = res.Queries.PerSecond / noop.Queries.PerSecond
				}
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "employees %d, clients %d\n", res.Employees, res.Clients)
			printPhase(w, "enroll", res.Enroll)
			printPhase(w, "append", res.Append)
			if len(res.Windows) > 0 {
				fmt.Fprintf(w, "soak at %.0f/s, per %s window of due times:\n", cfg.Rate, cfg.Window)
				for _, win := range res.Windows {
					fmt.Fprintf(w, "  %6.0fs  %7d due  p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms", win.Start, win.Count, win.P50, win.P99, win.Max)
					if len(win.Errors) > 0 {
						fmt.Fprintf(w, "  errors %v", win.Errors)
					}
					fmt.Fprintln(w)
				}
			}
			printPhase(w, "bundle reads", res.Reads)
			printPhase(w, "pledge queries", res.Queries)
			if res.LogReads != nil {
				printPhase(w, "log reads", *res.LogReads)
			}
			if v, ok := out["peak_rss_mib"]; ok {
				fmt.Fprintf(w, "peak RSS %.0f MiB\n", v)
			}
			if v, ok := out["append_vs_noop"]; ok {
				fmt.Fprintf(w, "append rate / no-op server rate: %.2f\n", v)
			}
			if v, ok := out["reads_vs_noop"]; ok {
				fmt.Fprintf(w, "bundle read rate / no-op server rate: %.2f\n", v)
			}
			if v, ok := out["queries_vs_noop"]; ok {
				fmt.Fprintf(w, "pledge query rate / no-op server rate: %.2f\n", v)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Employees, "employees", 1000, "employees to enroll, one pledge each")
	f.IntVar(&cfg.First, "first", 0, "number of the first employee (to grow a log with --dir over several runs)")
	f.IntVar(&cfg.Clients, "clients", 32, "concurrent clients")
	f.Float64Var(&cfg.Rate, "rate", 0, "offered pledges/s, open loop (0: --clients as fast as the log answers)")
	f.DurationVar(&cfg.Duration, "duration", 0, "with --rate: soak for this long, p99 per --window")
	f.DurationVar(&cfg.Window, "window", cfg.Window, "width of a soak's measurement windows")
	f.IntVar(&cfg.Reads, "reads", 0, "bundle reads and queries (default: one per employee)")
	f.IntVar(&cfg.LogReads, "log-reads", 0, "then read this many bundles at random indexes over the whole log (cold reads)")
	f.StringVar(&dir, "dir", "", "benchmark the log in this data directory (default: a temporary one)")
	f.StringVar(&storeURL, "store", "", "benchmark in process with the log in this PostgreSQL database (a postgres:// `URL`)")
	f.StringVar(&storeSchema, "store-schema", "", "with --store: the schema (default: a new one, dropped after)")
	f.StringVar(&server, "server", "", "benchmark a running server at this URL")
	f.StringVar(&registrarKey, "registrar-key", "", "registrar key for --server (default ./pakta-data/registrar.jwk)")
	f.BoolVar(&baseline, "baseline", false, "with --server: also measure a no-op HTTP server, for the ratio")
	f.BoolVar(&asJSON, "json", false, "print the figures as JSON")
	f.DurationVar(&maxDelay, "max-delay", 0, "in process: serve's --max-delay for the log under test (default: no wait)")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (the generator included, in process) to this `file`")
	return cmd
}

func printPhase(w io.Writer, name string, p loadgen.Phase) {
	fmt.Fprintf(w, "%-15s %8.0f/s  p50 %6.1f ms  p90 %6.1f ms  p99 %6.1f ms  max %7.1f ms  (%d in %.1fs)", name, p.PerSecond, p.P50, p.P90, p.P99, p.Max, p.Count, p.Seconds)
	if len(p.Errors) > 0 {
		fmt.Fprintf(w, "  errors %v", p.Errors)
	}
	fmt.Fprintln(w)
}

func peakRSS() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}

// runNoopBaseline runs the same load against an HTTP server that does
// nothing but answer with a bundle-sized body: what the generator and the
// HTTP stack cost on this machine.
func runNoopBaseline(ctx context.Context, cfg loadgen.Config) (*loadgen.Result, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	// About the size of a real bundle (6 KB).
	body := []byte(`{"v":1,"entry":"` + strings.Repeat("A", 6000) + `","proof":"c2sp.org/tlog-proof@v1\nindex 1\n","key":{}}`)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/pledges" {
			w.Write([]byte(`{"bundles":[` + string(body) + `]}`))
			return
		}
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
		}
		w.Write(body)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	cfg.Progress = nil
	cfg.LogReads = 0 // it has no log
	cfg.Kind = loadgen.HTTPKind
	// Reads are signed as they are for a real server, so that the ratio
	// counts the client's signing too.
	target, err := loadgen.NewHTTP("http://"+ln.Addr().String(), cfg.Clients, cfg.Registrar, "noop.invalid/pakta")
	if err != nil {
		return nil, err
	}
	return loadgen.Run(ctx, target, cfg)
}
