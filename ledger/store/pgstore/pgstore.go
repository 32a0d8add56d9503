// Package pgstore is the PostgreSQL engine of the ledger's byte store
// (store.Store), for a log run on a database that its operators already
// replicate, back up and fail over. One log is one schema; see package store
// for the contract.
//
// One writer at a time: Open takes a session-level advisory lock, keyed by
// the schema's name, on a connection of its own, and every write goes
// through that connection. A writer whose session ends (its process killed,
// its network cut) loses the lock with it, and its later writes fail;
// Commit also fences by the committed size, in the same transaction, so
// that a batch that does not extend the stored tree is refused with nothing
// written. Reads use a pool of connections.
//
// Durability: a commit returns once PostgreSQL has committed its
// transaction. Every connection sets synchronous_commit to on, so that
// is once the WAL is flushed on the primary (and on synchronous standbys,
// if the database team configured any).
package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pakta-id/pakta/ledger/store"
)

// Defaults for the zero values of Options.
const (
	DefaultSchema   = "pakta"
	DefaultMaxConns = 8
)

// Options configures Open. The zero value is ready to use.
type Options struct {
	// Schema is the PostgreSQL schema that holds the log, created (with its
	// tables) on first open. Empty means DefaultSchema. Each log of a
	// database has its own schema, and its own writer lock.
	Schema string
	// Wait makes Open wait for the writer lock, until ctx is done, instead
	// of failing with store.ErrLocked: how a standby server waits to take
	// over.
	Wait bool
	// ReadOnly opens the log for reading only (an auditor's or a replica's
	// view): no lock is taken, nothing is created or migrated, and Commit,
	// PutCheckpoint and SideUpdate fail.
	ReadOnly bool
	// MaxConns bounds the pool of reading connections; 0 means
	// DefaultMaxConns. The writer's connection comes on top.
	MaxConns int32
	// Logger receives the engine's events (waiting for the lock, taking
	// it). Nil discards them.
	Logger *slog.Logger
}

// Store is a log's byte store in a PostgreSQL schema. Its reads are safe for
// concurrent use, also with the writes, which are serialized.
type Store struct {
	pool     *pgxpool.Pool
	schema   string
	readOnly bool
	closed   atomic.Bool

	// writeMu serializes the writes on writer, the connection that holds
	// the advisory lock (nil when read-only).
	writeMu sync.Mutex
	writer  *pgx.Conn
	// sideMu makes a side update's check of Absent keys and its writes one
	// step (side updates use the pool, beside the writer's commits).
	sideMu sync.Mutex
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.RangeScanner = (*Store)(nil)
)

// lockKey is the advisory lock of the log in schema: a hash of a name of its
// own, so that it does not collide with locks taken by other applications
// by chance.
func lockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("pakta log writer\x00" + schema))
	return int64(h.Sum64())
}

// Open connects to the database at url (a postgres:// URL or a libpq
// keyword/value string), takes the log's writer lock (unless
// opts.ReadOnly), creates or migrates its schema, and checks that the
// stored tree size agrees with the stored entries and checkpoints. A lock
// held by another writer is an error wrapping store.ErrLocked, unless
// opts.Wait.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	schema := opts.Schema
	if schema == "" {
		schema = DefaultSchema
	}
	maxConns := opts.MaxConns
	if maxConns == 0 {
		maxConns = DefaultMaxConns
	}
	if maxConns < 2 {
		// A scan's callback may read too (the ledger's do): with one
		// connection it would wait for itself.
		return nil, fmt.Errorf("pgstore: open: MaxConns %d: at least 2", maxConns)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	pcfg.MaxConns = maxConns
	pcfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	// Durable means flushed: a server default of off would lose
	// acknowledged commits on a crash. (Side updates use the pool.)
	pcfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	s := &Store{schema: schema, readOnly: opts.ReadOnly}
	ok := false
	defer func() {
		if !ok {
			s.closeConns()
		}
	}()
	if !opts.ReadOnly {
		wcfg := pcfg.ConnConfig.Copy()
		wcfg.RuntimeParams["application_name"] = "pakta writer " + schema
		if s.writer, err = pgx.ConnectConfig(ctx, wcfg); err != nil {
			return nil, fmt.Errorf("pgstore: open: %w", err)
		}
		if err := s.lock(ctx, opts.Wait, logger); err != nil {
			return nil, err
		}
		if err := migrate(ctx, s.writer, schema); err != nil {
			return nil, err
		}
	}
	if s.pool, err = pgxpool.NewWithConfig(ctx, pcfg); err != nil {
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	if opts.ReadOnly {
		v, err := schemaVersion(ctx, s.pool)
		if err != nil {
			return nil, fmt.Errorf("pgstore: open schema %s read-only: %w", schema, err)
		}
		if want := SchemaVersion(); v != want {
			return nil, fmt.Errorf("pgstore: open schema %s read-only: schema version %d, this binary reads %d", schema, v, want)
		}
	}
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// lock takes the writer lock on the writer connection: at once, or waiting
// for it.
func (s *Store) lock(ctx context.Context, wait bool, logger *slog.Logger) error {
	key := lockKey(s.schema)
	var got bool
	if err := s.writer.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil {
		return fmt.Errorf("pgstore: open schema %s: taking the writer lock: %w", s.schema, err)
	}
	if got {
		return nil
	}
	if !wait {
		return fmt.Errorf("pgstore: open schema %s: %w (another pakta process writes this log)", s.schema, store.ErrLocked)
	}
	logger.Info("another writer holds the log: waiting for its lock", "schema", s.schema)
	// pg_advisory_lock returns as soon as the holder's session ends: a
	// killed writer's connection is closed by its kernel, so the wait ends
	// within moments of its death (or within the server's TCP keepalive
	// when the writer's machine vanished).
	if _, err := s.writer.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return fmt.Errorf("pgstore: open schema %s: waiting for the writer lock: %w", s.schema, err)
	}
	logger.Info("took the writer lock", "schema", s.schema)
	return nil
}

// load checks the committed size against the stored entries and
// checkpoints, as the Pebble engine does on open.
func (s *Store) load(ctx context.Context) error {
	var (
		size           int64
		last, lastCkpt *int64
	)
	err := s.pool.QueryRow(ctx, `SELECT size, (SELECT max(idx) FROM entries), (SELECT max(size) FROM checkpoints) FROM tree`).Scan(&size, &last, &lastCkpt)
	if err != nil {
		return fmt.Errorf("pgstore: open schema %s: %w", s.schema, err)
	}
	switch {
	case size == 0 && last != nil:
		return fmt.Errorf("pgstore: open schema %s: corrupt: tree size 0 but entry %d stored", s.schema, *last)
	case size > 0 && last == nil:
		return fmt.Errorf("pgstore: open schema %s: corrupt: tree size %d but no entries stored", s.schema, size)
	case size > 0 && *last != size-1:
		return fmt.Errorf("pgstore: open schema %s: corrupt: tree size %d but last entry stored is %d", s.schema, size, *last)
	case lastCkpt != nil && *lastCkpt > size:
		return fmt.Errorf("pgstore: open schema %s: corrupt: checkpoint for size %d above tree size %d", s.schema, *lastCkpt, size)
	}
	return nil
}

// check returns an error if ctx is done or s is closed.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return errors.New("pgstore: store is closed")
	}
	return ctx.Err()
}

// checkWrite is check for a write.
func (s *Store) checkWrite(ctx context.Context, what string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if s.readOnly {
		return fmt.Errorf("pgstore: %s: store opened read-only", what)
	}
	return nil
}

// Close releases the writer lock (by closing its session) and the pool.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return errors.New("pgstore: store is already closed")
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.closeConns()
}

func (s *Store) closeConns() error {
	var err error
	if s.writer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		if cerr := s.writer.Close(ctx); cerr != nil {
			err = fmt.Errorf("pgstore: close: %w", cerr)
		}
	}
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}

// notFound wraps store.ErrNotFound for err = pgx.ErrNoRows, else err.
func notFound(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("pgstore: %s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("pgstore: %s: %w", what, err)
}

// prefixEnd returns the smallest key above every key that starts with
// prefix, or nil if there is none (prefix empty or all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Drop deletes the log in schema, tables and rows, for good: for tests and
// benchmarks that made a schema of their own.
func Drop(ctx context.Context, url, schema string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("pgstore: drop %s: %w", schema, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("pgstore: drop %s: %w", schema, err)
	}
	return nil
}
