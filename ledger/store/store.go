// Package store is the byte store under the ledger: the contract that every
// storage engine (pebblestore, embedded; pgstore, PostgreSQL) implements,
// stated in the doc comments of [Store] and [Reader] and checked by the
// conformance suite in package storetest.
//
// The ledger computes entries, hash tiles, tree state and index keys itself;
// a store only persists bytes, all or nothing, durably, and fences off a
// second writer. It knows nothing about hashing, JWS or checkpoint formats.
package store

import (
	"context"
	"errors"
	"fmt"
)

// Errors that callers branch on. Engines wrap them with %w; test with
// errors.Is.
var (
	// ErrNotFound is returned by reads of an entry, tile, row or checkpoint
	// that is not stored (for a tile: not stored at the requested width).
	ErrNotFound = errors.New("store: not found")

	// ErrStale is returned by Commit when the batch does not extend the
	// committed tree size: another writer (or an earlier Commit) got there
	// first. Nothing was written; the caller must reload the state.
	ErrStale = errors.New("store: stale batch")

	// ErrCheckpointSize is returned by PutCheckpoint for a size above the
	// committed tree size or below the latest stored checkpoint's size.
	ErrCheckpointSize = errors.New("store: checkpoint size out of range")

	// ErrLocked is returned by an engine's Open when another writer holds the
	// log (for Pebble: the directory is already open, in this process or
	// another one).
	ErrLocked = errors.New("store: log locked by another writer")
)

// HashSize is the size of one hash in a tile.
const HashSize = 32

// TileWidth is the number of hashes in a full tile (tiles of height 8).
const TileWidth = 256

// Batch is everything one sequencing step writes, committed all or nothing.
type Batch struct {
	// From is the tree size this batch extends; it must equal the committed
	// size, or Commit returns ErrStale.
	From uint64
	// Entries are the entry bytes for indexes From, From+1, ...
	Entries [][]byte
	// Tiles are the hash tiles to write, new or grown. A tile's hashes replace
	// the stored ones: the ledger must only ever grow a tile (the stored hashes
	// a prefix of the new ones); the store does not check this.
	Tiles []Tile
	// Rows are secondary index and dedup rows. Their keys are owned by the
	// ledger and opaque here; a row's value replaces any stored one.
	Rows []Row
	// State is the ledger's opaque tree state (e.g. the compact range's right
	// edge) at size From+len(Entries). It replaces the stored state; an
	// empty State reads back as nil.
	State []byte
	// Checkpoint, when not nil, is the signed checkpoint for size
	// From+len(Entries), written with the rest, all or nothing, as
	// PutCheckpoint would after it: one sync instead of two, and no
	// moment when the tree is durable but not covered by a checkpoint.
	Checkpoint []byte
}

// Size returns the tree size after b is committed.
func (b *Batch) Size() uint64 { return b.From + uint64(len(b.Entries)) }

// Tile is a hash tile: the hashes of level Level, from index Index*256,
// concatenated. Len(Hashes) is width*HashSize with 1 ≤ width ≤ TileWidth.
type Tile struct {
	Level  uint8
	Index  uint64
	Hashes []byte
}

// Width returns the number of hashes in t.
func (t Tile) Width() int { return len(t.Hashes) / HashSize }

// Row is a secondary index or dedup row. Key is not empty.
type Row struct {
	Key, Value []byte
}

// Validate reports whether b is well formed: tiles of whole hashes and of
// width 1 to TileWidth, no empty row key, no size overflow. Engines call it
// in Commit before writing anything.
func (b *Batch) Validate() error {
	if b.From+uint64(len(b.Entries)) < b.From {
		return fmt.Errorf("store: batch from %d with %d entries overflows the tree size", b.From, len(b.Entries))
	}
	for _, t := range b.Tiles {
		if len(t.Hashes)%HashSize != 0 || CheckWidth(t.Width()) != nil {
			return fmt.Errorf("store: tile %d/%d has %d bytes, not 1 to %d hashes of %d bytes", t.Level, t.Index, len(t.Hashes), TileWidth, HashSize)
		}
	}
	for i, r := range b.Rows {
		if len(r.Key) == 0 {
			return fmt.Errorf("store: row %d has an empty key", i)
		}
	}
	return nil
}

// CheckWidth returns an error unless 1 ≤ width ≤ TileWidth.
func CheckWidth(width int) error {
	if width < 1 || width > TileWidth {
		return fmt.Errorf("store: tile width %d out of range 1 to %d", width, TileWidth)
	}
	return nil
}

// Reader is the read side of a store. Its methods are safe to call
// concurrently with each other and with Commit and PutCheckpoint; a read sees
// either all of a committed batch or none of it. Every returned []byte is a
// copy that the caller owns.
type Reader interface {
	// State returns the committed tree size and the state stored with it:
	// 0 and nil for a new store.
	State(ctx context.Context) (size uint64, state []byte, err error)

	// Entry returns the entry at index, or ErrNotFound at or past the
	// committed size.
	Entry(ctx context.Context, index uint64) ([]byte, error)

	// Entries returns the n consecutive entries from index start, or
	// ErrNotFound if any of them is not committed. n = 0 returns no entries
	// and no error.
	Entries(ctx context.Context, start uint64, n int) ([][]byte, error)

	// Tile returns the first width*HashSize bytes of the stored tile at
	// (level, index), or ErrNotFound if that tile is absent or stored
	// narrower than width. Width is 1 to TileWidth.
	Tile(ctx context.Context, level uint8, index uint64, width int) ([]byte, error)

	// Node returns the HashSize bytes of node index at level, read from
	// the stored tile (level, index/TileWidth), or ErrNotFound if that
	// tile is absent or does not yet hold the node. It is Tile for one
	// hash, without copying the rest of the tile: a proof needs one node
	// per level, and copying whole tiles for it was most of a cold read's
	// garbage.
	Node(ctx context.Context, level uint8, index uint64) ([]byte, error)

	// Get returns the value of the row with key, or ErrNotFound.
	Get(ctx context.Context, key []byte) ([]byte, error)

	// Scan calls fn for every row whose key starts with prefix, in
	// ascending byte order of keys. The slices passed to fn are valid only
	// during the call. If fn returns an error, Scan stops and returns that
	// error unwrapped.
	Scan(ctx context.Context, prefix []byte, fn func(key, value []byte) error) error

	// Checkpoint returns the signed checkpoint stored for size, or
	// ErrNotFound.
	Checkpoint(ctx context.Context, size uint64) ([]byte, error)

	// LatestCheckpoint returns the stored checkpoint with the largest size,
	// or ErrNotFound if none is stored yet.
	LatestCheckpoint(ctx context.Context) (size uint64, signed []byte, err error)

	// Checkpoints calls fn for every stored checkpoint in ascending order of
	// size. The slice passed to fn is valid only during the call. If fn
	// returns an error, Checkpoints stops and returns that error unwrapped.
	Checkpoints(ctx context.Context, fn func(size uint64, signed []byte) error) error
}

// Store is a log's byte store. One Store value is one writer: engines refuse
// to open a log that another writer holds (ErrLocked) where they can, and
// Commit fences off a writer that still slips through (ErrStale).
type Store interface {
	Reader
	Side

	// Commit writes b atomically (entries, tiles, rows, state and the new
	// size) and returns nil only once all of it is durable (synced to stable
	// storage). If b.From is not the committed size it returns ErrStale and
	// writes nothing; if b is malformed (see Batch.Validate) it returns an
	// error and writes nothing. Of concurrent Commits with the same From, at
	// most one succeeds.
	Commit(ctx context.Context, b *Batch) error

	// PutCheckpoint stores the signed checkpoint for size and returns nil
	// only once it is durable. It returns ErrCheckpointSize for a size above
	// the committed size or below the latest stored checkpoint's size; a
	// checkpoint for the latest size replaces the stored one (e.g. re-signed
	// with more cosignatures).
	PutCheckpoint(ctx context.Context, size uint64, signed []byte) error

	// Close releases the store and its writer lock. Calls after Close fail.
	Close() error
}

// EngineStats is what an engine tells operators about itself: the figures
// that explain slow reads (cache misses, read amplification) and a disk
// filling up. Zero means the engine does not report that figure.
type EngineStats struct {
	BlockCacheHits, BlockCacheMisses int64  // counters since open
	BlockCacheBytes                  int64  // bytes of blocks cached now
	MemTableBytes                    uint64 // memtables, including one being flushed
	DiskBytes                        uint64 // everything the engine keeps on disk
	L0Files                          int64  // level-0 files: many mean compactions lag
	ReadAmplification                int    // files a point read may consult
	CompactionDebtBytes              uint64 // bytes compactions must rewrite to catch up
	WALBytes                         uint64 // bytes written to the write-ahead log since open
	BytesWritten                     uint64 // bytes written since open: the log, flushes and compactions
}

// StatsReporter is implemented by engines that report EngineStats. It must
// be safe to call concurrently with every other method.
type StatsReporter interface {
	EngineStats() EngineStats
}

// RangeScanner is implemented by engines that can begin a scan part-way
// through a prefix, so that a page of a long list costs what it returns,
// not what comes before it. The ledger falls back to Scan (skipping rows
// below start) for engines without it.
type RangeScanner interface {
	// ScanFrom is Scan restricted to the rows whose key starts with prefix
	// and is at least start in byte order.
	ScanFrom(ctx context.Context, prefix, start []byte, fn func(key, value []byte) error) error
}
