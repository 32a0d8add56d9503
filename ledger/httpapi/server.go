package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Timeouts of NewServer and Serve.
const (
	// DefaultReadHeaderTimeout bounds reading a request's headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds reading a whole request, body included.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds a request from the end of its headers to
	// the end of the response: it covers an append's wait for durability.
	DefaultWriteTimeout = 60 * time.Second
	// DefaultIdleTimeout bounds a keep-alive connection between requests.
	DefaultIdleTimeout = 120 * time.Second
	// DefaultShutdownTimeout is how long Serve waits for in-flight
	// requests when its context is done.
	DefaultShutdownTimeout = 30 * time.Second
)

// NewServer returns an http.Server for h on addr with every timeout set (the
// Default constants; adjust the fields before serving if needed) and the
// server's own errors logged to logger at Warn (nil discards them).
func NewServer(addr string, h http.Handler, logger *slog.Logger) *http.Server {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		ReadTimeout:       DefaultReadTimeout,
		WriteTimeout:      DefaultWriteTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// Serve serves srv on ln until ctx is done, then shuts down gracefully: it
// stops accepting connections and waits, up to grace (0 means
// DefaultShutdownTimeout), for in-flight requests to finish. An in-flight
// POST /v1/entries finishes when its entry is durable and checkpointed (or
// refused), so every entry a client was told about (201 or 200) is on disk.
// Requests still running after grace are cut off and Serve returns an error.
// It returns nil after a clean shutdown; close the log after Serve returns.
//
// Request contexts do not derive from ctx: cancelling ctx does not cancel the
// requests being served.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	if grace <= 0 {
		grace = DefaultShutdownTimeout
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("httpapi: serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("httpapi: serving on %s: %w", ln.Addr(), serr)
	}
	if err != nil {
		srv.Close()
		return fmt.Errorf("httpapi: shutting down within %s: %w", grace, err)
	}
	return nil
}
