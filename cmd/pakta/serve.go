package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // only served on --pprof's own listener
	neturl "net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/ledger/httpapi"
	"github.com/pakta-id/pakta/ledger/httpapi/verifypage"
	"github.com/pakta-id/pakta/ledger/httpapi/web"
	"github.com/pakta-id/pakta/ledger/store/pgstore"
	"github.com/pakta-id/pakta/verify"
)

func newServeCmd() *cobra.Command {
	var (
		dir, listen, logFormat, logLevel, pprofAddr string
		storeURL, storeSchema                       string
		memLimit, cacheMiB                          int64
		cfg                                         ledger.Config
		apiOpts                                     httpapi.Options
		bodyBudgetMiB                               int64
		maxConns                                    int
		diskReserveMiB                              int64
		agencyFlags                                 []string
		publicURL                                   string
	)
	cmd := &cobra.Command{
		Use:   "serve [--dir D] [--listen ADDR]",
		Short: "Serve the log over HTTP: submissions, bundles, tiles, checkpoints, verification",
		Long: `Serve runs the HTTP API on the log in --dir (default ./pakta-data), listening
on --listen (default 127.0.0.1:8080). With no log there yet, it first runs
"pakta init" with a default origin and says so.

The signing page is at / (see "The signing page" in the README): employees
enroll a key made on their own phone, sign and keep their receipt. Name the
agencies it offers with --agency CODE=NAME; templates name codes only.

With D/` + rosterFile + ` (see "pakta roster import"), an enrollment request must name
someone on the roster, in the roster's form: another form of the same name
(case, spacing, titles) is answered 409 with the roster's form, which the
page signs again; anyone else 403. The roster is read once, at start.

Endpoints: GET /checkpoint, GET /tile/... (C2SP tlog-tiles), POST /v1/entries,
GET /v1/entries/{index}, GET /v1/pledges, GET /v1/people/{scheme}/{id}/history,
GET /v1/me, GET /v1/proof/consistency, POST /v1/verify, GET /healthz,
GET /metrics (Prometheus), GET /v1/templates, GET /policy.json (the trust
policy file, public), GET /verify (a page that verifies a bundle in the
browser; ?bundle=/v1/entries/N checks that entry's), and enrollment requests: POST
/v1/enrollment-requests, GET /v1/enrollment-requests/{code} (the status,
public), GET /v1/enrollment-requests[/{code}?full=1] (a registrar's read).

Private reads (README, "The trust model"): everything that returns an entry
or names a person (entry tiles, bundles, pledges, histories, /v1/me, the
enrollment requests) needs a signed request (Authorization: PaktaSig), from
the person's own enrolled key, a registrar of their agency or a policy
reader (entry tiles: policy readers only); each such read is recorded and
the person's history shows it. Checkpoints, hash tiles, consistency proofs,
verification and submissions are public. --public-entries serves every read
to anyone, unrecorded: for demos, never for real people's data.

Limits (README, "Operating limits"): at most --max-conns connections (the
longest idle one is closed to make room; with none idle a new one gets 503),
--body-budget MiB of request bodies in memory and --max-in-flight
submissions and verifications at once (503 + Retry-After past either),
--body-timeout to send a body (408), and appends refused with 507 while the
log's disk has less than --disk-reserve MiB free (reads go on; /healthz
says so). On a full or read-only disk serve exits 1 at once.

Storage: the log is kept in --dir/db (Pebble, embedded) unless --store
names a PostgreSQL database (postgres://user@host/db?sslmode=...), where it
lives in the schema --store-schema (default pakta), created on first use;
keys and the policy stay files in --dir ("pakta init" first; a standby
needs a copy of that directory). One server writes a log at a time: a
second one on the same database waits for the first's lock, then takes
over where it stopped.

On SIGINT or SIGTERM it stops accepting connections, finishes every
in-flight append (each is durable before it is answered), closes the log and
exits 0; a signal while the log is still opening exits 1 at once. Logs go to
stderr (--log-format text or json).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usagef("serve takes no arguments")
			}
			var handler slog.Handler
			level := new(slog.LevelVar)
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return usagef("--log-level %q: use debug, info, warn or error", logLevel)
			}
			hopts := &slog.HandlerOptions{Level: level}
			switch logFormat {
			case "text":
				handler = slog.NewTextHandler(cmd.ErrOrStderr(), hopts)
			case "json":
				handler = slog.NewJSONHandler(cmd.ErrOrStderr(), hopts)
			default:
				return usagef("--log-format %q: use text or json", logFormat)
			}
			logger := slog.New(handler)
			// A soft limit for the Go heap: the collector works harder near it
			// instead of letting garbage double the heap. GOMEMLIMIT, when set,
			// wins.
			if _, set := os.LookupEnv("GOMEMLIMIT"); !set && memLimit > 0 {
				debug.SetMemoryLimit(memLimit << 20)
			}
			if bodyBudgetMiB < 0 || maxConns < 0 || apiOpts.MaxInFlight < 0 || apiOpts.BodyTimeout < 0 {
				return usagef("--body-budget, --max-conns, --max-in-flight and --body-timeout must be at least 0")
			}
			if cacheMiB < 0 {
				return usagef("--cache-size %d: must be at least 0", cacheMiB)
			}
			cfg.Pebble.CacheSize = cacheMiB << 20
			switch {
			case diskReserveMiB < 0:
				cfg.DiskReserve = -1 // checks off
			default:
				cfg.DiskReserve = diskReserveMiB << 20
			}
			// ctx is done on SIGINT or SIGTERM (see run). Opening runs
			// beside it, so that an open that does not return (a stalled
			// disk, a long WAL replay) cannot keep a signal from ending the
			// process: a stop is a crash to the log, which recovers.
			d := dataDir(dir)
			people, err := loadServeRoster(d, &cfg)
			if err != nil {
				return err
			}
			agencies, err := parseAgencies(agencyFlags)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			l, err := untilDone(ctx, func() (*ledger.Log, error) {
				if storeURL != "" {
					return openPostgres(ctx, d, storeURL, storeSchema, cfg, logger)
				}
				return openForServe(ctx, d, cfg, logger)
			})
			if err != nil {
				return err
			}
			defer l.Close()
			if d := l.Disk(); d.Err != nil {
				logger.Warn("cannot measure free disk space: appends are never refused for it", "err", d.Err)
			}
			if people > 0 {
				logger.Info("enrollment requests must name someone on the roster, in its form", "roster", d.roster(), "people", people)
			}
			apiOpts.Logger, apiOpts.BodyBudget = logger, bodyBudgetMiB<<20
			// The policy file's own bytes, read just after the log opened
			// with them: readers compare them with their copy.
			if apiOpts.PolicyJSON, err = readFileLimited(dataDir(dir).policy(), verify.MaxPolicySize); err != nil {
				return failure(err)
			}
			h := httpapi.New(l, apiOpts)
			page, err := web.New(h, web.Options{Agencies: agencies, BaseURL: publicURL})
			if err != nil {
				return err
			}
			srv := httpapi.NewServer(listen, nil, logger)
			if pprofAddr != "" {
				// Profiles on their own listener, never on the public one.
				pl, err := net.Listen("tcp", pprofAddr)
				if err != nil {
					return failure(fmt.Errorf("listening on %s for profiles: %w", pprofAddr, err))
				}
				go http.Serve(pl, http.DefaultServeMux)
				logger.Info("profiles (net/http/pprof)", "addr", "http://"+pl.Addr().String()+"/debug/pprof/")
			}
			tcp, err := net.Listen("tcp", listen)
			if err != nil {
				return failure(fmt.Errorf("listening on %s: %w", listen, err))
			}
			ln := httpapi.LimitConnections(srv, tcp, maxConns)
			reg := prometheus.NewRegistry()
			reg.MustRegister(h.Collectors()...)
			reg.MustRegister(ln.Collectors()...)
			mux := http.NewServeMux()
			mux.Handle("/", page)
			verifyPage := verifypage.Handler(verifypage.Options{})
			mux.Handle("GET /verify", verifyPage)
			mux.Handle("GET /verify/", verifyPage)
			mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
			srv.Handler, srv.Addr = mux, ln.Addr().String()
			go trimEvery(ctx, trimInterval)
			_, size := l.Checkpoint()
			if apiOpts.PublicEntries {
				logger.Warn("--public-entries: entries, names, NIPs and histories are readable by anyone, unrecorded (a demo, never for real people's data)")
			}
			logger.Info("serving", "addr", "http://"+ln.Addr().String(), "origin", l.Origin(), "size", size, "dir", dir, "store", storeName(storeURL), "malloc_tuned", mallocTuned())
			logger.Info("the signing page", "url", "http://"+ln.Addr().String()+"/")
			sctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := httpapi.Serve(sctx, srv, ln, 0); err != nil {
				return failure(err)
			}
			if err := l.Close(); err != nil {
				return failure(err)
			}
			_, size = l.Checkpoint()
			logger.Info("stopped; every acknowledged entry is durable", "size", size)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", defaultDir, "data `directory` of the log (created on first run)")
	f.StringVar(&listen, "listen", "127.0.0.1:8080", "`address` to listen on")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.IntVar(&cfg.MaxBatch, "max-batch", 0, "most entries per commit (default 1024)")
	f.DurationVar(&cfg.MaxDelay, "max-delay", 0, "how long a batch waits for more submissions when none is being written (default: no wait; 1ms suits dozens of concurrent clients or more, see BENCHMARKS.md)")
	f.IntVar(&cfg.MaxPending, "max-pending", 0, "submissions waiting before 503 (default 16384)")
	f.Int64Var(&memLimit, "memory-limit", 160, "soft limit of the Go heap in MiB (0: none; GOMEMLIMIT overrides); Pebble's caches come on top")
	f.Int64Var(&cacheMiB, "cache-size", 0, "storage block cache in MiB, on top of the memory limit (0: the default, 64); more makes cold reads faster")
	f.IntVar(&maxConns, "max-conns", 0, "most open connections; at the cap the longest idle one is closed, or the new one gets 503 (default 1024)")
	f.Int64Var(&bodyBudgetMiB, "body-budget", 0, "MiB of request bodies held in memory at once, across all requests; over it 503 (default 64)")
	f.BoolVar(&apiOpts.PublicEntries, "public-entries", false, "serve entries and people's records to anyone, unsigned and unrecorded (demos only)")
	f.IntVar(&apiOpts.MaxInFlight, "max-in-flight", 0, "most submissions and verifications served at once; over it 503 (default 1024)")
	f.DurationVar(&apiOpts.BodyTimeout, "body-timeout", 0, "longest time to read one request body; slower clients get 408 (default 20s)")
	f.Int64Var(&diskReserveMiB, "disk-reserve", 0, "MiB of free disk space below which appends get 507 (reads go on); -1 turns the check off (default 256)")
	f.StringArrayVar(&agencyFlags, "agency", nil, "name an agency for the signing page, `CODE=NAME` (\"7601=Pemerintah Kabupaten Mamuju\"); repeatable")
	f.StringVar(&publicURL, "public-url", "", "the server's public `URL`, for the receipt's QR code (default: the address each request came to)")
	f.StringVar(&storeURL, "store", "", "keep the log in this PostgreSQL database (a postgres:// `URL`) instead of --dir/db (Pebble)")
	f.StringVar(&storeSchema, "store-schema", pgstore.DefaultSchema, "the PostgreSQL `schema` of the log, with --store")
	f.StringVar(&pprofAddr, "pprof", "", "serve Go profiles (net/http/pprof) on this separate `address`, e.g. 127.0.0.1:6060")
	return cmd
}

// openForServe opens the log in d for serve, creating it first if there is
// none.
func openForServe(ctx context.Context, d dataDir, cfg ledger.Config, logger *slog.Logger) (*ledger.Log, error) {
	if !exists(d.logKey()) && !exists(d.db()) {
		origin := defaultOrigin()
		if _, err := initDataDir(ctx, d, origin); err != nil {
			return nil, err
		}
		logger.Info("no log here yet: created one (pakta init)", "dir", string(d), "origin", origin, "policy", d.policy(), "registrar_key", d.registrar())
	}
	cfg.Logger = logger
	l, err := ledger.OpenDir(ctx, string(d), cfg)
	if err != nil {
		return nil, dirFailure(d, err)
	}
	return l, nil
}

// openPostgres opens the log kept in a PostgreSQL database, with the keys
// and policy of the data directory d, waiting for the writer lock if another
// server holds it.
func openPostgres(ctx context.Context, d dataDir, url, schema string, cfg ledger.Config, logger *slog.Logger) (*ledger.Log, error) {
	if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") {
		return nil, usagef("--store %q: only PostgreSQL (postgres://...) is supported; without --store the log is in --dir", redactURL(url))
	}
	cfg.Logger = logger
	cfg, err := ledger.DirConfig(string(d), cfg)
	if err != nil {
		return nil, dirFailure(d, err)
	}
	st, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema, Wait: true, Logger: logger})
	if err != nil {
		return nil, failure(fmt.Errorf("opening the log in %s: %w", redactURL(url), err))
	}
	l, err := ledger.New(ctx, st, cfg)
	if err != nil {
		return nil, failure(err)
	}
	return l, nil
}

// storeName names the engine for the log line.
func storeName(url string) string {
	if url == "" {
		return "pebble"
	}
	return redactURL(url)
}

// redactURL hides a password in a database URL, for messages.
func redactURL(s string) string {
	u, err := neturl.Parse(s)
	if err != nil {
		return "(an unparsable URL)"
	}
	return u.Redacted()
}

// untilDone returns f's result, or an error as soon as ctx is done (a
// signal) while f still runs; f is then left to the process's exit.
func untilDone[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, failf("stopped by a signal while opening the log, before serving: %w", context.Cause(ctx))
	}
}

// loadServeRoster reads D/roster.csv, when there is one, into cfg's
// enrollment check, and returns how many people it lists (0: no roster,
// every subject a registrar acts for may ask).
func loadServeRoster(d dataDir, cfg *ledger.Config) (int, error) {
	if !exists(d.roster()) {
		return 0, nil
	}
	r, err := readRoster(d.roster())
	if err != nil {
		return 0, err
	}
	cfg.Requests.CheckSubject = ledger.CheckRoster(r)
	return r.Len(), nil
}

// parseAgencies reads --agency CODE=NAME flags.
func parseAgencies(flags []string) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range flags {
		code, name, ok := strings.Cut(f, "=")
		code, name = strings.TrimSpace(code), strings.Join(strings.Fields(name), " ")
		if !ok || code == "" || name == "" {
			return nil, usagef("--agency %q: give CODE=NAME, such as 7601=Pemerintah Kabupaten Mamuju", f)
		}
		if prev, dup := out[code]; dup && prev != name {
			return nil, usagef("--agency %s is given twice, as %q and %q", code, prev, name)
		}
		out[code] = name
	}
	return out, nil
}

// trimInterval is how often serve returns the C heap's free pages: often
// enough that blocks evicted from Pebble's cache do not stay resident
// through a burst, rarely enough that the walk of the heap, under the
// allocator's lock, is seldom in Pebble's way. (The walk was not timed on
// its own; the 10 M-entry load's rates with it are in BENCHMARKS.md,
// session 8.)
const trimInterval = 5 * time.Second

// trimEvery calls trimMalloc every interval until ctx is done, or at once
// returns where there is nothing to trim.
func trimEvery(ctx context.Context, interval time.Duration) {
	if !trimMalloc() {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			trimMalloc()
		}
	}
}
