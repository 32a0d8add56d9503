// Package storetest is the conformance suite of the ledger's byte store:
// every engine of store.Store calls Run from its tests and must pass all of
// it, so that the ledger can rely on the contract alone.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pakta-id/pakta/ledger/store"
)

// OpenFunc opens (creating it if needed) the store kept in dir. The suite
// calls it again on the same dir to check durability across a reopen, and
// while a store on dir is still open to check the writer lock.
type OpenFunc func(t *testing.T, dir string) (store.Store, error)

// Run runs the conformance suite against the engine that open opens. Each
// subtest uses its own directory from t.TempDir.
func Run(t *testing.T, open OpenFunc) {
	tests := []struct {
		name string
		fn   func(*testing.T, OpenFunc)
	}{
		{"Empty", testEmpty},
		{"CommitReadBack", testCommitReadBack},
		{"Reopen", testReopen},
		{"StaleBatch", testStaleBatch},
		{"InvalidBatch", testInvalidBatch},
		{"CanceledCommit", testCanceledCommit},
		{"CheckpointSize", testCheckpointSize},
		{"CheckpointInBatch", testCheckpointInBatch},
		{"CrashBeforeCheckpoint", testCrashBeforeCheckpoint},
		{"SecondWriter", testSecondWriter},
		{"ConcurrentCommits", testConcurrentCommits},
		{"Tiles", testTiles},
		{"Scan", testScan},
		{"Entries", testEntries},
		{"Copies", testCopies},
		{"ConcurrentReads", testConcurrentReads},
		{"Closed", testClosed},
		{"Side", testSide},
		{"SideAbsent", testSideAbsent},
		{"SideConcurrent", testSideConcurrent},
		{"SideClosed", testSideClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// Deterministic content, so that any test can recompute what must be stored.

func entry(i uint64) []byte { return fmt.Appendf(nil, "entry %d %x", i, sha256.Sum256(u64(i))) }

func state(size uint64) []byte { return append([]byte("state@"), u64(size)...) }

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// hashes returns width distinct fake hashes of tile (level, index).
func hashes(level uint8, index uint64, width int) []byte {
	var out []byte
	for i := range width {
		h := sha256.Sum256(fmt.Appendf(nil, "%d/%d/%d", level, index, i))
		out = append(out, h[:]...)
	}
	return out
}

// batch returns the batch that grows the tree from size from to size to,
// with the level-0 tiles its entries fall in and one row per entry.
func batch(from, to uint64) *store.Batch {
	b := &store.Batch{From: from, State: state(to)}
	for i := from; i < to; i++ {
		b.Entries = append(b.Entries, entry(i))
		b.Rows = append(b.Rows, store.Row{Key: append([]byte("idx/"), u64(i)...), Value: u64(i)})
	}
	if to > from {
		for idx := from / store.TileWidth; idx <= (to-1)/store.TileWidth; idx++ {
			b.Tiles = append(b.Tiles, tileAt(idx, to))
		}
	}
	return b
}

// tileAt returns level-0 tile idx as it is at tree size.
func tileAt(idx, size uint64) store.Tile {
	w := int(min(size-idx*store.TileWidth, store.TileWidth))
	return store.Tile{Level: 0, Index: idx, Hashes: hashes(0, idx, w)}
}

// lastTile returns the level-0 tile holding entry size-1, as it is at size.
func lastTile(size uint64) store.Tile { return tileAt((size-1)/store.TileWidth, size) }

func openT(t *testing.T, open OpenFunc, dir string) store.Store {
	t.Helper()
	s, err := open(t, dir)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	return s
}

func closeT(t *testing.T, s store.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// newStore opens a store in a fresh directory, closed at the end of the test.
func newStore(t *testing.T, open OpenFunc) store.Store {
	t.Helper()
	s := openT(t, open, t.TempDir())
	t.Cleanup(func() { s.Close() })
	return s
}

func commit(t *testing.T, s store.Store, b *store.Batch) {
	t.Helper()
	if err := s.Commit(t.Context(), b); err != nil {
		t.Fatalf("commit from %d with %d entries: %v", b.From, len(b.Entries), err)
	}
}

func putCheckpoint(t *testing.T, s store.Store, size uint64, signed []byte) {
	t.Helper()
	if err := s.PutCheckpoint(t.Context(), size, signed); err != nil {
		t.Fatalf("put checkpoint %d: %v", size, err)
	}
}

func checkpoint(size uint64, n int) []byte {
	return fmt.Appendf(nil, "checkpoint %d, signature %d", size, n)
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: got error %v, want ErrNotFound", what, err)
	}
}

// checkTree checks that s holds exactly the tree of size built by batch:
// state, every entry, the row of every entry, the last tile, nothing past it.
func checkTree(t *testing.T, s store.Store, size uint64) {
	t.Helper()
	ctx := t.Context()
	gotSize, gotState, err := s.State(ctx)
	if err != nil {
		t.Fatalf("state: %v", err)
	}
	if gotSize != size {
		t.Fatalf("state: size %d, want %d", gotSize, size)
	}
	if size == 0 {
		if gotState != nil {
			t.Errorf("state of an empty store: %q, want nil", gotState)
		}
	} else if !bytes.Equal(gotState, state(size)) {
		t.Errorf("state at size %d: %q, want %q", size, gotState, state(size))
	}
	for i := range size {
		got, err := s.Entry(ctx, i)
		if err != nil {
			t.Fatalf("entry %d of %d: %v", i, size, err)
		}
		if !bytes.Equal(got, entry(i)) {
			t.Fatalf("entry %d: %q, want %q", i, got, entry(i))
		}
		v, err := s.Get(ctx, append([]byte("idx/"), u64(i)...))
		if err != nil {
			t.Fatalf("row of entry %d: %v", i, err)
		}
		if !bytes.Equal(v, u64(i)) {
			t.Fatalf("row of entry %d: %x, want %x", i, v, u64(i))
		}
	}
	all, err := s.Entries(ctx, 0, int(size))
	if err != nil {
		t.Fatalf("entries 0+%d: %v", size, err)
	}
	for i, e := range all {
		if !bytes.Equal(e, entry(uint64(i))) {
			t.Fatalf("entries 0+%d: entry %d is %q, want %q", size, i, e, entry(uint64(i)))
		}
	}
	_, err = s.Entry(ctx, size)
	wantNotFound(t, fmt.Sprintf("entry %d at size %d", size, size), err)
	if size > 0 {
		last := lastTile(size)
		got, err := s.Tile(ctx, 0, last.Index, last.Width())
		if err != nil {
			t.Fatalf("tile 0/%d width %d: %v", last.Index, last.Width(), err)
		}
		if !bytes.Equal(got, last.Hashes) {
			t.Fatalf("tile 0/%d width %d: wrong hashes", last.Index, last.Width())
		}
	}
}

func testEmpty(t *testing.T, open OpenFunc) {
	s := newStore(t, open)
	ctx := t.Context()
	checkTree(t, s, 0)
	_, err := s.Entry(ctx, 0)
	wantNotFound(t, "entry 0", err)
	_, err = s.Entries(ctx, 0, 1)
	wantNotFound(t, "entries 0+1", err)
	if es, err := s.Entries(ctx, 0, 0); err != nil || len(es) != 0 {
		t.Errorf("entries 0+0: %d entries, error %v; want none, no error", len(es), err)
	}
	_, err = s.Tile(ctx, 0, 0, 1)
	wantNotFound(t, "tile 0/0", err)
	_, err = s.Get(ctx, []byte("idx/"))
	wantNotFound(t, "row", err)
	_, err = s.Checkpoint(ctx, 0)
	wantNotFound(t, "checkpoint 0", err)
	_, _, err = s.LatestCheckpoint(ctx)
	wantNotFound(t, "latest checkpoint", err)
	if err := s.Checkpoints(ctx, func(size uint64, _ []byte) error {
		return fmt.Errorf("checkpoint %d in an empty store", size)
	}); err != nil {
		t.Error(err)
	}
	if err := s.Scan(ctx, nil, func(k, _ []byte) error {
		return fmt.Errorf("row %q in an empty store", k)
	}); err != nil {
		t.Error(err)
	}
	// The empty tree may be checkpointed.
	putCheckpoint(t, s, 0, checkpoint(0, 0))
}

func testCommitReadBack(t *testing.T, open OpenFunc) {
	s := newStore(t, open)
	var size uint64
	for _, n := range []uint64{1, 2, 253, 1, 300, 0, 7} {
		commit(t, s, batch(size, size+n))
		size += n
		checkTree(t, s, size)
	}
	// Every full tile written on the way is still readable in full.
	for idx := range size / store.TileWidth {
		got, err := s.Tile(t.Context(), 0, idx, store.TileWidth)
		if err != nil {
			t.Fatalf("full tile 0/%d: %v", idx, err)
		}
		if !bytes.Equal(got, hashes(0, idx, store.TileWidth)) {
			t.Fatalf("full tile 0/%d: wrong hashes", idx)
		}
	}
}

func testReopen(t *testing.T, open OpenFunc) {
	dir := t.TempDir()
	s := openT(t, open, dir)
	commit(t, s, batch(0, 10))
	putCheckpoint(t, s, 10, checkpoint(10, 0))
	commit(t, s, batch(10, 300))
	putCheckpoint(t, s, 300, checkpoint(300, 0))
	putCheckpoint(t, s, 300, checkpoint(300, 1))
	closeT(t, s)

	s = openT(t, open, dir)
	defer closeT(t, s)
	checkTree(t, s, 300)
	checkCheckpoints(t, s, map[uint64][]byte{10: checkpoint(10, 0), 300: checkpoint(300, 1)})
	// The reopened store goes on from where it was.
	commit(t, s, batch(300, 301))
	checkTree(t, s, 301)
}

// checkCheckpoints checks that s holds exactly want, listed in ascending
// order, and that the latest is the largest.
func checkCheckpoints(t *testing.T, s store.Store, want map[uint64][]byte) {
	t.Helper()
	ctx := t.Context()
	var sizes []uint64
	err := s.Checkpoints(ctx, func(size uint64, signed []byte) error {
		if len(sizes) > 0 && size <= sizes[len(sizes)-1] {
			return fmt.Errorf("checkpoint %d listed after %d", size, sizes[len(sizes)-1])
		}
		sizes = append(sizes, size)
		if !bytes.Equal(signed, want[size]) {
			return fmt.Errorf("checkpoint %d: %q, want %q", size, signed, want[size])
		}
		return nil
	})
	if err != nil {
		t.Fatalf("checkpoints: %v", err)
	}
	if len(sizes) != len(want) {
		t.Fatalf("checkpoints: sizes %v, want %d checkpoints", sizes, len(want))
	}
	for size, w := range want {
		got, err := s.Checkpoint(ctx, size)
		if err != nil || !bytes.Equal(got, w) {
			t.Fatalf("checkpoint %d: %q, %v; want %q", size, got, err, w)
		}
	}
	if len(want) == 0 {
		return
	}
	latest := sizes[len(sizes)-1]
	size, signed, err := s.LatestCheckpoint(ctx)
	if err != nil || size != latest || !bytes.Equal(signed, want[latest]) {
		t.Fatalf("latest checkpoint: %d %q, %v; want %d %q", size, signed, err, latest, want[latest])
	}
}

func testStaleBatch(t *testing.T, open OpenFunc) {
	s := newStore(t, open)
	ctx := t.Context()
	commit(t, s, batch(0, 5))
	for _, from := range []uint64{0, 4, 6, 100} {
		b := batch(from, from+3)
		b.Rows = append(b.Rows, store.Row{Key: []byte("stale"), Value: []byte("x")})
		b.Tiles = append(b.Tiles, store.Tile{Level: 1, Index: 0, Hashes: hashes(1, 0, 1)})
		err := s.Commit(ctx, b)
		if !errors.Is(err, store.ErrStale) {
			t.Fatalf("commit from %d at size 5: error %v, want ErrStale", from, err)
		}
	}
	checkTree(t, s, 5)
	_, err := s.Get(ctx, []byte("stale"))
	wantNotFound(t, "row of a stale batch", err)
	_, err = s.Tile(ctx, 1, 0, 1)
	wantNotFound(t, "tile of a stale batch", err)
	for _, i := range []uint64{6, 7, 8, 100} {
		_, err := s.Entry(ctx, i)
		wantNotFound(t, fmt.Sprintf("entry %d of a stale batch", i), err)
	}
}

func testInvalidBatch(t *testing.T, open OpenFunc) {
	s := newStore(t, open)
	ctx := t.Context()
	commit(t, s, batch(0, 5))
	bad := map[string]func(*store.Batch){
		"empty tile":         func(b *store.Batch) { b.Tiles = append(b.Tiles, store.Tile{Level: 1}) },
		"partial hash":       func(b *store.Batch) { b.Tiles[0].Hashes = b.Tiles[0].Hashes[:33] },
		"tile too wide":      func(b *store.Batch) { b.Tiles[0].Hashes = hashes(0, 5, store.TileWidth+1) },
		"empty row key":      func(b *store.Batch) { b.Rows = append(b.Rows, store.Row{Value: []byte("v")}) },
		"size overflows":     func(b *store.Batch) { b.From = ^uint64(0) },
		"overflow and stale": func(b *store.Batch) { b.From = ^uint64(0) - 1 },
	}
	for name, mutate := range bad {
		b := batch(5, 8)
		mutate(b)
		if err := s.Commit(ctx, b); err == nil {
			t.Errorf("commit with %s: no error", name)
		}
	}
	checkTree(t, s, 5)
	_, err := s.Entry(ctx, 5)
	wantNotFound(t, "entry 5 of an invalid batch", err)
}

func testCanceledCommit(t *testing.T, open OpenFunc) {
	s := newStore(t, open)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Commit(ctx, batch(0, 3)); err == nil {
		t.Fatal("commit with a canceled context: no error")
	}
	if err := s.PutCheckpoint(ctx, 0, checkpoint(0, 0)); err == nil {
		t.Fatal("checkpoint with a canceled context: no error")
	}
	checkTree(t, s, 0)
	checkCheckpoints(t, s, nil)
	commit(t, s, batch(0, 3))
	checkTree(t, s, 3)
}

// testCheckpointInBatch: a batch's checkpoint is written with it, all or
// nothing, and is then the latest, as PutCheckpoint after it would make it.
func testCheckpointInBatch(t *testing.T, open OpenFunc) {
	dir := t.TempDir()
	s := openT(t, open, dir)
	ctx := t.Context()
	b := batch(0, 10)
	b.Checkpoint = checkpoint(10, 0)
	commit(t, s, b)
	checkCheckpoints(t, s, map[uint64][]byte{10: checkpoint(10, 0)})
	// A stale batch writes neither its entries nor its checkpoint.
	stale := batch(5, 20)
	stale.Checkpoint = checkpoint(20, 0)
	if err := s.Commit(ctx, stale); !errors.Is(err, store.ErrStale) {
		t.Fatalf("stale batch with a checkpoint: error %v, want ErrStale", err)
	}
	checkTree(t, s, 10)
	checkCheckpoints(t, s, map[uint64][]byte{10: checkpoint(10, 0)})
	// An invalid one neither.
	bad := batch(10, 20)
	bad.Checkpoint = checkpoint(20, 0)
	bad.Tiles = append(bad.Tiles, store.Tile{Level: 0, Index: 0, Hashes: []byte{1}})
	if err := s.Commit(ctx, bad); err == nil {
		t.Fatal("invalid batch with a checkpoint: no error")
	}
	checkTree(t, s, 10)
	checkCheckpoints(t, s, map[uint64][]byte{10: checkpoint(10, 0)})
	// A batch without one leaves the latest where it was; PutCheckpoint and
	// batches' checkpoints mix.
	commit(t, s, batch(10, 20))
	putCheckpoint(t, s, 20, checkpoint(20, 0))
	b = batch(20, 300)
	b.Checkpoint = checkpoint(300, 0)
	commit(t, s, b)
	if err := s.PutCheckpoint(ctx, 20, checkpoint(20, 1)); !errors.Is(err, store.ErrCheckpointSize) {
		t.Fatalf("checkpoint 20 after a batch's checkpoint 300: error %v, want ErrCheckpointSize", err)
	}
	putCheckpoint(t, s, 300, checkpoint(300, 1)) // cosigned later: replaces
	closeT(t, s)
	s = openT(t, open, dir)
	defer closeT(t, s)
	checkTree(t, s, 300)
	checkCheckpoints(t, s, map[uint64][]byte{10: checkpoint(10, 0), 20: checkpoint(20, 0), 300: checkpoint(300, 1)})
	if size, signed, err := s.LatestCheckpoint(ctx); err != nil || size != 300 || !bytes.Equal(signed, checkpoint(300, 1)) {
		t.Fatalf("latest checkpoint after reopening: %d %q %v", size, signed, err)
	}
}

func testCheckpointSize(t *testing.T, open OpenFunc) {
	s := newStore(t, open)
	ctx := t.Context()
	if err := s.PutCheckpoint(ctx, 1, checkpoint(1, 0)); !errors.Is(err, store.ErrCheckpointSize) {
		t.Fatalf("checkpoint 1 at size 0: error %v, want ErrCheckpointSize", err)
	}
	commit(t, s, batch(0, 10))
	if err := s.PutCheckpoint(ctx, 11, checkpoint(11, 0)); !errors.Is(err, store.ErrCheckpointSize) {
		t.Fatalf("checkpoint 11 at size 10: error %v, want ErrCheckpointSize", err)
	}
	putCheckpoint(t, s, 4, checkpoint(4, 0))
	putCheckpoint(t, s, 10, checkpoint(10, 0))
	for _, size := range []uint64{0, 4, 9} {
		if err := s.PutCheckpoint(ctx, size, checkpoint(size, 1)); !errors.Is(err, store.ErrCheckpointSize) {
			t.Fatalf("checkpoint %d after checkpoint 10: error %v, want ErrCheckpointSize", size, err)
		}
	}
	// The same size replaces: a re-signed or cosigned checkpoint.
	putCheckpoint(t, s, 10, checkpoint(10, 1))
	checkCheckpoints(t, s, map[uint64][]byte{4: checkpoint(4, 0), 10: checkpoint(10, 1)})
	if _, err := s.Checkpoint(ctx, 5); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("checkpoint 5, never stored: error %v, want ErrNotFound", err)
	}
}

// testCrashBeforeCheckpoint: the process dies after a batch is durable and
// before its checkpoint is stored. On reopen the tree is ahead of the latest
// checkpoint, intact, and the ledger can sign the missing checkpoint.
func testCrashBeforeCheckpoint(t *testing.T, open OpenFunc) {
	dir := t.TempDir()
	s := openT(t, open, dir)
	commit(t, s, batch(0, 20))
	putCheckpoint(t, s, 20, checkpoint(20, 0))
	commit(t, s, batch(20, 25))
	closeT(t, s)

	s = openT(t, open, dir)
	defer closeT(t, s)
	checkTree(t, s, 25)
	checkCheckpoints(t, s, map[uint64][]byte{20: checkpoint(20, 0)})
	putCheckpoint(t, s, 25, checkpoint(25, 0))
	checkCheckpoints(t, s, map[uint64][]byte{20: checkpoint(20, 0), 25: checkpoint(25, 0)})
}

// testSecondWriter opens the same log twice. An engine either refuses the
// second open with ErrLocked, or lets both open and then lets exactly one of
// two commits with the same From win.
func testSecondWriter(t *testing.T, open OpenFunc) {
	dir := t.TempDir()
	s1 := openT(t, open, dir)
	commit(t, s1, batch(0, 3))
	s2, err := open(t, dir)
	if errors.Is(err, store.ErrLocked) {
		closeT(t, s1)
		s2 = openT(t, open, dir) // the lock is released by Close
		checkTree(t, s2, 3)
		closeT(t, s2)
		return
	}
	if err != nil {
		t.Fatalf("second open of %s: error %v, want ErrLocked or success", dir, err)
	}
	defer closeT(t, s1)
	defer closeT(t, s2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, s := range []store.Store{s1, s2} {
		wg.Go(func() {
			b := batch(3, 5)
			b.Rows = append(b.Rows, store.Row{Key: []byte("writer"), Value: []byte{byte(i)}})
			errs[i] = s.Commit(t.Context(), b)
		})
	}
	wg.Wait()
	winner := checkOneWinner(t, errs)
	v, err := s1.Get(t.Context(), []byte("writer"))
	if err != nil || !bytes.Equal(v, []byte{byte(winner)}) {
		t.Fatalf("row of the winning writer %d: %x, %v", winner, v, err)
	}
	checkTree(t, s1, 5)
	checkTree(t, s2, 5)
}

// checkOneWinner checks that exactly one error is nil and the others are
// ErrStale, and returns the winner's position.
func checkOneWinner(t *testing.T, errs []error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("commits %d and %d with the same From both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrStale):
			t.Fatalf("commit %d: error %v, want nil or ErrStale", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no commit of %d with the same From succeeded", len(errs))
	}
	return winner
}

// testConcurrentCommits races commits with the same From on one store:
// exactly one wins, the rest are stale and write nothing.
func testConcurrentCommits(t *testing.T, open OpenFunc) {
	s := newStore(t, open)
	commit(t, s, batch(0, 2))
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			b := batch(2, 4)
			b.Rows = append(b.Rows, store.Row{Key: []byte("writer"), Value: []byte{byte(i)}})
			errs[i] = s.Commit(t.Context(), b)
		})
	}
	wg.Wait()
	winner := checkOneWinner(t, errs)
	v, err := s.Get(t.Context(), []byte("writer"))
	if err != nil || !bytes.Equal(v, []byte{byte(winner)}) {
		t.Fatalf("row of the winning commit %d: %x, %v", winner, v, err)
	}
	checkTree(t, s, 4)
}

func testTiles(t *testing.T, open OpenFunc) {
	s := newStore(t, open)
	ctx := t.Context()
	full := hashes(2, 7, store.TileWidth)
	for _, w := range []int{3, 4, 200, store.TileWidth} {
		b := &store.Batch{Tiles: []store.Tile{{Level: 2, Index: 7, Hashes: full[:w*store.HashSize]}}}
		commit(t, s, b)
		for _, r := range []int{1, w / 2, w} {
			if r < 1 {
				continue
			}
			got, err := s.Tile(ctx, 2, 7, r)
			if err != nil {
				t.Fatalf("tile 2/7 stored at width %d, read at width %d: %v", w, r, err)
			}
			if !bytes.Equal(got, full[:r*store.HashSize]) {
				t.Fatalf("tile 2/7 stored at width %d, read at width %d: wrong hashes", w, r)
			}
		}
		for _, i := range []int{0, w / 2, w - 1} {
			got, err := s.Node(ctx, 2, 7*store.TileWidth+uint64(i))
			if err != nil {
				t.Fatalf("node %d of tile 2/7 stored at width %d: %v", i, w, err)
			}
			if !bytes.Equal(got, full[i*store.HashSize:(i+1)*store.HashSize]) {
				t.Fatalf("node %d of tile 2/7 stored at width %d: wrong hash", i, w)
			}
		}
		if w < store.TileWidth {
			_, err := s.Tile(ctx, 2, 7, w+1)
			wantNotFound(t, fmt.Sprintf("tile 2/7 stored at width %d, read at width %d", w, w+1), err)
			_, err = s.Node(ctx, 2, 7*store.TileWidth+uint64(w))
			wantNotFound(t, fmt.Sprintf("node %d of tile 2/7 stored at width %d", w, w), err)
		}
	}
	// An engine that lends tiles lends what Tile returns, and fails as it
	// does without calling fn.
	if tv, ok := s.(store.TileViewer); ok {
		for _, r := range []int{1, 100, store.TileWidth} {
			var got []byte
			err := tv.ViewTile(ctx, 2, 7, r, func(h []byte) error {
				got = bytes.Clone(h)
				return nil
			})
			if err != nil || !bytes.Equal(got, full[:r*store.HashSize]) {
				t.Fatalf("view of tile 2/7 at width %d: %d bytes, %v", r, len(got), err)
			}
		}
		called := false
		err := tv.ViewTile(ctx, 2, 8, 1, func([]byte) error { called = true; return nil })
		wantNotFound(t, "view of tile 2/8", err)
		for _, w := range []int{0, store.TileWidth + 1} {
			if err := tv.ViewTile(ctx, 2, 7, w, func([]byte) error { called = true; return nil }); err == nil {
				t.Errorf("view of tile 2/7 at width %d: no error", w)
			}
		}
		if called {
			t.Error("ViewTile called fn for a tile it could not read")
		}
		stop := errors.New("stop")
		if err := tv.ViewTile(ctx, 2, 7, 1, func([]byte) error { return stop }); err != stop {
			t.Errorf("ViewTile returned %v, want fn's error unwrapped", err)
		}
	}
	// Neighbours in level and index are distinct tiles.
	for _, k := range []struct {
		level uint8
		index uint64
	}{{2, 6}, {2, 8}, {1, 7}, {3, 7}, {2, 7 + 1<<32}} {
		_, err := s.Tile(ctx, k.level, k.index, 1)
		wantNotFound(t, fmt.Sprintf("tile %d/%d", k.level, k.index), err)
		_, err = s.Node(ctx, k.level, k.index*store.TileWidth)
		wantNotFound(t, fmt.Sprintf("first node of tile %d/%d", k.level, k.index), err)
	}
	for _, w := range []int{0, -1, store.TileWidth + 1} {
		if _, err := s.Tile(ctx, 2, 7, w); err == nil {
			t.Errorf("tile 2/7 read at width %d: no error", w)
		}
	}
	// The largest level and index round-trip too.
	top := store.Tile{Level: 255, Index: ^uint64(0), Hashes: hashes(255, ^uint64(0), 1)}
	commit(t, s, &store.Batch{Tiles: []store.Tile{top}})
	if got, err := s.Tile(ctx, 255, ^uint64(0), 1); err != nil || !bytes.Equal(got, top.Hashes) {
		t.Fatalf("tile 255/%d: %x, %v", ^uint64(0), got, err)
	}
}

func testScan(t *testing.T, open OpenFunc) {
	s := newStore(t, open)
	ctx := t.Context()
	keys := []string{"b", "a", "ab", "a\xff", "a\xff\xff", "\xff", "\xff\xff", "aa", "a\x00", "ba", "`"}
	b := &store.Batch{}
	for _, k := range keys {
		b.Rows = append(b.Rows, store.Row{Key: []byte(k), Value: []byte("old " + k)})
	}
	commit(t, s, b)
	// A later batch replaces a row's value.
	commit(t, s, &store.Batch{Rows: []store.Row{{Key: []byte("ab"), Value: []byte("new ab")}}})

	scan := func(prefix string) []string {
		t.Helper()
		var got []string
		err := s.Scan(ctx, []byte(prefix), func(k, v []byte) error {
			want := "old " + string(k)
			if string(k) == "ab" {
				want = "new ab"
			}
			if string(v) != want {
				return fmt.Errorf("row %q: value %q, want %q", k, v, want)
			}
			got = append(got, string(k))
			return nil
		})
		if err != nil {
			t.Fatalf("scan %q: %v", prefix, err)
		}
		return got
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"", []string{"`", "a", "a\x00", "aa", "ab", "a\xff", "a\xff\xff", "b", "ba", "\xff", "\xff\xff"}},
		{"a", []string{"a", "a\x00", "aa", "ab", "a\xff", "a\xff\xff"}},
		{"a\xff", []string{"a\xff", "a\xff\xff"}},
		{"ab", []string{"ab"}},
		{"b", []string{"b", "ba"}},
		{"\xff", []string{"\xff", "\xff\xff"}},
		{"\xff\xff", []string{"\xff\xff"}},
		{"c", nil},
		{"abc", nil},
	} {
		if got := scan(tc.prefix); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("scan %q: %q, want %q", tc.prefix, got, tc.want)
		}
	}

	// An engine that scans from a start key returns the rows of the
	// prefix at or after it, and no row outside the prefix.
	if rs, ok := s.(store.RangeScanner); ok {
		for _, tc := range []struct {
			prefix, start string
			want          []string
		}{
			{"a", "a", []string{"a", "a\x00", "aa", "ab", "a\xff", "a\xff\xff"}},
			{"a", "", []string{"a", "a\x00", "aa", "ab", "a\xff", "a\xff\xff"}},
			{"a", "aa", []string{"aa", "ab", "a\xff", "a\xff\xff"}},
			{"a", "aaa", []string{"ab", "a\xff", "a\xff\xff"}},
			{"a", "a\xff\xff", []string{"a\xff\xff"}},
			{"a", "b", nil},
			{"", "b", []string{"b", "ba", "\xff", "\xff\xff"}},
		} {
			var got []string
			err := rs.ScanFrom(ctx, []byte(tc.prefix), []byte(tc.start), func(k, _ []byte) error {
				got = append(got, string(k))
				return nil
			})
			if err != nil || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
				t.Errorf("scan %q from %q: %q, %v; want %q", tc.prefix, tc.start, got, err, tc.want)
			}
		}
	}

	// fn's error stops the scan and comes back as is.
	stop := errors.New("stop")
	n := 0
	err := s.Scan(ctx, []byte("a"), func(k, v []byte) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("scan stopped at row 2: error %v after %d rows, want %v after 2", err, n, stop)
	}
	// Rows are not entries, tiles or checkpoints.
	commit(t, s, batch(0, 2))
	putCheckpoint(t, s, 2, checkpoint(2, 0))
	if got := scan("e"); got != nil {
		t.Errorf("scan \"e\" after entries were committed: %q", got)
	}
}

func testEntries(t *testing.T, open OpenFunc) {
	s := newStore(t, open)
	ctx := t.Context()
	commit(t, s, batch(0, 600))
	for _, r := range []struct {
		start uint64
		n     int
	}{{0, 1}, {1, 3}, {255, 2}, {256, 256}, {0, 600}, {599, 1}, {300, 0}, {600, 0}} {
		got, err := s.Entries(ctx, r.start, r.n)
		if err != nil {
			t.Fatalf("entries %d+%d: %v", r.start, r.n, err)
		}
		if len(got) != r.n {
			t.Fatalf("entries %d+%d: %d entries", r.start, r.n, len(got))
		}
		for i, e := range got {
			if !bytes.Equal(e, entry(r.start+uint64(i))) {
				t.Fatalf("entries %d+%d: entry %d is %q", r.start, r.n, r.start+uint64(i), e)
			}
		}
	}
	for _, r := range []struct {
		start uint64
		n     int
	}{{599, 2}, {600, 1}, {0, 601}, {1000, 5}, {^uint64(0), 2}, {^uint64(0) - 1, 1}} {
		_, err := s.Entries(ctx, r.start, r.n)
		wantNotFound(t, fmt.Sprintf("entries %d+%d at size 600", r.start, r.n), err)
	}
	if _, err := s.Entries(ctx, 0, -1); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("entries 0+-1: error %v, want a usage error", err)
	}
}

// testCopies checks that the store keeps no reference to a batch's slices
// and hands out slices the caller may change.
func testCopies(t *testing.T, open OpenFunc) {
	s := newStore(t, open)
	ctx := t.Context()
	b := batch(0, 2)
	commit(t, s, b)
	putCheckpoint(t, s, 2, checkpoint(2, 0))
	for _, e := range b.Entries {
		clear(e)
	}
	for _, r := range b.Rows {
		clear(r.Key)
		clear(r.Value)
	}
	clear(b.Tiles[0].Hashes)
	clear(b.State)
	checkTree(t, s, 2)

	e, _ := s.Entry(ctx, 0)
	es, _ := s.Entries(ctx, 0, 2)
	tile, _ := s.Tile(ctx, 0, 0, 2)
	node, _ := s.Node(ctx, 0, 1)
	row, _ := s.Get(ctx, append([]byte("idx/"), u64(1)...))
	_, st, _ := s.State(ctx)
	cp, _ := s.Checkpoint(ctx, 2)
	_, latest, _ := s.LatestCheckpoint(ctx)
	for _, p := range [][]byte{e, es[0], es[1], tile, node, row, st, cp, latest} {
		clear(p)
	}
	checkTree(t, s, 2)
	checkCheckpoints(t, s, map[uint64][]byte{2: checkpoint(2, 0)})
}

// testConcurrentReads reads while batches commit: every read sees a whole
// batch or none of it. Run it with -race.
func testConcurrentReads(t *testing.T, open OpenFunc) {
	s := newStore(t, open)
	ctx := t.Context()
	const batches, per = 40, 7
	var done atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for range 3 {
		wg.Go(func() {
			for !done.Load() {
				if err := readConsistent(ctx, s); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	for i := range uint64(batches) {
		if err := s.Commit(ctx, batch(i*per, (i+1)*per)); err != nil {
			t.Errorf("commit %d: %v", i, err)
			break
		}
		if err := s.PutCheckpoint(ctx, (i+1)*per, checkpoint((i+1)*per, 0)); err != nil {
			t.Errorf("checkpoint %d: %v", (i+1)*per, err)
			break
		}
	}
	done.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	checkTree(t, s, batches*per)
}

// readConsistent reads a state and checks that all it promises is there.
func readConsistent(ctx context.Context, s store.Store) error {
	cpSize, cp, err := s.LatestCheckpoint(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("latest checkpoint: %w", err)
	}
	if err == nil && !bytes.Equal(cp, checkpoint(cpSize, 0)) {
		return fmt.Errorf("latest checkpoint %d: %q", cpSize, cp)
	}
	size, st, err := s.State(ctx)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if size < cpSize {
		return fmt.Errorf("state size %d below the checkpoint %d read before", size, cpSize)
	}
	if size == 0 {
		return nil
	}
	if !bytes.Equal(st, state(size)) {
		return fmt.Errorf("state at size %d: %q, want %q", size, st, state(size))
	}
	es, err := s.Entries(ctx, 0, int(size))
	if err != nil {
		return fmt.Errorf("entries 0+%d: %w", size, err)
	}
	for i, e := range es {
		if !bytes.Equal(e, entry(uint64(i))) {
			return fmt.Errorf("entry %d: %q", i, e)
		}
	}
	last := lastTile(size)
	h, err := s.Tile(ctx, 0, last.Index, last.Width())
	if err != nil {
		return fmt.Errorf("tile 0/%d width %d at size %d: %w", last.Index, last.Width(), size, err)
	}
	if !bytes.Equal(h, last.Hashes) {
		return fmt.Errorf("tile 0/%d width %d at size %d: wrong hashes", last.Index, last.Width(), size)
	}
	n := uint64(0)
	err = s.Scan(ctx, []byte("idx/"), func(k, v []byte) error {
		if !bytes.Equal(k, append([]byte("idx/"), u64(n)...)) || !bytes.Equal(v, u64(n)) {
			return fmt.Errorf("row %d: %x → %x", n, k, v)
		}
		n++
		return nil
	})
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	if n < size {
		return fmt.Errorf("scan: %d rows at size %d", n, size)
	}
	return nil
}

func testClosed(t *testing.T, open OpenFunc) {
	s := openT(t, open, t.TempDir())
	ctx := t.Context()
	commit(t, s, batch(0, 1))
	closeT(t, s)
	if err := s.Commit(ctx, batch(1, 2)); err == nil {
		t.Error("commit after close: no error")
	}
	if err := s.PutCheckpoint(ctx, 1, checkpoint(1, 0)); err == nil {
		t.Error("checkpoint after close: no error")
	}
	if _, err := s.Entry(ctx, 0); err == nil {
		t.Error("entry after close: no error")
	}
	if _, _, err := s.State(ctx); err == nil {
		t.Error("state after close: no error")
	}
	if _, err := s.Node(ctx, 0, 0); err == nil {
		t.Error("node after close: no error")
	}
}
