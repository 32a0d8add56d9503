package ledger

import (
	"bytes"
	"context"
	"sync/atomic"

	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/verify"
)

// held is what the sequencer had in hand for a new entry when it answered
// its caller: what its bundle carries (its meta row), and its batch, which
// holds the entry's bytes (at position at) while the batch is recent.
type held struct {
	at    int
	meta  meta
	batch *heldBatch
}

// heldBatch is what a batch leaves its entries' results once it is
// durable: the checkpoint that covered it and, while it is among the
// heldBatches most recent, its entries and rows (heldData). cp is set
// before the callers are answered and never after.
type heldBatch struct {
	log  *Log
	cp   *signedTree
	data atomic.Pointer[heldData] // nil once the batch is no longer recent
}

// heldData is a recent batch's entries and every row it wrote, each at its
// width in its checkpoint's tree. The rows alias the sequencer's right
// edge, which only ever grows past their length (or starts a new row), so
// the bytes they hold never change.
type heldData struct {
	entries [][]byte
	rows    []store.Tile
}

// heldBatches is how many of the latest batches keep their entries and
// rows for ResultBundle. An answer is built right after Append returns,
// within a batch or two; a caller that keeps its Results (a bulk import
// keeping a million) must not keep every entry and row with them: a
// Result of an older batch pins only its batch's checkpoint, and
// ResultBundle is then Bundle.
const heldBatches = 16

// hold makes w's entries and rows available to its results and drops
// those of the batch heldBatches before. It runs in write, one batch at a
// time, after the commit and before the callers are answered.
func (l *Log) hold(w *sealedBatch) {
	hb := w.held
	hb.cp = w.tree
	hb.data.Store(&heldData{entries: w.b.Entries, rows: w.b.Tiles})
	old := l.heldRing[l.heldNext]
	l.heldRing[l.heldNext] = hb
	l.heldNext = (l.heldNext + 1) % heldBatches
	if old != nil {
		old.data.Store(nil)
	}
}

// ResultBundle builds the bundle of an appended entry from what the
// sequencer held when it answered Append: the entry, the indexes of its
// enrollment and template and, while the checkpoint that covered it is
// still the latest, the rows of its batch. It reads neither the entry nor
// its meta row back, nor, in that case, the right edge's rows, which Bundle
// reads again: the answer to a POST costs less.
//
// The bundle is Bundle(res.Index), byte for byte: built against the latest
// checkpoint, or the newest witnessed one when that covers the entry. For
// a duplicate, a Result not from this log's Append, or one of a batch no
// longer among the latest (heldBatches), ResultBundle is Bundle(res.Index).
func (l *Log) ResultBundle(ctx context.Context, res Result) (*verify.Bundle, error) {
	h := res.held
	if h == nil || h.batch.log != l {
		return l.Bundle(ctx, res.Index)
	}
	d := h.batch.data.Load()
	if d == nil {
		return l.Bundle(ctx, res.Index)
	}
	// Every bundle the server returns is built against its latest
	// checkpoint (DESIGN.md), so this one too: Bundle's choice. The batch's
	// rows serve the proofs while that checkpoint is still the batch's tree
	// (or a witnessed one of the same size); under a newer tree the nodes
	// are read as Bundle reads them, and only the entry and its meta row
	// are saved.
	cp := l.latest.Load()
	if w := l.witnessedCovering(res.Index); w != nil {
		cp = w
	}
	rows := d.rows
	if cp.size != h.batch.cp.size {
		rows = nil
	}
	// The caller owns the bundle, as Bundle's; the Result keeps its own.
	return l.bundleOf(ctx, res.Index, bytes.Clone(d.entries[h.at]), h.meta, cp, rows)
}
