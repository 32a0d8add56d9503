package pgstore

import (
	"context"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

	"github.com/pakta-id/pakta/ledger/store"
)

// signed returns n as a bigint, or false if it is above the largest one (a
// tree never gets that large: nothing is stored there).
func signed(n uint64) (int64, bool) {
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

// tileIndex is a tile's index as a bigint, bit for bit: tiles are only
// looked up, never ranged over, so the order of the high half does not
// matter, and any index the contract allows is stored.
func tileIndex(index uint64) int64 { return int64(index) }

// State returns the committed tree size and the state stored with it, one
// row read at once.
func (s *Store) State(ctx context.Context) (uint64, []byte, error) {
	if err := s.check(ctx); err != nil {
		return 0, nil, err
	}
	var (
		size  int64
		state []byte
	)
	if err := s.pool.QueryRow(ctx, "SELECT size, state FROM tree").Scan(&size, &state); err != nil {
		return 0, nil, fmt.Errorf("pgstore: read tree state: %w", err)
	}
	if len(state) == 0 {
		state = nil
	}
	return uint64(size), state, nil
}

// Entry returns the entry at index.
func (s *Store) Entry(ctx context.Context, index uint64) ([]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	i, ok := signed(index)
	if !ok {
		return nil, fmt.Errorf("pgstore: entry %d: %w", index, store.ErrNotFound)
	}
	var v []byte
	if err := s.pool.QueryRow(ctx, "SELECT data FROM entries WHERE idx = $1", i).Scan(&v); err != nil {
		return nil, notFound(err, "entry %d", index)
	}
	return v, nil
}

// Entries returns the n entries from index start, read in one query.
func (s *Store) Entries(ctx context.Context, start uint64, n int) ([][]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("pgstore: entries from %d: negative count %d", start, n)
	}
	if n == 0 {
		return [][]byte{}, nil
	}
	from, ok1 := signed(start)
	end, ok2 := signed(start + uint64(n))
	if !ok1 || !ok2 || start+uint64(n) < start {
		return nil, fmt.Errorf("pgstore: entries %d+%d: %w", start, n, store.ErrNotFound)
	}
	rows, err := s.pool.Query(ctx, "SELECT idx, data FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx", from, end)
	if err != nil {
		return nil, fmt.Errorf("pgstore: entries %d+%d: %w", start, n, err)
	}
	defer rows.Close()
	out := make([][]byte, 0, min(n, 1<<12)) // n is the caller's, not yet checked against the size
	for rows.Next() {
		var (
			idx  int64
			data []byte
		)
		if err := rows.Scan(&idx, &data); err != nil {
			return nil, fmt.Errorf("pgstore: entries %d+%d: %w", start, n, err)
		}
		if idx != from+int64(len(out)) {
			break // a gap: reported below as a missing entry
		}
		out = append(out, data)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: entries %d+%d: %w", start, n, err)
	}
	if len(out) < n {
		return nil, fmt.Errorf("pgstore: entry %d: %w", start+uint64(len(out)), store.ErrNotFound)
	}
	return out, nil
}

// Tile returns the first width hashes of the tile at (level, index).
func (s *Store) Tile(ctx context.Context, level uint8, index uint64, width int) ([]byte, error) {
	if err := store.CheckWidth(width); err != nil {
		return nil, fmt.Errorf("pgstore: tile %d/%d: %w", level, index, err)
	}
	return s.tileHashes(ctx, level, index, 0, width)
}

// Node returns the hash of node index at level from its stored tile.
func (s *Store) Node(ctx context.Context, level uint8, index uint64) ([]byte, error) {
	pos := int(index % store.TileWidth)
	return s.tileHashes(ctx, level, index/store.TileWidth, pos, pos+1)
}

// tileHashes returns hashes from to end (exclusive) of the tile at (level,
// index): only those bytes cross the network, not the whole tile.
func (s *Store) tileHashes(ctx context.Context, level uint8, index uint64, from, end int) ([]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	i := tileIndex(index)
	var (
		v      []byte
		stored int
	)
	err := s.pool.QueryRow(ctx, "SELECT substring(hashes FROM $3 FOR $4), length(hashes) FROM tiles WHERE level = $1 AND idx = $2",
		int16(level), i, from*store.HashSize+1, (end-from)*store.HashSize).Scan(&v, &stored)
	if err != nil {
		return nil, notFound(err, "tile %d/%d", level, index)
	}
	if stored < end*store.HashSize {
		return nil, fmt.Errorf("pgstore: tile %d/%d width %d (stored %d): %w", level, index, end, stored/store.HashSize, store.ErrNotFound)
	}
	return v, nil
}

// Get returns the value of the row with key.
func (s *Store) Get(ctx context.Context, key []byte) ([]byte, error) {
	return s.get(ctx, "rows", "row", key)
}

func (s *Store) get(ctx context.Context, table, what string, key []byte) ([]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var v []byte
	if err := s.pool.QueryRow(ctx, "SELECT v FROM "+table+" WHERE k = $1", key).Scan(&v); err != nil {
		return nil, notFound(err, "%s %q", what, key)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// Scan calls fn for every row whose key starts with prefix, in key order,
// from one query (one snapshot).
func (s *Store) Scan(ctx context.Context, prefix []byte, fn func(key, value []byte) error) error {
	return s.ScanFrom(ctx, prefix, prefix, fn)
}

// ScanFrom is Scan over the rows whose key starts with prefix and is at
// least start: the primary key's index seeks to start.
func (s *Store) ScanFrom(ctx context.Context, prefix, start []byte, fn func(key, value []byte) error) error {
	return s.scan(ctx, "rows", "rows", prefix, start, fn)
}

// scan runs one range query over table. bytea compares bytewise, as the
// contract's key order does.
func (s *Store) scan(ctx context.Context, table, what string, prefix, start []byte, fn func(key, value []byte) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	lower := prefix
	if string(start) > string(prefix) {
		lower = start
	}
	if lower == nil {
		lower = []byte{}
	}
	var (
		rows pgx.Rows
		err  error
	)
	if upper := prefixEnd(prefix); upper != nil {
		rows, err = s.pool.Query(ctx, "SELECT k, v FROM "+table+" WHERE k >= $1 AND k < $2 ORDER BY k", lower, upper)
	} else {
		rows, err = s.pool.Query(ctx, "SELECT k, v FROM "+table+" WHERE k >= $1 ORDER BY k", lower)
	}
	if err != nil {
		return fmt.Errorf("pgstore: scan %s %q: %w", what, prefix, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return fmt.Errorf("pgstore: scan %s %q: %w", what, prefix, err)
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pgstore: scan %s %q: %w", what, prefix, err)
	}
	return nil
}

// Checkpoint returns the signed checkpoint stored for size.
func (s *Store) Checkpoint(ctx context.Context, size uint64) ([]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	n, ok := signed(size)
	if !ok {
		return nil, fmt.Errorf("pgstore: checkpoint %d: %w", size, store.ErrNotFound)
	}
	var v []byte
	if err := s.pool.QueryRow(ctx, "SELECT signed FROM checkpoints WHERE size = $1", n).Scan(&v); err != nil {
		return nil, notFound(err, "checkpoint %d", size)
	}
	return v, nil
}

// LatestCheckpoint returns the stored checkpoint with the largest size.
func (s *Store) LatestCheckpoint(ctx context.Context) (uint64, []byte, error) {
	if err := s.check(ctx); err != nil {
		return 0, nil, err
	}
	var (
		size int64
		v    []byte
	)
	if err := s.pool.QueryRow(ctx, "SELECT size, signed FROM checkpoints ORDER BY size DESC LIMIT 1").Scan(&size, &v); err != nil {
		return 0, nil, notFound(err, "latest checkpoint")
	}
	return uint64(size), v, nil
}

// Checkpoints calls fn for every stored checkpoint, by ascending size.
func (s *Store) Checkpoints(ctx context.Context, fn func(size uint64, signed []byte) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, "SELECT size, signed FROM checkpoints ORDER BY size")
	if err != nil {
		return fmt.Errorf("pgstore: scan checkpoints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			size int64
			v    []byte
		)
		if err := rows.Scan(&size, &v); err != nil {
			return fmt.Errorf("pgstore: scan checkpoints: %w", err)
		}
		if err := fn(uint64(size), v); err != nil {
			return err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pgstore: scan checkpoints: %w", err)
	}
	return nil
}
