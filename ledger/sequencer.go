package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// sequence is the single writer. It works in two stages that overlap: this
// goroutine takes submissions off the queue and applies the rules to each
// as it arrives, building the next batch, while at most one earlier batch
// is being written. A batch is sealed (its leaves added to the tree, its
// checkpoint signed) and handed to a writer as soon as none is in flight:
// at once for a lone caller, who pays one sync and no timer; under load,
// when the batch in flight is durable, with everything that arrived
// meanwhile, so that a crowd fills the next batch while the disk is busy.
// Entries, rows, tiles, tree state and checkpoint go in one commit: one
// sync per batch.
func (l *Log) sequence() {
	defer close(l.done)
	ctx := context.Background()
	var (
		cur      *building        // the batch being built, nil when none
		last     *overlay         // the rows of the batch in flight
		inflight chan error       // the outcome of the batch in flight, nil when none
		linger   <-chan time.Time // Config.MaxDelay, when set
	)
	take := func(r *request) {
		l.pending.Add(-1)
		if cur == nil {
			cur = l.newBuilding(last)
			if inflight == nil && l.cfg.MaxDelay > 0 {
				linger = time.After(l.cfg.MaxDelay)
			}
		}
		l.add(ctx, cur, r)
	}
	// finished takes the outcome of the batch in flight. If it failed
	// without stopping the log (nothing was written), cur was built on a
	// tree that does not exist: the tree is reloaded and cur's submissions
	// sequenced again.
	finished := func(err error) {
		inflight, last = nil, nil
		if err != nil {
			cur = l.rebuild(ctx, cur)
		}
	}
	settle := func() {
		if inflight != nil {
			finished(<-inflight)
		}
	}
	launch := func() {
		cur.ov.prev = nil // the batch it was built on is durable
		if w := l.seal(cur); w != nil {
			done := make(chan error, 1)
			go func() { done <- l.write(ctx, w) }()
			inflight, last = done, cur.ov
		}
		cur, linger = nil, nil
	}
	full := func() bool { return cur != nil && len(cur.reqs) >= l.cfg.MaxBatch }
	for {
		if cur != nil && inflight == nil && (linger == nil || full()) {
			launch()
		}
		queue := l.queue
		if full() {
			queue = nil // wait for the batch in flight
		}
		select {
		case r := <-queue:
			take(r)
			// Whatever is queued already joins this batch.
		drain:
			for !full() {
				select {
				case r := <-l.queue:
					take(r)
				default:
					break drain
				}
			}
		case err := <-inflight:
			finished(err)
		case <-linger:
			linger = nil
		case <-l.closing:
			// Sequence what was accepted before Close, then stop.
			for {
				select {
				case r := <-l.queue:
					if full() {
						settle()
						launch()
					}
					take(r)
					continue
				default:
				}
				break
			}
			settle()
			if cur != nil {
				launch()
				settle()
			}
			return
		}
	}
}

// building is a batch being built: the submissions taken, the rules'
// outcome for each, and what the accepted ones will write.
type building struct {
	reqs     []*request
	results  []result
	accepted []int // indexes in reqs of the entries in b
	ov       *overlay
	b        store.Batch
	leaves   [][]byte
	now      time.Time // logged_at of every entry of the batch
	start    time.Time
	held     *heldBatch // filled in once the batch is durable
}

func (l *Log) newBuilding(prev *overlay) *building {
	now := l.cfg.Clock().UTC().Truncate(time.Millisecond)
	if ms := now.UnixMilli(); ms < l.tree.lastLoggedAt {
		now = time.UnixMilli(l.tree.lastLoggedAt).UTC() // logged_at never decreases
	}
	return &building{
		ov:    &overlay{st: l.st, recent: l.recent, prev: prev, rows: make(map[string][]byte), stmts: make(map[uint64]pledge.Statement)},
		b:     store.Batch{From: l.tree.size()},
		now:   now,
		start: time.Now(),
		held:  &heldBatch{log: l},
	}
}

// add applies the rules to r as the next entry of bb. A refusal is answered
// at once: it does not depend on the commit.
func (l *Log) add(ctx context.Context, bb *building, r *request) {
	bb.reqs = append(bb.reqs, r)
	bb.results = append(bb.results, result{})
	i := len(bb.reqs) - 1
	if errp := l.failed.Load(); errp != nil {
		bb.results[i] = result{err: *errp}
		return
	}
	index := bb.b.Size()
	out, err := l.rules.accept(ctx, bb.ov, r.v, r.dedup, index, bb.now)
	if err == nil && !out.duplicate {
		var entry []byte
		entry, err = verify.MarshalEntry(verify.Entry{LoggedAt: bb.now, JWS: r.raw})
		if err != nil {
			err = fmt.Errorf("%w: %w", ErrInvalid, err)
		} else {
			bb.ov.put(out.rows)
			bb.ov.stmts[index] = r.v.Statement
			bb.b.Rows = append(bb.b.Rows, out.rows...)
			bb.b.Entries = append(bb.b.Entries, entry)
			h := verify.LeafHash(entry)
			bb.leaves = append(bb.leaves, h[:])
			bb.results[i] = result{res: Result{Index: index, LoggedAt: bb.now, held: &held{at: len(bb.b.Entries) - 1, meta: out.meta, batch: bb.held}}}
			bb.accepted = append(bb.accepted, i)
			return
		}
	}
	if err != nil {
		r.done <- result{err: err}
		bb.reqs[i] = nil // answered
		return
	}
	// A duplicate is answered with its batch: the earlier entry may be in
	// this batch or the one in flight, not yet durable.
	bb.results[i] = result{res: Result{Index: out.index, Duplicate: true}}
}

// rebuild sequences bb's submissions again on a reloaded tree, after the
// batch in flight (on which bb was built) failed to commit.
func (l *Log) rebuild(ctx context.Context, bb *building) *building {
	if l.failed.Load() == nil {
		if err := l.reload(ctx); err != nil {
			l.fail(fmt.Errorf("ledger: a commit failed and reloading the tree failed: %w", err))
		}
	}
	if bb == nil {
		return nil
	}
	nb := l.newBuilding(nil)
	for _, r := range bb.reqs {
		if r != nil {
			l.add(ctx, nb, r)
		}
	}
	return nb
}

// sealedBatch is a batch ready to be written: the tree already includes it
// and its checkpoint is signed.
type sealedBatch struct {
	*building
	tree *signedTree
}

// seal adds bb's leaves to the tree and signs the checkpoint that covers
// them. It answers bb's callers itself, and returns nil, when there is
// nothing to write or it cannot be written.
func (l *Log) seal(bb *building) *sealedBatch {
	if len(bb.b.Entries) == 0 {
		l.answer(bb, nil)
		return nil
	}
	// Measured afresh before the write: the tree is as it was, and every
	// caller of the batch is refused.
	if err := l.disk.room(batchBytes(&bb.b), true); err != nil {
		l.log.Warn("batch refused: the disk is below the reserve", "from", bb.b.From, "entries", len(bb.b.Entries), "err", err)
		l.answer(bb, err)
		return nil
	}
	t, err := l.extend(&bb.b, bb.leaves, bb.now)
	if err != nil {
		l.log.Error("sealing a batch failed", "from", bb.b.From, "entries", len(bb.b.Entries), "err", err)
		l.answer(bb, err)
		return nil
	}
	return &sealedBatch{building: bb, tree: t}
}

// write commits a sealed batch and answers its callers. A failed commit
// wrote nothing; the sequencer reloads the tree.
func (l *Log) write(ctx context.Context, w *sealedBatch) error {
	err := l.store(ctx, &w.b, w.tree)
	if err != nil {
		l.log.Error("commit failed", "from", w.b.From, "entries", len(w.b.Entries), "err", err)
	} else {
		// The callers' results hold the batch's checkpoint, entries and
		// rows from now on (ResultBundle); they read them once answered.
		l.hold(w)
		// A pledge usually follows its key's enrollment within seconds,
		// and names a template published before: have the key ready for
		// the resolver, and both statements parsed for the rules.
		for _, i := range w.accepted {
			switch st := w.reqs[i].v.Statement.(type) {
			case *pledge.Enrollment:
				l.cacheKey(st.JWK)
				l.rules.parsed.put(w.results[i].res.Index, st)
			case *pledge.Template:
				l.rules.parsed.put(w.results[i].res.Index, st)
			}
		}
	}
	l.answer(w.building, err)
	return err
}

// answer sends every caller of bb still waiting its result, or err for the
// accepted ones when the batch was not written.
func (l *Log) answer(bb *building, err error) {
	appended := len(bb.b.Entries)
	if err != nil {
		for _, i := range bb.accepted {
			bb.results[i] = result{err: err}
		}
		appended = 0
	}
	l.stats.observe(len(bb.reqs), appended, time.Since(bb.start))
	for i, r := range bb.reqs {
		if r != nil {
			r.done <- bb.results[i]
		}
	}
}

// extend adds a batch's leaves to the tree (owned by the sequencer) and
// signs the checkpoint of the new tree, which goes in b.
func (l *Log) extend(b *store.Batch, leaves [][]byte, now time.Time) (*signedTree, error) {
	tiles, err := l.tree.appendLeaves(leaves)
	if err != nil {
		return nil, l.fail(err)
	}
	l.tree.lastLoggedAt = now.UnixMilli()
	b.Tiles, b.State = tiles, l.tree.encode()
	root, err := l.tree.root()
	if err != nil {
		return nil, l.fail(err)
	}
	size := l.tree.size()
	signed, err := l.sign(size, root)
	if err != nil {
		return nil, l.fail(err)
	}
	if l.cfg.afterCommit == nil {
		b.Checkpoint = signed
	}
	return &signedTree{size: size, root: root, signed: signed}, nil
}

// store commits an extended batch with its checkpoint and makes that the
// latest. A Commit error means nothing was written; any later failure
// stops the log.
func (l *Log) store(ctx context.Context, b *store.Batch, t *signedTree) error {
	if err := l.st.Commit(ctx, b); err != nil {
		return fmt.Errorf("ledger: committing entries %d to %d: %w", b.From, b.Size()-1, err)
	}
	l.recent.put(b.Rows)
	if l.cfg.afterCommit != nil {
		// The checkpoint apart from its batch, as logs wrote them before
		// they went in one commit: what reopening must still recover.
		if err := l.cfg.afterCommit(); err != nil {
			return l.fail(err)
		}
		if err := l.st.PutCheckpoint(ctx, t.size, t.signed); err != nil {
			// The entries are durable but not covered by a checkpoint:
			// stop sequencing; reopening the log signs it.
			return l.fail(fmt.Errorf("ledger: storing the checkpoint for size %d: %w", t.size, err))
		}
	}
	l.published(t)
	return nil
}

// commit extends the tree with a batch and writes it, synchronously: for
// building logs in benchmarks, with the sequencer idle.
func (l *Log) commit(ctx context.Context, b *store.Batch, leaves [][]byte, now time.Time) error {
	t, err := l.extend(b, leaves, now)
	if err != nil {
		return err
	}
	if err := l.store(ctx, b, t); err != nil {
		if l.failed.Load() == nil {
			if rerr := l.reload(ctx); rerr != nil {
				return l.fail(fmt.Errorf("ledger: commit failed (%w) and reloading the tree failed: %w", err, rerr))
			}
		}
		return err
	}
	return nil
}

// fail stops the sequencer for good after a failure it cannot undo.
func (l *Log) fail(err error) error {
	l.failed.CompareAndSwap(nil, &err)
	return err
}

func (l *Log) reload(ctx context.Context) error {
	size, state, err := l.st.State(ctx)
	if err != nil {
		return err
	}
	t, err := decodeTree(state, size)
	if err != nil {
		return err
	}
	if err := t.loadEdges(ctx, l.st); err != nil {
		return err
	}
	l.tree = t
	return nil
}
