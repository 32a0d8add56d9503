package pebblestore

import (
	"fmt"
	"io"

	"github.com/cockroachdb/pebble/v2"

	"github.com/pakta-id/pakta/ledger/store"
)

// Tiles grow by their tail.
//
// A batch of a few entries adds a node or two to the partial row of every
// level of the tree, and the ledger hands Commit each such row whole (up to
// 8 KiB). Written with Set, small batches then wrote more tile bytes than
// entry bytes: every batch rewrote some 30 KiB of partial rows at a
// 20,000-entry log, through the WAL, the memtable and later compactions.
// Commit instead writes only the hashes a row gained, as a Pebble merge
// operand appended to the stored value. The merge is part of the same atomic
// batch, so a crash leaves the row at either its old or its new width, as
// with Set; a read sees the concatenation, and compactions fold the
// operands back into one value.

// tileMerger concatenates merge operands, oldest first: exactly what
// Pebble's DefaultMerger does, under the same name, so that logs written
// before (whose OPTIONS name that merger) open unchanged and any Pebble tool
// reads them alike. Pebble's own implementation copies the whole result for
// every older operand it meets, which is quadratic in the operands a
// partial row collects in the memtable (up to 255 after single-entry
// batches) and would land on the reads of the newest entries' proofs; this
// one copies each operand once.
var tileMerger = &pebble.Merger{
	Name: pebble.DefaultMerger.Name,
	Merge: func(_, value []byte) (pebble.ValueMerger, error) {
		m := &concatMerger{}
		m.newer = append(m.newer, value...)
		return m, nil
	},
}

// concatMerger holds the first operand it was given and the newer ones in
// order in newer, and the older ones, newest first, in older (their lengths
// in olderLens), until Finish puts them in order.
type concatMerger struct {
	newer     []byte
	older     []byte
	olderLens []int
}

func (m *concatMerger) MergeNewer(value []byte) error {
	m.newer = append(m.newer, value...)
	return nil
}

func (m *concatMerger) MergeOlder(value []byte) error {
	m.older = append(m.older, value...)
	m.olderLens = append(m.olderLens, len(value))
	return nil
}

func (m *concatMerger) Finish(bool) ([]byte, io.Closer, error) {
	if len(m.olderLens) == 0 {
		return m.newer, nil, nil
	}
	out := make([]byte, 0, len(m.older)+len(m.newer))
	// older holds operands newest first; walk it from its last (the
	// oldest) back to its first.
	pos := len(m.older)
	for i := len(m.olderLens) - 1; i >= 0; i-- {
		pos -= m.olderLens[i]
		out = append(out, m.older[pos:pos+m.olderLens[i]]...)
	}
	return append(out, m.newer...), nil, nil
}

// maxMerges is how many merge operands a row may collect before Commit
// writes it whole again. Until a flush folds them, a read of the row
// merges every operand since the last whole write and then steps over the
// older versions still in the memtable: a row grown by 255 single-entry
// batches cost 132 µs to read with no whole rewrite and 32 µs with one
// every 16 merges, against 1.4 µs for a row set whole each time
// (BenchmarkTileReadGrown, one run). The rewrite costs at most a sixteenth
// of a full row's bytes per batch on average.
const maxMerges = 16

// tileID names a tile in tails.
type tileID struct {
	level uint8
	index uint64
}

// tail is what Commit knows of a row it wrote: its width, and how many
// merge operands have been added since it was last written whole.
type tail struct {
	width, merges int
}

// tileWrite is one tile's write in a batch being committed: the bytes, as
// a merge or a set, and the row's state once the batch is durable.
type tileWrite struct {
	id    tileID
	bytes []byte
	merge bool
	after tail
}

// planTile decides how Commit writes t: the hashes it adds to the row as
// this Store last committed it, merged onto the stored value; or the whole
// row, set, when this Store has not written the row since Open or since a
// failed commit, or the row has collected maxMerges operands. A tile
// narrower than the row is refused: rows only grow (store.Batch), and a
// merge cannot shrink one.
//
// Only rows this Store value wrote, whole or by merges on a whole write,
// are in tails; a row read back from disk is never trusted for its width.
// A Pebble commit that fails after applying its batch to the memtable (a
// WAL sync error) leaves rows longer than the committed tree, and so can a
// crash that replays such a batch's WAL record before a later one's. So
// Open starts with no tails, a failed commit forgets them all
// (forgetTails), and the next write of each row is whole: a set replaces
// every earlier operand, stale tail included. Called with writeMu held.
func (s *Store) planTile(t store.Tile) (tileWrite, error) {
	id := tileID{t.Level, t.Index}
	w := t.Width()
	old, known := s.tails[id]
	switch {
	case known && w < old.width:
		return tileWrite{}, fmt.Errorf("tile %d/%d of %d hashes would shrink the stored row of %d", t.Level, t.Index, w, old.width)
	case known && w == old.width:
		return tileWrite{id: id, after: old}, nil // as stored: nothing to write
	case known && old.merges < maxMerges:
		return tileWrite{id: id, bytes: t.Hashes[old.width*store.HashSize:], merge: true,
			after: tail{width: w, merges: old.merges + 1}}, nil
	default:
		return tileWrite{id: id, bytes: t.Hashes, after: tail{width: w}}, nil
	}
}

// noteTails records the rows a committed batch wrote. Full rows are
// forgotten: nothing grows them again, so tails holds about one row per
// level of the tree. Called with writeMu held.
func (s *Store) noteTails(writes []tileWrite) {
	if s.tails == nil {
		s.tails = make(map[tileID]tail)
	}
	for _, tw := range writes {
		if tw.after.width < store.TileWidth {
			s.tails[tw.id] = tw.after
		} else {
			delete(s.tails, tw.id)
		}
	}
}

// forgetTails makes the next write of every row whole; see planTile.
func (s *Store) forgetTails() { clear(s.tails) }
