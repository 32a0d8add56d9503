package pebblestore_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"testing"

	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/ledger/store/pebblestore"
)

// BenchmarkCommit measures synced commits of batches shaped like the
// ledger's: n entries of 1 KiB, 3 rows per entry (a dedup key and two
// secondary indexes), and the level-0 tiles the batch touches plus the
// level-1 tile above them. One op is one Commit; entries/s is the figure to
// compare with FACTS.md. The bare variant writes entries only, like the
// FACTS.md ceiling (176,000 entries/s for synced batches of 1,000 × 1 KiB).
func BenchmarkCommit(b *testing.B) {
	for _, n := range []int{1, 64, 256, 1024} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) { benchmarkCommit(b, n, false) })
	}
	b.Run("entries=1024/bare", func(b *testing.B) { benchmarkCommit(b, 1024, true) })
}

func benchmarkCommit(b *testing.B, n int, bare bool) {
	const entrySize = 1 << 10
	// A pool of random entries, so that compression does not flatter.
	pool := make([][]byte, 4096)
	for i := range pool {
		pool[i] = make([]byte, entrySize)
		rand.Read(pool[i])
	}
	hashes := make([]byte, store.TileWidth*store.HashSize)
	rand.Read(hashes)

	s, err := pebblestore.Open(b.Context(), b.TempDir(), pebblestore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()

	var size uint64
	batch := func() *store.Batch {
		bt := &store.Batch{From: size, State: hashes[:20*store.HashSize]}
		for i := range uint64(n) {
			idx := size + i
			e := pool[idx%uint64(len(pool))]
			bt.Entries = append(bt.Entries, e)
			if bare {
				continue
			}
			v := binary.BigEndian.AppendUint64(nil, idx)
			bt.Rows = append(bt.Rows,
				store.Row{Key: append(append([]byte("d/"), e[:24]...), v...), Value: v},
				store.Row{Key: append([]byte("i/nip/nip/196501011990031001/"), v...)},
				store.Row{Key: append([]byte("i/date/2024-02-14/"), v...)},
			)
		}
		if bare {
			return bt
		}
		to := size + uint64(n)
		for t := size / store.TileWidth; t <= (to-1)/store.TileWidth; t++ {
			w := min(to-t*store.TileWidth, store.TileWidth)
			bt.Tiles = append(bt.Tiles, store.Tile{Level: 0, Index: t, Hashes: hashes[:w*store.HashSize]})
		}
		top := (to - 1) / store.TileWidth
		w := top%store.TileWidth + 1
		bt.Tiles = append(bt.Tiles, store.Tile{Level: 1, Index: top / store.TileWidth, Hashes: hashes[:w*store.HashSize]})
		return bt
	}

	b.SetBytes(int64(n * entrySize))
	for b.Loop() {
		if err := s.Commit(b.Context(), batch()); err != nil {
			b.Fatal(err)
		}
		size += uint64(n)
	}
	b.ReportMetric(float64(size)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkLookup measures the sequencer's point reads on a store shaped
// like a grown log (1 KiB random entries, a dedup row keyed by a hash, a
// meta row and tiles per entry), with the ledger's 64 MiB block cache, for
// each choice of bloom filters: a dedup check that misses (the common case:
// a new statement), one that hits, and an entry read.
func BenchmarkLookup(b *testing.B) {
	n := 500_000
	if testing.Short() {
		n = 50_000
	}
	for _, c := range []struct {
		name  string
		cache int64
		f     pebblestore.Filters
	}{
		// The configuration before memtables were added to the cache:
		// a 64 MiB cache filled by two 32 MiB memtables held no blocks.
		{"cache=none/filters=none", 1, pebblestore.FiltersNone},
		{"cache=64MiB/filters=none", 64 << 20, pebblestore.FiltersNone},
		{"cache=64MiB/filters=upper", 64 << 20, pebblestore.FiltersUpper},
		{"cache=64MiB/filters=all", 64 << 20, pebblestore.FiltersAll},
	} {
		b.Run(c.name, func(b *testing.B) {
			s, err := pebblestore.Open(b.Context(), b.TempDir(), pebblestore.Options{CacheSize: c.cache, MemTableSize: 32 << 20, Filters: c.f})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			fillLookup(b, s, n)
			defer func() {
				m := s.DB().Metrics()
				b.Logf("%s: block cache %d hits, %d misses", c.name, m.BlockCache.Hits, m.BlockCache.Misses)
			}()
			b.Run("miss", func(b *testing.B) {
				i := uint64(0)
				for b.Loop() {
					i++
					if _, err := s.Get(b.Context(), dedupKey(i, 1)); !errors.Is(err, store.ErrNotFound) {
						b.Fatal(err)
					}
				}
			})
			b.Run("hit", func(b *testing.B) {
				r := mrand.New(mrand.NewPCG(1, 2)) // seeded: runs compare
				for b.Loop() {
					i := r.Uint64N(uint64(n))
					if v, err := s.Get(b.Context(), dedupKey(i, 0)); err != nil || v == nil {
						b.Fatal(v, err)
					}
				}
			})
			b.Run("entry", func(b *testing.B) {
				r := mrand.New(mrand.NewPCG(1, 2)) // seeded: runs compare
				for b.Loop() {
					i := r.Uint64N(uint64(n))
					if _, err := s.Entry(b.Context(), i); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// dedupKey is a hash-like row key for entry i (salt 1: one never written).
func dedupKey(i uint64, salt byte) []byte {
	h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte{salt}, i))
	return append([]byte("p"), h[:]...)
}

func fillLookup(b *testing.B, s *pebblestore.Store, n int) {
	b.Helper()
	pool := make([][]byte, 4096)
	for i := range pool {
		pool[i] = make([]byte, 1<<10)
		rand.Read(pool[i])
	}
	hashes := make([]byte, store.TileWidth*store.HashSize)
	rand.Read(hashes)
	const chunk = 1024
	for from := uint64(0); from < uint64(n); from += chunk {
		bt := &store.Batch{From: from, State: hashes[:20*store.HashSize]}
		for i := from; i < from+chunk; i++ {
			v := binary.BigEndian.AppendUint64(nil, i)
			bt.Entries = append(bt.Entries, pool[i%uint64(len(pool))])
			bt.Rows = append(bt.Rows,
				store.Row{Key: dedupKey(i, 0), Value: v},
				store.Row{Key: append([]byte("m"), v...), Value: []byte{'p', 0, 0, 0, 0, 0, 0, 0, 0, 1}},
			)
		}
		for t := from / store.TileWidth; t < (from+chunk)/store.TileWidth; t++ {
			bt.Tiles = append(bt.Tiles, store.Tile{Level: 0, Index: t, Hashes: hashes})
		}
		if err := s.Commit(b.Context(), bt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTileReadGrown reads a row that single-hash commits grew to
// width (the worst case of tail writes: a lone client, no flush yet, so the
// memtable holds every version), against the same row set whole at every
// step as Commit did before tail writes. It is what the proof of a new
// entry pays on the right edge.
func BenchmarkTileReadGrown(b *testing.B) {
	for _, width := range []int{16, 128, 255} {
		for _, how := range []string{"tail", "whole"} {
			b.Run(fmt.Sprintf("width=%d/%s", width, how), func(b *testing.B) {
				s, err := pebblestore.Open(b.Context(), b.TempDir(), pebblestore.Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				hashes := make([]byte, width*store.HashSize)
				rand.Read(hashes)
				for w := 1; w <= width; w++ {
					if how == "whole" {
						if err := s.DB().Set(pebblestore.TileKey(0, 0), hashes[:w*store.HashSize], nil); err != nil {
							b.Fatal(err)
						}
						continue
					}
					bt := &store.Batch{From: uint64(w - 1), Entries: [][]byte{{1}},
						Tiles: []store.Tile{{Level: 0, Index: 0, Hashes: hashes[:w*store.HashSize]}}}
					if err := s.Commit(b.Context(), bt); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				for range b.N {
					if err := s.ViewTile(b.Context(), 0, 0, width, func([]byte) error { return nil }); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
