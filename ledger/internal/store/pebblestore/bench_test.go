package pebblestore_test

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/pakta-id/pakta/ledger/internal/store"
	"github.com/pakta-id/pakta/ledger/internal/store/pebblestore"
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
