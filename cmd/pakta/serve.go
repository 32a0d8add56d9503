package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // only served on --pprof's own listener
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/ledger/httpapi"
)

func newServeCmd() *cobra.Command {
	var (
		dir, listen, logFormat, logLevel, pprofAddr string
		memLimit, cacheMiB                          int64
		cfg                                         ledger.Config
	)
	cmd := &cobra.Command{
		Use:   "serve [--dir D] [--listen ADDR]",
		Short: "Serve the log over HTTP: submissions, bundles, tiles, checkpoints, verification",
		Long: `Serve runs the HTTP API on the log in --dir (default ./pakta-data), listening
on --listen (default 127.0.0.1:8080). With no log there yet, it first runs
"pakta init" with a default origin and says so.

Endpoints: GET /checkpoint, GET /tile/... (C2SP tlog-tiles), POST /v1/entries,
GET /v1/entries/{index}, GET /v1/pledges, GET /v1/proof/consistency,
POST /v1/verify, GET /healthz, GET /metrics (Prometheus), and enrollment
requests: POST /v1/enrollment-requests, GET /v1/enrollment-requests/{code}
(the status, public), GET /v1/enrollment-requests[/{code}?full=1] (a
registrar's read, signed: see "pakta enroll pending" and "approve").

On SIGINT or SIGTERM it stops accepting connections, finishes every
in-flight append (each is durable before it is answered), closes the log and
exits 0. Logs go to stderr (--log-format text or json).`,
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
			ctx := cmd.Context()
			d := dataDir(dir)
			if !exists(d.logKey()) && !exists(d.db()) {
				origin := defaultOrigin()
				if _, err := initDataDir(ctx, d, origin); err != nil {
					return err
				}
				logger.Info("no log here yet: created one (pakta init)", "dir", dir, "origin", origin, "policy", d.policy(), "registrar_key", d.registrar())
			}
			if cacheMiB < 0 {
				return usagef("--cache-size %d: must be at least 0", cacheMiB)
			}
			cfg.CacheSize = cacheMiB << 20
			cfg.Logger = logger
			l, err := ledger.OpenDir(ctx, dir, cfg)
			if err != nil {
				return dirFailure(d, err)
			}
			defer l.Close()
			h := httpapi.New(l, httpapi.Options{Logger: logger})
			mux := http.NewServeMux()
			mux.Handle("/", h)
			mux.Handle("GET /metrics", h.MetricsHandler())
			if pprofAddr != "" {
				// Profiles on their own listener, never on the public one.
				pl, err := net.Listen("tcp", pprofAddr)
				if err != nil {
					return failure(fmt.Errorf("listening on %s for profiles: %w", pprofAddr, err))
				}
				go http.Serve(pl, http.DefaultServeMux)
				logger.Info("profiles (net/http/pprof)", "addr", "http://"+pl.Addr().String()+"/debug/pprof/")
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return failure(fmt.Errorf("listening on %s: %w", listen, err))
			}
			_, size := l.Checkpoint()
			logger.Info("serving", "addr", "http://"+ln.Addr().String(), "origin", l.Origin(), "size", size, "dir", dir, "malloc_tuned", mallocTuned())
			sctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := httpapi.Serve(sctx, httpapi.NewServer(ln.Addr().String(), mux, logger), ln, 0); err != nil {
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
	f.DurationVar(&cfg.MaxDelay, "max-delay", 0, "how long a batch waits to fill (default 2ms)")
	f.IntVar(&cfg.MaxPending, "max-pending", 0, "submissions waiting before 503 (default 16384)")
	f.Int64Var(&memLimit, "memory-limit", 160, "soft limit of the Go heap in MiB (0: none; GOMEMLIMIT overrides); Pebble's caches come on top")
	f.Int64Var(&cacheMiB, "cache-size", 0, "storage block cache in MiB, on top of the memory limit (0: the default, 64); more makes cold reads faster")
	f.StringVar(&pprofAddr, "pprof", "", "serve Go profiles (net/http/pprof) on this separate `address`, e.g. 127.0.0.1:6060")
	return cmd
}
