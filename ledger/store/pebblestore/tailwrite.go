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

// tileID names a tile in tailWidths.
type tileID struct {
	level uint8
	index uint64
}

// tileTail returns what Commit writes for t: the hashes t adds to the
// stored row, and whether they are a merge rather than a set of the whole
// row. stored is the row's width as this Store last committed it, from
// tailWidths, or 0 to write the whole row. A tile narrower than that is
// refused: rows only grow (store.Batch), and a merge cannot shrink a row.
func tileTail(t store.Tile, stored int) (tail []byte, merge bool, err error) {
	w := t.Width()
	switch {
	case w < stored:
		return nil, false, fmt.Errorf("tile %d/%d of %d hashes would shrink the stored row of %d", t.Level, t.Index, w, stored)
	case stored == 0:
		return t.Hashes, false, nil
	default:
		return t.Hashes[stored*store.HashSize:], true, nil
	}
}

// noteWidths records the widths a committed batch left its tiles at. Full
// rows are forgotten: nothing grows them again, so tailWidths holds about
// one row per level of the tree. Called with writeMu held.
//
// Only rows this Store value wrote, whole or by merges on a whole write,
// are in tailWidths, and a row not in it is written whole (a Set replaces
// every earlier operand). A row read back from disk is never trusted for
// its width: a Pebble commit that fails after applying its batch to the
// memtable (a WAL sync error) leaves rows longer than the committed tree,
// and so can a crash that replays such a batch's WAL record before a later
// one's. So Open starts with no widths, and a failed commit forgets them
// all (forgetWidths): the next write of each row is whole, which also
// overwrites any such stale tail.
func (s *Store) noteWidths(tiles []store.Tile) {
	if s.tailWidths == nil {
		s.tailWidths = make(map[tileID]int)
	}
	for _, t := range tiles {
		id := tileID{t.Level, t.Index}
		if w := t.Width(); w < store.TileWidth {
			s.tailWidths[id] = w
		} else {
			delete(s.tailWidths, id)
		}
	}
}

// forgetWidths makes the next write of every row whole; see noteWidths.
func (s *Store) forgetWidths() { clear(s.tailWidths) }
