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
// latest (heldBatches, heldEntries), its entries and rows (heldData). cp
// is set before the callers are answered and never after.
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

// heldBatches and heldEntries bound what the latest batches keep for
// ResultBundle: at most heldBatches batches, and no more of them than fit in
// heldEntries entries (the newest batch is always kept, whatever its size).
// An answer is built right after Append returns, within a batch or two; a
// caller that keeps its Results (a bulk import keeping a million) must not
// keep every entry and row with them: a Result of an older batch pins only
// its batch's checkpoint, and ResultBundle is then Bundle.
//
// The entry bound is for a server behind on its load, whose batches are
// full (MaxBatch, 1,024): sixteen of those held some 16,000 entries, 11 MB
// of live heap that the collector doubled, in a 10 M-entry server that was
// to stay under 300 MB (BENCHMARKS.md, session 8).
const (
	heldBatches = 16
	heldEntries = 2048
)

// hold makes w's entries and rows available to its results and drops
// those of the oldest batches beyond heldBatches and heldEntries. It runs
// in write, one batch at a time, after the commit and before the callers
// are answered.
func (l *Log) hold(w *sealedBatch) {
	hb := w.held
	hb.cp = w.tree
	hb.data.Store(&heldData{entries: w.b.Entries, rows: w.b.Tiles})
	l.drop(l.heldRing[l.heldNext])
	l.heldRing[l.heldNext] = hb
	l.heldNext = (l.heldNext + 1) % heldBatches
	l.heldCount += len(w.b.Entries)
	// heldNext is now the oldest slot; the newest is the one before it.
	for i := 0; i < heldBatches-1 && l.heldCount > heldEntries; i++ {
		l.drop(l.heldRing[(l.heldNext+i)%heldBatches])
	}
}

// drop ends hb's hold on its entries and rows, if it still has one.
func (l *Log) drop(hb *heldBatch) {
	if hb == nil {
		return
	}
	if d := hb.data.Swap(nil); d != nil {
		l.heldCount -= len(d.entries)
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
// longer among the latest (heldBatches, heldEntries), ResultBundle is Bundle(res.Index).
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
