package pebblestore_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/ledger/store/pebblestore"
	"github.com/pakta-id/pakta/ledger/store/storetest"
)

// testOptions keeps the block cache small: the suite opens many stores.
var testOptions = pebblestore.Options{CacheSize: 8 << 20}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) (store.Store, error) {
		return pebblestore.Open(t.Context(), dir, testOptions)
	})
}

func open(t *testing.T, dir string, opts pebblestore.Options) *pebblestore.Store {
	t.Helper()
	s, err := pebblestore.Open(t.Context(), dir, opts)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	return s
}

func commitEntries(t *testing.T, s *pebblestore.Store, from uint64, entries ...string) {
	t.Helper()
	b := &store.Batch{From: from, State: []byte("state")}
	for _, e := range entries {
		b.Entries = append(b.Entries, []byte(e))
	}
	if err := s.Commit(t.Context(), b); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

func TestSecondOpenLocked(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, testOptions)
	_, err := pebblestore.Open(t.Context(), dir, testOptions)
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second open: error %v, want ErrLocked", err)
	}
	_, err = pebblestore.Open(t.Context(), dir, pebblestore.Options{ReadOnly: true})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second open, read-only: error %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, testOptions)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSecondProcessLocked opens the log from a child process (this test
// binary again) while this process holds it.
func TestSecondProcessLocked(t *testing.T) {
	if dir := os.Getenv("PEBBLESTORE_TEST_LOCKED_DIR"); dir != "" {
		s, err := pebblestore.Open(t.Context(), dir, testOptions)
		if err == nil {
			s.Close()
			t.Fatal("open in a second process: no error")
		}
		if !errors.Is(err, store.ErrLocked) {
			t.Fatalf("open in a second process: error %v, want ErrLocked", err)
		}
		return
	}
	dir := t.TempDir()
	s := open(t, dir, testOptions)
	defer s.Close()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestSecondProcessLocked$", "-test.v")
	cmd.Env = append(os.Environ(), "PEBBLESTORE_TEST_LOCKED_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child process: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("--- PASS: TestSecondProcessLocked")) {
		t.Fatalf("child process did not run the test:\n%s", out)
	}
}

func TestOpenNotADirectory(t *testing.T) {
	_, err := pebblestore.Open(t.Context(), "/dev/null/log", testOptions)
	if err == nil || errors.Is(err, store.ErrLocked) {
		t.Fatalf("open under /dev/null: error %v, want a non-lock error", err)
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	if _, err := pebblestore.Open(t.Context(), dir+"/missing", pebblestore.Options{ReadOnly: true}); err == nil {
		t.Fatal("read-only open of a missing log: no error")
	}
	s := open(t, dir, testOptions)
	commitEntries(t, s, 0, "a", "b")
	if err := s.PutCheckpoint(t.Context(), 2, []byte("cp")); err != nil {
		t.Fatal(err)
	}
	s.Close()

	ro := open(t, dir, pebblestore.Options{ReadOnly: true})
	defer ro.Close()
	if size, st, err := ro.State(t.Context()); err != nil || size != 2 || string(st) != "state" {
		t.Fatalf("read-only state: %d %q %v", size, st, err)
	}
	if err := ro.Commit(t.Context(), &store.Batch{From: 2, Entries: [][]byte{[]byte("c")}}); err == nil {
		t.Fatal("commit to a read-only store: no error")
	}
	if err := ro.PutCheckpoint(t.Context(), 2, []byte("cp2")); err == nil {
		t.Fatal("checkpoint to a read-only store: no error")
	}
}

// TestTamper shows how tests elsewhere tamper with a closed log: open it
// with Pebble and rewrite a key named by EntryKey or TileKey.
func TestTamper(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, testOptions)
	tile := bytes.Repeat([]byte{7}, 2*store.HashSize)
	if err := s.Commit(t.Context(), &store.Batch{
		Entries: [][]byte{[]byte("entry 0"), []byte("entry 1")},
		Tiles:   []store.Tile{{Level: 0, Index: 0, Hashes: tile}},
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	db, err := pebble.Open(dir, &pebble.Options{Logger: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	flip := func(key []byte) {
		v, closer, err := db.Get(key)
		if err != nil {
			t.Fatalf("get %q: %v", key, err)
		}
		v = bytes.Clone(v)
		closer.Close()
		v[0] ^= 1
		if err := db.Set(key, v, pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	flip(pebblestore.EntryKey(1))
	flip(pebblestore.TileKey(0, 0))
	db.Close()

	s = open(t, dir, testOptions)
	defer s.Close()
	if e, err := s.Entry(t.Context(), 1); err != nil || string(e) != "dntry 1" {
		t.Fatalf("tampered entry 1: %q %v", e, err)
	}
	if h, err := s.Tile(t.Context(), 0, 0, 2); err != nil || h[0] != 6 {
		t.Fatalf("tampered tile: %x %v", h, err)
	}
}

// TestOpenChecksSize: Open refuses a log whose stored size disagrees with
// its entries or checkpoints.
func TestOpenChecksSize(t *testing.T) {
	for name, tamper := range map[string]func(db *pebble.DB) error{
		"size too large": func(db *pebble.DB) error {
			return db.Set([]byte("m/size"), binary.BigEndian.AppendUint64(nil, 3), pebble.Sync)
		},
		"size too small": func(db *pebble.DB) error {
			return db.Set([]byte("m/size"), binary.BigEndian.AppendUint64(nil, 1), pebble.Sync)
		},
		"size missing": func(db *pebble.DB) error { return db.Delete([]byte("m/size"), pebble.Sync) },
		"size garbled": func(db *pebble.DB) error { return db.Set([]byte("m/size"), []byte{2}, pebble.Sync) },
		"entry missing": func(db *pebble.DB) error {
			return db.Delete(pebblestore.EntryKey(1), pebble.Sync)
		},
		"checkpoint ahead": func(db *pebble.DB) error {
			return db.Set(pebblestore.CheckpointKey(5), []byte("cp"), pebble.Sync)
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, testOptions)
			commitEntries(t, s, 0, "a", "b")
			s.Close()
			db, err := pebble.Open(dir, &pebble.Options{Logger: discard{}})
			if err != nil {
				t.Fatal(err)
			}
			if err := tamper(db); err != nil {
				t.Fatal(err)
			}
			db.Close()
			s, err = pebblestore.Open(t.Context(), dir, testOptions)
			if err == nil {
				s.Close()
				t.Fatal("open of a log with a wrong size: no error")
			}
			if !strings.HasPrefix(err.Error(), "pebblestore: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestFormatPinned(t *testing.T) {
	dir := t.TempDir()
	open(t, dir, testOptions).Close()
	db, err := pebble.Open(dir, &pebble.Options{Logger: discard{}, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := db.FormatMajorVersion(); got != pebble.FormatValueSeparation {
		t.Fatalf("format major version %s, want %s", got, pebble.FormatValueSeparation)
	}
}

// Pebble's informational lines arrive at Debug level.
func TestLoggerGetsPebbleLines(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dir := t.TempDir()
	s := open(t, dir, pebblestore.Options{Logger: logger, CacheSize: 8 << 20})
	commitEntries(t, s, 0, "a")
	s.Close()
	open(t, dir, pebblestore.Options{Logger: logger, CacheSize: 8 << 20}).Close()
	if !strings.Contains(buf.String(), "component=pebble") {
		t.Logf("log:\n%s", buf.String())
		t.Error("no log line from Pebble reached the slog.Logger")
	}
}

type discard struct{}

func (discard) Infof(string, ...any)           {}
func (discard) Errorf(string, ...any)          {}
func (d discard) Fatalf(f string, args ...any) { panic("pebble fatal") }

// TestBlockCacheHoldsBlocks: Pebble reserves memtables in its block cache,
// and a cache no larger than the memtables once held no blocks at all, so
// every read went to the file system. The cache must keep blocks even when
// it is much smaller than a memtable.
func TestBlockCacheHoldsBlocks(t *testing.T) {
	s, err := pebblestore.Open(t.Context(), t.TempDir(), pebblestore.Options{CacheSize: 1 << 20, MemTableSize: 32 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Pebble's first memtable is 256 KiB and each one that fills doubles
	// the next, up to MemTableSize: 4 MiB of entries make the memtable
	// larger than the cache.
	const rounds, per = 40, 100
	for r := range rounds {
		b := &store.Batch{From: uint64(r * per)}
		for i := range per {
			b.Entries = append(b.Entries, fmt.Appendf(bytes.Repeat([]byte{' '}, 1000), "entry %d", r*per+i))
		}
		if err := s.Commit(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DB().Flush(); err != nil { // the rest of the memtable to a table
		t.Fatal(err)
	}
	for range 3 {
		for i := range uint64(rounds * per) {
			if _, err := s.Entry(t.Context(), i); err != nil {
				t.Fatal(err)
			}
		}
	}
	if st := s.EngineStats(); st.BlockCacheHits == 0 || st.BlockCacheBytes == 0 {
		t.Fatalf("block cache: %d hits, %d misses, %d bytes: it keeps nothing", st.BlockCacheHits, st.BlockCacheMisses, st.BlockCacheBytes)
	}
}
