package httpapi_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/ledger/httpapi"
)

// How pakta serve wires the API: open the log, serve the handler and its
// metrics until SIGINT or SIGTERM, then close the log once every in-flight
// append has finished.
func Example() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var cfg ledger.Config // Signer and Policy from the log's directory
	l, err := ledger.Open(context.Background(), "pakta-data/log", cfg)
	if err != nil {
		logger.Error("opening the log", "err", err)
		return
	}
	defer l.Close() // after Serve has returned

	h := httpapi.New(l, httpapi.Options{Logger: logger})
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.Handle("GET /metrics", h.MetricsHandler()) // or register h.Collectors() on the binary's registry

	ln, err := net.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		logger.Error("listening", "err", err)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := httpapi.Serve(ctx, httpapi.NewServer(ln.Addr().String(), mux, logger), ln, 0); err != nil {
		logger.Error("serving", "err", err)
	}
}
