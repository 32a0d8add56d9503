package pebblestore

import (
	"context"
	"fmt"
	"log/slog"
)

// pebbleLogger routes Pebble's log lines to a slog.Logger.
type pebbleLogger struct {
	log *slog.Logger
}

// Infof lines (WAL replay, compactions) are the engine's housekeeping: an
// operator wants them only when debugging.
func (l pebbleLogger) Infof(format string, args ...any) {
	if !l.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	l.log.LogAttrs(context.Background(), slog.LevelDebug, fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.LogAttrs(context.Background(), slog.LevelError, fmt.Sprintf(format, args...))
}

// Fatalf is called by Pebble when it cannot go on safely (e.g. a failed WAL
// write) and must not return. A library does not exit the process: it logs
// and panics.
func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.log.LogAttrs(context.Background(), slog.LevelError, msg, slog.Bool("fatal", true))
	panic("pebblestore: pebble fatal error: " + msg)
}
