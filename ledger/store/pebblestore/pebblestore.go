// Package pebblestore is the Pebble engine of the ledger's byte store: one
// Pebble database per log, in one directory, with one writer at a time (the
// directory lock). It implements store.Store; see that package for the
// contract.
//
// Key space: e/<index> entries, t/<level>/<index> hash tiles (one key per
// tile, its value growing from partial to full by merge operands that
// append the new hashes: see tailwrite.go), r/<key> rows, m/size and
// m/state the committed tree, c/<size> signed checkpoints, s/<key> side
// rows (store.Side: beside the tree, not part of it). Integers are 8
// bytes big-endian, the level 1 byte, so keys sort numerically.
package pebblestore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/pakta-id/pakta/ledger/store"
)

// Defaults for the zero values of Options.
const (
	// DefaultCacheSize is the block cache, on top of the memtables (Open
	// adds their room): it serves entry reads, the acceptance rules' point
	// reads and the lower levels of proofs, within a small server's memory
	// (the upper levels of proofs are cached by the ledger itself).
	DefaultCacheSize = 64 << 20
	// DefaultMemTableSize is the write buffer: large enough that bulk
	// appends do not stall on flushes (Pebble's 4 MiB default did), small
	// enough that two of them (one flushing) stay cheap.
	DefaultMemTableSize = 32 << 20
)

// formatVersion is the Pebble on-disk format this package creates and
// upgrades to: the newest one Pebble v2.1.7 names. It is pinned rather than
// FormatNewest so that a Pebble upgrade never ratchets the format of an
// existing log silently. (Pebble's default is the oldest format it supports.)
const formatVersion = pebble.FormatValueSeparation

// memtableReserve is how many memtables' worth of room Open adds to the
// block cache: the mutable memtable and one being flushed (Pebble's
// MemTableStopWritesThreshold is 2, so more than that only briefly).
const memtableReserve = 2

// Options configures Open. The zero value is ready to use.
type Options struct {
	// Logger receives Pebble's log lines. Nil discards them.
	Logger *slog.Logger
	// CacheSize is the block cache size in bytes. Zero means
	// DefaultCacheSize (64 MiB). Pebble counts its memtables against the
	// cache it is given (a memtable reserves its size in the cache), so
	// Open gives Pebble CacheSize plus room for memtableReserve memtables:
	// without it, a cache no larger than two memtables held no blocks at
	// all and every read went to the file system. Pebble's memory is
	// therefore about CacheSize + 2 × MemTableSize.
	CacheSize int64
	// MemTableSize is the memtable size in bytes. Zero means
	// DefaultMemTableSize (32 MiB).
	MemTableSize uint64
	// ReadOnly opens an existing log for reading only: the directory must
	// hold a database, nothing is written to it, and Commit and
	// PutCheckpoint fail. The directory lock is still taken.
	ReadOnly bool
	// Filters chooses which LSM levels get bloom filters. The zero value is
	// FiltersNone.
	Filters Filters
}

// Filters is a choice of bloom filters per LSM level.
type Filters int

const (
	// FiltersNone: no table has a filter.
	FiltersNone Filters = iota
	// FiltersAll: every table has a 10-bit-per-key bloom filter.
	FiltersAll
	// FiltersUpper: filters on every level but the bottom one (L6), where
	// most keys live and filters are largest. A miss then costs one probe
	// of the bottom level instead of one per level.
	FiltersUpper
)

// Store is a log's byte store in a Pebble database. Its reads are safe for
// concurrent use, also with Commit and PutCheckpoint, which are serialized.
// Close must be called once no other call is in progress.
type Store struct {
	db       *pebble.DB
	lock     *pebble.Lock
	dir      string
	readOnly bool
	closed   atomic.Bool

	// writeMu serializes Commit and PutCheckpoint, and guards size and
	// latest, which only they change: the cache of the committed size that
	// fences stale batches, and of the latest checkpoint's size.
	writeMu    sync.Mutex
	size       uint64
	latest     uint64
	haveLatest bool
	// tails is what Commit knows of the partial rows it has written (see
	// tailwrite.go), so that it writes only their new hashes.
	tails map[tileID]tail

	// sideMu serializes SideUpdate, so that its check of Absent keys and
	// its write are one step.
	sideMu sync.Mutex
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it unless opts.ReadOnly) the log's database in dir.
// It returns an error wrapping store.ErrLocked if the directory is already
// open, in this process or another one. Open checks that the stored tree size
// agrees with the stored entries and checkpoints.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pebblestore: open %s: %w", dir, err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With(slog.String("component", "pebble"), slog.String("dir", dir))
	cacheSize := opts.CacheSize
	if cacheSize == 0 {
		cacheSize = DefaultCacheSize
	}
	if cacheSize < 0 {
		return nil, fmt.Errorf("pebblestore: open %s: negative cache size %d", dir, cacheSize)
	}
	memTableSize := opts.MemTableSize
	if memTableSize == 0 {
		memTableSize = DefaultMemTableSize
	}

	if !opts.ReadOnly {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("pebblestore: open %s: %w", dir, err)
		}
	}
	lock, err := pebble.LockDirectory(dir, vfs.Default)
	if err != nil {
		// Creating the LOCK file fails with a *fs.PathError; anything else
		// is the lock being held (fcntl's EAGAIN/EACCES from another
		// process, or Pebble's own check within this process).
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			return nil, fmt.Errorf("pebblestore: open %s: %w", dir, err)
		}
		return nil, fmt.Errorf("pebblestore: open %s: %w: %w", dir, store.ErrLocked, err)
	}

	cache := pebble.NewCache(cacheSize + memtableReserve*int64(memTableSize))
	defer cache.Unref() // the database holds its own reference
	pl := pebbleLogger{logger}
	popts := &pebble.Options{
		Cache:              cache,
		Merger:             tileMerger,
		MemTableSize:       memTableSize,
		FormatMajorVersion: formatVersion,
		Logger:             pl,
		Lock:               lock,
		ReadOnly:           opts.ReadOnly,
		ErrorIfNotExists:   opts.ReadOnly,
		EventListener: &pebble.EventListener{
			BackgroundError: func(err error) {
				pl.Errorf("background error: %v", err)
			},
			// Pebble's default makes corruption fatal. Reads that hit it
			// return an error anyway, and an auditor opening a tampered
			// log must get that error, not a dead process.
			DataCorruption: func(info pebble.DataCorruptionInfo) {
				pl.Errorf("data corruption: %s", info)
			},
		},
	}
	// No bloom filters: a table's filter is one block (over a megabyte for a
	// large table), and with a block cache small enough for a 300 MB server
	// every proof and bundle read paid for reading it again.
	if opts.Filters != FiltersNone {
		for i := range popts.Levels {
			popts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		}
		if opts.Filters == FiltersUpper {
			popts.Levels[len(popts.Levels)-1].FilterPolicy = pebble.NoFilterPolicy
		}
	}
	db, err := pebble.Open(dir, popts)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("pebblestore: open %s: %w", dir, err)
	}
	s := &Store{db: db, lock: lock, dir: dir, readOnly: opts.ReadOnly}
	if err := s.load(); err != nil {
		db.Close()
		lock.Close()
		return nil, err
	}
	return s, nil
}

// load reads the committed size and latest checkpoint from disk and checks
// them against the stored entries.
func (s *Store) load() error {
	size, err := readSize(s.db)
	if err != nil {
		return err
	}
	last, haveEntries, err := s.lastIndex(entryPrefix)
	if err != nil {
		return err
	}
	switch {
	case size == 0 && haveEntries:
		return fmt.Errorf("pebblestore: open %s: corrupt: tree size 0 but entry %d stored", s.dir, last)
	case size > 0 && !haveEntries:
		return fmt.Errorf("pebblestore: open %s: corrupt: tree size %d but no entries stored", s.dir, size)
	case size > 0 && last != size-1:
		return fmt.Errorf("pebblestore: open %s: corrupt: tree size %d but last entry stored is %d", s.dir, size, last)
	}
	latest, haveLatest, err := s.lastIndex(checkpointPrefix)
	if err != nil {
		return err
	}
	if haveLatest && latest > size {
		return fmt.Errorf("pebblestore: open %s: corrupt: checkpoint for size %d above tree size %d", s.dir, latest, size)
	}
	s.size, s.latest, s.haveLatest = size, latest, haveLatest
	return nil
}

// lastIndex returns the 8-byte big-endian number in the last key under
// prefix (e/ or c/), and whether there is one.
func (s *Store) lastIndex(prefix string) (uint64, bool, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: []byte(prefix),
		UpperBound: prefixEnd([]byte(prefix)),
	})
	if err != nil {
		return 0, false, fmt.Errorf("pebblestore: scan %q: %w", prefix, err)
	}
	defer it.Close()
	if !it.Last() {
		if err := it.Error(); err != nil {
			return 0, false, fmt.Errorf("pebblestore: scan %q: %w", prefix, err)
		}
		return 0, false, nil
	}
	k := it.Key()
	if len(k) != len(prefix)+8 {
		return 0, false, fmt.Errorf("pebblestore: corrupt key %q", k)
	}
	return binary.BigEndian.Uint64(k[len(prefix):]), true, nil
}

// get returns a copy of the value at key, or pebble.ErrNotFound.
func (s *Store) get(key []byte) ([]byte, error) {
	v, closer, err := s.db.Get(key)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return bytes.Clone(v), nil
}

// check returns an error if ctx is done or s is closed.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return errors.New("pebblestore: store is closed")
	}
	return ctx.Err()
}

// State returns the committed tree size and the ledger's state stored with
// it, read together from one snapshot.
func (s *Store) State(ctx context.Context) (uint64, []byte, error) {
	if err := s.check(ctx); err != nil {
		return 0, nil, err
	}
	snap := s.db.NewSnapshot()
	defer snap.Close()
	size, err := readSize(snap)
	if err != nil {
		return 0, nil, err
	}
	v, closer, err := snap.Get([]byte(stateKey))
	if errors.Is(err, pebble.ErrNotFound) {
		return size, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("pebblestore: read tree state: %w", err)
	}
	defer closer.Close()
	if len(v) == 0 {
		return size, nil, nil
	}
	return size, bytes.Clone(v), nil
}

func readSize(r pebble.Reader) (uint64, error) {
	v, closer, err := r.Get([]byte(sizeKey))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pebblestore: read tree size: %w", err)
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("pebblestore: corrupt tree size: %d bytes, want 8", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// Entry returns the entry at index.
func (s *Store) Entry(ctx context.Context, index uint64) ([]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	v, err := s.get(EntryKey(index))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("pebblestore: entry %d: %w", index, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("pebblestore: entry %d: %w", index, err)
	}
	return v, nil
}

// Entries returns the n entries from index start.
func (s *Store) Entries(ctx context.Context, start uint64, n int) ([][]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("pebblestore: entries from %d: negative count %d", start, n)
	}
	if n == 0 {
		return [][]byte{}, nil
	}
	end := start + uint64(n)
	if end < start {
		return nil, fmt.Errorf("pebblestore: entries %d+%d: %w", start, n, store.ErrNotFound)
	}
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{
		LowerBound: EntryKey(start),
		UpperBound: EntryKey(end),
	})
	if err != nil {
		return nil, fmt.Errorf("pebblestore: entries %d+%d: %w", start, n, err)
	}
	defer it.Close()
	out := make([][]byte, 0, min(n, 1<<12)) // n is the caller's, not yet checked against the size
	want := EntryKey(start)
	for ok := it.First(); ok; ok = it.Next() {
		binary.BigEndian.PutUint64(want[len(entryPrefix):], start+uint64(len(out)))
		if !bytes.Equal(it.Key(), want) {
			break // a gap: reported below as a missing entry
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, fmt.Errorf("pebblestore: entry %d: %w", start+uint64(len(out)), err)
		}
		out = append(out, bytes.Clone(v))
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("pebblestore: entries %d+%d: %w", start, n, err)
	}
	if len(out) < n {
		return nil, fmt.Errorf("pebblestore: entry %d: %w", start+uint64(len(out)), store.ErrNotFound)
	}
	return out, nil
}

// Tile returns the first width hashes of the tile at (level, index).
func (s *Store) Tile(ctx context.Context, level uint8, index uint64, width int) ([]byte, error) {
	if err := store.CheckWidth(width); err != nil {
		return nil, fmt.Errorf("pebblestore: tile %d/%d: %w", level, index, err)
	}
	return s.tileHashes(ctx, level, index, 0, width)
}

// Node returns the hash of node index at level from its stored tile.
func (s *Store) Node(ctx context.Context, level uint8, index uint64) ([]byte, error) {
	pos := int(index % store.TileWidth)
	return s.tileHashes(ctx, level, index/store.TileWidth, pos, pos+1)
}

// tileHashes returns a copy of hashes from to end (exclusive) of the tile
// at (level, index), or ErrNotFound if the tile is absent or narrower.
func (s *Store) tileHashes(ctx context.Context, level uint8, index uint64, from, end int) ([]byte, error) {
	var out []byte
	err := s.viewTile(ctx, level, index, end, func(v []byte) error {
		out = bytes.Clone(v[from*store.HashSize:])
		return nil
	})
	return out, err
}

var _ store.TileViewer = (*Store)(nil)

// ViewTile calls fn with the first width hashes of the tile at (level,
// index), in Pebble's block cache: no copy.
func (s *Store) ViewTile(ctx context.Context, level uint8, index uint64, width int, fn func(hashes []byte) error) error {
	if err := store.CheckWidth(width); err != nil {
		return fmt.Errorf("pebblestore: tile %d/%d: %w", level, index, err)
	}
	return s.viewTile(ctx, level, index, width, fn)
}

// viewTile calls fn with the first end hashes of the tile at (level, index),
// or returns ErrNotFound if the tile is absent or narrower.
func (s *Store) viewTile(ctx context.Context, level uint8, index uint64, end int, fn func([]byte) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	v, closer, err := s.db.Get(TileKey(level, index))
	if errors.Is(err, pebble.ErrNotFound) {
		return fmt.Errorf("pebblestore: tile %d/%d: %w", level, index, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("pebblestore: tile %d/%d: %w", level, index, err)
	}
	defer closer.Close()
	if len(v) < end*store.HashSize {
		return fmt.Errorf("pebblestore: tile %d/%d width %d (stored %d): %w",
			level, index, end, len(v)/store.HashSize, store.ErrNotFound)
	}
	return fn(v[: end*store.HashSize : end*store.HashSize])
}

// Get returns the value of the row with key.
func (s *Store) Get(ctx context.Context, key []byte) ([]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	v, err := s.get(RowKey(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, &rowNotFound{key: bytes.Clone(key)}
	}
	if err != nil {
		return nil, fmt.Errorf("pebblestore: row %q: %w", key, err)
	}
	return v, nil
}

// Scan calls fn for every row whose key starts with prefix, in key order,
// from one consistent snapshot.
func (s *Store) Scan(ctx context.Context, prefix []byte, fn func(key, value []byte) error) error {
	return s.ScanFrom(ctx, prefix, prefix, fn)
}

// ScanFrom is Scan over the rows whose key starts with prefix and is at
// least start: the iterator seeks to start, so a page costs what it reads.
func (s *Store) ScanFrom(ctx context.Context, prefix, start []byte, fn func(key, value []byte) error) error {
	return s.scan(ctx, "rows", rowPrefix, prefix, start, fn)
}

// scan iterates one key space (space is its Pebble key prefix: rows or
// side rows), over the keys under prefix from start on, in key order, from
// one consistent snapshot, handing fn each key without space.
func (s *Store) scan(ctx context.Context, what, space string, prefix, start []byte, fn func(key, value []byte) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	under := append([]byte(space), prefix...)
	lower := under
	if bytes.Compare(start, prefix) > 0 {
		lower = append([]byte(space), start...)
	}
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(under)})
	if err != nil {
		return fmt.Errorf("pebblestore: scan %s %q: %w", what, prefix, err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("pebblestore: scan %s %q: %w", what, prefix, err)
		}
		if err := fn(it.Key()[len(space):], v); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("pebblestore: scan %s %q: %w", what, prefix, err)
	}
	return nil
}

// Checkpoint returns the signed checkpoint stored for size.
func (s *Store) Checkpoint(ctx context.Context, size uint64) ([]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	v, err := s.get(CheckpointKey(size))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("pebblestore: checkpoint %d: %w", size, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("pebblestore: checkpoint %d: %w", size, err)
	}
	return v, nil
}

// LatestCheckpoint returns the stored checkpoint with the largest size.
func (s *Store) LatestCheckpoint(ctx context.Context) (uint64, []byte, error) {
	var (
		size   uint64
		signed []byte
		found  bool
	)
	err := s.checkpoints(ctx, true, func(sz uint64, v []byte) error {
		size, signed, found = sz, bytes.Clone(v), true
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	if !found {
		return 0, nil, fmt.Errorf("pebblestore: latest checkpoint: %w", store.ErrNotFound)
	}
	return size, signed, nil
}

// Checkpoints calls fn for every stored checkpoint, by ascending size.
func (s *Store) Checkpoints(ctx context.Context, fn func(size uint64, signed []byte) error) error {
	return s.checkpoints(ctx, false, fn)
}

// checkpoints calls fn for every checkpoint in ascending order of size, or
// for the last one only.
func (s *Store) checkpoints(ctx context.Context, lastOnly bool, fn func(uint64, []byte) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{
		LowerBound: []byte(checkpointPrefix),
		UpperBound: prefixEnd([]byte(checkpointPrefix)),
	})
	if err != nil {
		return fmt.Errorf("pebblestore: scan checkpoints: %w", err)
	}
	defer it.Close()
	ok := it.First()
	if lastOnly {
		ok = it.Last()
	}
	for ; ok; ok = it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := it.Key()
		if len(k) != len(checkpointPrefix)+8 {
			return fmt.Errorf("pebblestore: corrupt checkpoint key %q", k)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("pebblestore: scan checkpoints: %w", err)
		}
		if err := fn(binary.BigEndian.Uint64(k[len(checkpointPrefix):]), v); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("pebblestore: scan checkpoints: %w", err)
	}
	return nil
}

// Commit writes b in one synced Pebble batch. The fence compares b.From with
// the size cached in memory: this Store is the only writer (the directory
// lock), and the cache was checked against the disk by Open.
func (s *Store) Commit(ctx context.Context, b *store.Batch) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if s.readOnly {
		return fmt.Errorf("pebblestore: commit at %d: store opened read-only", b.From)
	}
	if err := b.Validate(); err != nil {
		return fmt.Errorf("pebblestore: commit at %d: %w", b.From, err)
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if b.From != s.size {
		return fmt.Errorf("pebblestore: commit at %d, committed size is %d: %w", b.From, s.size, store.ErrStale)
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	n := len(sizeKey) + 8 + len(stateKey) + len(b.State) + len(checkpointPrefix) + 8 + len(b.Checkpoint)
	for _, e := range b.Entries {
		n += len(entryPrefix) + 8 + len(e)
	}
	for _, t := range b.Tiles {
		n += len(tilePrefix) + 10 + len(t.Hashes)
	}
	for _, r := range b.Rows {
		n += len(rowPrefix) + len(r.Key) + len(r.Value)
	}
	wb := s.db.NewBatchWithSize(n + n/8) // room for the batch's own record headers
	defer wb.Close()

	key := EntryKey(b.From) // Set copies key and value, so one key buffer will do
	for i, e := range b.Entries {
		binary.BigEndian.PutUint64(key[len(entryPrefix):], b.From+uint64(i))
		if err := wb.Set(key, e, nil); err != nil {
			return fmt.Errorf("pebblestore: commit at %d: entry %d: %w", b.From, b.From+uint64(i), err)
		}
	}
	writes := make([]tileWrite, len(b.Tiles))
	for i, t := range b.Tiles {
		tw, err := s.planTile(t)
		if err != nil {
			return fmt.Errorf("pebblestore: commit at %d: %w", b.From, err)
		}
		writes[i] = tw
		switch {
		case len(tw.bytes) == 0:
		case tw.merge:
			err = wb.Merge(TileKey(t.Level, t.Index), tw.bytes, nil)
		default:
			err = wb.Set(TileKey(t.Level, t.Index), tw.bytes, nil)
		}
		if err != nil {
			return fmt.Errorf("pebblestore: commit at %d: tile %d/%d: %w", b.From, t.Level, t.Index, err)
		}
	}
	key = key[:0]
	for _, r := range b.Rows {
		key = append(append(key[:0], rowPrefix...), r.Key...)
		if err := wb.Set(key, r.Value, nil); err != nil {
			return fmt.Errorf("pebblestore: commit at %d: row %q: %w", b.From, r.Key, err)
		}
	}
	size := b.Size()
	if err := wb.Set([]byte(sizeKey), binary.BigEndian.AppendUint64(nil, size), nil); err != nil {
		return fmt.Errorf("pebblestore: commit at %d: %w", b.From, err)
	}
	if err := wb.Set([]byte(stateKey), b.State, nil); err != nil {
		return fmt.Errorf("pebblestore: commit at %d: %w", b.From, err)
	}
	if b.Checkpoint != nil {
		// size ≥ the committed size ≥ the latest checkpoint's: always in range.
		if err := wb.Set(CheckpointKey(size), b.Checkpoint, nil); err != nil {
			return fmt.Errorf("pebblestore: commit at %d: checkpoint: %w", b.From, err)
		}
	}
	if err := wb.Commit(pebble.Sync); err != nil {
		s.forgetTails()
		return fmt.Errorf("pebblestore: commit %d entries at %d: %w", len(b.Entries), b.From, err)
	}
	s.size = size
	s.noteTails(writes)
	if b.Checkpoint != nil {
		s.latest, s.haveLatest = size, true
	}
	return nil
}

// PutCheckpoint stores the signed checkpoint for size, synced.
func (s *Store) PutCheckpoint(ctx context.Context, size uint64, signed []byte) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if s.readOnly {
		return fmt.Errorf("pebblestore: checkpoint %d: store opened read-only", size)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if size > s.size {
		return fmt.Errorf("pebblestore: checkpoint %d above tree size %d: %w", size, s.size, store.ErrCheckpointSize)
	}
	if s.haveLatest && size < s.latest {
		return fmt.Errorf("pebblestore: checkpoint %d below latest checkpoint %d: %w", size, s.latest, store.ErrCheckpointSize)
	}
	if err := s.db.Set(CheckpointKey(size), signed, pebble.Sync); err != nil {
		return fmt.Errorf("pebblestore: checkpoint %d: %w", size, err)
	}
	s.latest, s.haveLatest = size, true
	return nil
}

// Close closes the database and releases the directory lock.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return errors.New("pebblestore: store is already closed")
	}
	err := s.db.Close()
	if lerr := s.lock.Close(); err == nil {
		err = lerr
	}
	if err != nil {
		return fmt.Errorf("pebblestore: close %s: %w", s.dir, err)
	}
	return nil
}

var _ store.StatsReporter = (*Store)(nil)

// EngineStats reads Pebble's metrics.
func (s *Store) EngineStats() store.EngineStats {
	m := s.db.Metrics()
	t := m.Total()
	return store.EngineStats{
		WALBytes:       m.WAL.BytesWritten,
		BytesWritten:   m.WAL.BytesWritten + t.TableBytesFlushed + t.TableBytesCompacted + t.BlobBytesFlushed + t.BlobBytesCompacted,
		BlockCacheHits: m.BlockCache.Hits, BlockCacheMisses: m.BlockCache.Misses, BlockCacheBytes: m.BlockCache.Size,
		MemTableBytes: m.MemTable.Size, DiskBytes: m.DiskSpaceUsage(), L0Files: m.Levels[0].TablesCount,
		ReadAmplification: m.ReadAmp(), CompactionDebtBytes: m.Compact.EstimatedDebt,
	}
}

// rowNotFound is Get's ErrNotFound. Most reads of absent rows are the
// ledger's checks that something is new (a statement, a person's first
// pledge), which never print the error: it is formatted only if asked,
// where fmt.Errorf's quoting of the key cost half as much as the read.
type rowNotFound struct{ key []byte }

func (e *rowNotFound) Error() string {
	return fmt.Sprintf("pebblestore: row %q: %v", e.key, store.ErrNotFound)
}

func (e *rowNotFound) Unwrap() error { return store.ErrNotFound }
