package ledger

import (
	"bytes"
	"context"
	"sync"

	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/verify"
)

// held is what the sequencer had in hand for a new entry when it answered
// its caller: the entry's bytes, what its bundle carries (its meta row)
// and its batch.
type held struct {
	entry []byte
	meta  meta
	batch *heldBatch
}

// heldBatch is what a batch leaves its entries' results once it is
// durable: the checkpoint that covered it (the same *signedTree the log
// published, so that the shared template evidence is shared with Bundle's)
// and every row it wrote, each at its width in that checkpoint's tree.
// The rows alias the sequencer's right edge, which only ever grows past
// their length (or starts a new row), so the bytes they hold never change.
// cp and rows are set before the callers are answered and never after.
type heldBatch struct {
	log  *Log
	cp   *signedTree
	rows []store.Tile

	// templates is the evidence of the templates the batch's pledges
	// carry, under cp, built by the first answer that needs it. The log's
	// sharedProofs serves Bundle under the latest checkpoint; under load
	// the answers of two batches interleave, and a cache of one
	// checkpoint would be emptied by each in turn.
	mu        sync.Mutex
	templates map[uint64]*verify.EntryProof
}

// templateProof is entry index (a template) with its proof under hb.cp,
// from the batch's cache when another answer built it. The caller owns
// the returned value.
func (hb *heldBatch) templateProof(ctx context.Context, index uint64) (*verify.EntryProof, error) {
	hb.mu.Lock()
	ep, ok := hb.templates[index]
	hb.mu.Unlock()
	if !ok {
		var err error
		if ep, err = hb.log.entryProof(ctx, index, hb.cp, hb.rows); err != nil {
			return nil, err
		}
		hb.mu.Lock()
		if hb.templates == nil {
			hb.templates = make(map[uint64]*verify.EntryProof)
		}
		if len(hb.templates) < maxSharedProofs {
			hb.templates[index] = ep
		}
		hb.mu.Unlock()
	}
	return &verify.EntryProof{Entry: bytes.Clone(ep.Entry), Proof: ep.Proof}, nil
}

// ResultBundle builds the bundle of an appended entry from what the
// sequencer held when it answered Append: the entry, the checkpoint that
// covered it, the rows of its batch and the indexes of its enrollment and
// template. It reads only the enrollment's entry and the proofs' nodes
// outside those rows, where Bundle reads the entry and its meta row back
// and reads the right edge's rows again: the answer to a POST costs less.
//
// The bundle is the one Bundle(res.Index) gives while the checkpoint that
// covered the append is the latest, byte for byte: it is built against
// that checkpoint, or, as Bundle does, against the newest witnessed one
// when that covers the entry. A later checkpoint signed meanwhile is not
// used: the answer proves the entry under the checkpoint that made it
// durable. For a duplicate, or a Result not from this log's Append,
// ResultBundle is Bundle(res.Index).
func (l *Log) ResultBundle(ctx context.Context, res Result) (*verify.Bundle, error) {
	h := res.held
	if h == nil || h.batch.log != l || h.batch.cp == nil {
		return l.Bundle(ctx, res.Index)
	}
	cp := h.batch.cp
	if w := l.witnessedCovering(res.Index); w != nil {
		if w.size != cp.size {
			return l.Bundle(ctx, res.Index)
		}
		cp = w // the same tree with its cosignatures: the rows still serve
	}
	// The caller owns the bundle, as Bundle's; the Result keeps its own.
	return l.bundleOf(ctx, res.Index, bytes.Clone(h.entry), h.meta, cp, h.batch)
}
