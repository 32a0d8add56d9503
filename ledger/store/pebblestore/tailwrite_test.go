package pebblestore_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/ledger/store/pebblestore"
)

// rowHashes is width distinct hashes of row (level, index).
func rowHashes(level uint8, index uint64, width int) []byte {
	out := make([]byte, 0, width*store.HashSize)
	for i := range width {
		h := bytes.Repeat([]byte{byte(i), byte(index), level}, store.HashSize)[:store.HashSize]
		h[3] = byte(i >> 8)
		out = append(out, h...)
	}
	return out
}

// growRow commits one batch per step, each growing tile (level, index) to
// the next width in widths (entries are needed only for the size fence).
func growRow(t *testing.T, s *pebblestore.Store, from uint64, level uint8, index uint64, widths []int) uint64 {
	t.Helper()
	for _, w := range widths {
		b := &store.Batch{From: from, Entries: [][]byte{[]byte(fmt.Sprint("entry ", from))},
			Tiles: []store.Tile{{Level: level, Index: index, Hashes: rowHashes(level, index, w)}}}
		if err := s.Commit(t.Context(), b); err != nil {
			t.Fatalf("commit growing tile %d/%d to %d: %v", level, index, w, err)
		}
		from++
	}
	return from
}

func wantRow(t *testing.T, s *pebblestore.Store, level uint8, index uint64, width int) {
	t.Helper()
	got, err := s.Tile(t.Context(), level, index, width)
	if err != nil {
		t.Fatalf("tile %d/%d width %d: %v", level, index, width, err)
	}
	if !bytes.Equal(got, rowHashes(level, index, width)) {
		t.Fatalf("tile %d/%d width %d: wrong hashes", level, index, width)
	}
	if _, err := s.Tile(t.Context(), level, index, min(width+1, store.TileWidth)); width < store.TileWidth && err == nil {
		t.Fatalf("tile %d/%d: read at width %d, stored at %d", level, index, width+1, width)
	}
}

// A row grown one hash per commit reads back whole at every step, from the
// memtable, after a flush, after a compaction and after reopening, and the
// growth goes on across a reopen.
func TestTileGrowsByTail(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	s := open(t, dir, pebblestore.Options{})
	var from uint64
	w := 0
	for _, step := range []string{"memtable", "flush", "compact", "reopen", "full"} {
		next := []int{w + 1, w + 2, w + 5, w + 40}
		if step == "full" {
			next = []int{w + 1, store.TileWidth}
		}
		from = growRow(t, s, from, 3, 9, next)
		w = next[len(next)-1]
		switch step {
		case "flush":
			if err := s.DB().Flush(); err != nil {
				t.Fatal(err)
			}
		case "compact":
			if err := s.DB().Compact(t.Context(), []byte("t/"), []byte("t0"), true); err != nil {
				t.Fatal(err)
			}
		case "reopen":
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = open(t, dir, pebblestore.Options{})
		}
		wantRow(t, s, 3, 9, w)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// A row whose stored value is longer than what the store last committed
// (what a commit that failed after reaching the memtable, or the replay of
// its WAL record, leaves) is written whole next time, not appended to.
func TestTileStaleTailOverwritten(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	s := open(t, dir, pebblestore.Options{})
	from := growRow(t, s, 0, 0, 0, []int{4, 6})
	// A stale tail: two hashes that the committed tree never had.
	stale := bytes.Repeat([]byte{0xee}, 2*store.HashSize)
	if err := s.DB().Merge(pebblestore.TileKey(0, 0), stale, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, pebblestore.Options{})
	growRow(t, s, from, 0, 0, []int{7, 9})
	wantRow(t, s, 0, 0, 9)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// A batch may not shrink a row it grew: a merge could not undo the tail.
func TestTileShrinkRefused(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "log"), pebblestore.Options{})
	defer s.Close()
	from := growRow(t, s, 0, 1, 2, []int{5, 8})
	b := &store.Batch{From: from, Entries: [][]byte{[]byte("x")},
		Tiles: []store.Tile{{Level: 1, Index: 2, Hashes: rowHashes(1, 2, 7)}}}
	if err := s.Commit(t.Context(), b); err == nil {
		t.Fatal("a batch shrinking tile 1/2 from 8 to 7 hashes was committed")
	}
	wantRow(t, s, 1, 2, 8)
	growRow(t, s, from, 1, 2, []int{9})
	wantRow(t, s, 1, 2, 9)
}

// The merger concatenates operands oldest first, in whatever order Pebble
// hands them over, exactly as Pebble's DefaultMerger does (whose name it
// takes, so logs written before it open with it).
func TestTileMergerConcatenates(t *testing.T) {
	if pebblestore.TileMerger.Name != pebble.DefaultMerger.Name {
		t.Fatalf("merger name %q, Pebble's default is %q", pebblestore.TileMerger.Name, pebble.DefaultMerger.Name)
	}
	ops := [][]byte{[]byte("a"), []byte("bc"), []byte(""), []byte("def"), []byte("g"), []byte("hi")}
	for first := range ops {
		for nOlder := 0; nOlder <= first; nOlder++ {
			// Pebble starts from operand first, merges the nOlder before it
			// newest first, then the ones after it oldest first.
			run := func(m *pebble.Merger) string {
				vm, err := m.Merge(nil, bytes.Clone(ops[first]))
				if err != nil {
					t.Fatal(err)
				}
				for i := first - 1; i >= first-nOlder; i-- {
					vm.MergeOlder(bytes.Clone(ops[i]))
				}
				for i := first + 1; i < len(ops); i++ {
					vm.MergeNewer(bytes.Clone(ops[i]))
				}
				out, _, err := vm.Finish(true)
				if err != nil {
					t.Fatal(err)
				}
				return string(out)
			}
			want := run(pebble.DefaultMerger)
			if got := run(pebblestore.TileMerger); got != want {
				t.Errorf("first %d, %d older: got %q, Pebble's default gives %q", first, nOlder, got, want)
			}
		}
	}
}
