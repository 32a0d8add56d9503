package httpapi

import (
	"context"
	"sync"

	"github.com/pakta-id/pakta/ledger"
)

// maxReadBatch bounds the reads recorded in one write.
const maxReadBatch = 256

// readBatcher groups the records of concurrent restricted reads into one
// durable write (ledger.RecordReadsOnce), as a group commit does: a store
// may serialize its side writes, each with its own sync (Pebble's does, to
// check that a nonce is new), which made one sync per read the bound on
// the rate of reads. Every read still waits for its own record to be
// durable before it is answered, and a replayed nonce is still refused,
// one by one, by the ledger.
//
// There is no goroutine of its own: the first read to find no write in
// progress writes the queue (the leader); the reads that queue meanwhile
// wait, and when the leader's write is done the first of them leads the
// next one.
type readBatcher struct {
	l       *ledger.Log
	mu      sync.Mutex
	queue   []*pendingRead
	writing bool
}

type pendingRead struct {
	r    ledger.ReadOnce
	err  error
	lead bool          // set instead of err: write the queue
	done chan struct{} // closed when err or lead is set
}

// record records r durably with its nonce, in a write shared with the
// reads queued beside it, and returns r's own outcome.
func (b *readBatcher) record(ctx context.Context, r ledger.ReadOnce) error {
	p := &pendingRead{r: r, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, p)
	if b.writing {
		b.mu.Unlock()
		// Not on ctx: a queued read is written whatever happens to its
		// request, and the write is short.
		<-p.done
		if !p.lead {
			return p.err
		}
		b.mu.Lock()
	}
	b.writing = true
	n := min(len(b.queue), maxReadBatch)
	batch := b.queue[:n:n]
	b.queue = b.queue[n:]
	b.mu.Unlock()

	reads := make([]ledger.ReadOnce, len(batch))
	for i, q := range batch {
		reads[i] = q.r
	}
	// The batch is the others' too: the leader's cancellation must not
	// fail it.
	errs := b.l.RecordReadsOnce(context.WithoutCancel(ctx), reads)

	b.mu.Lock()
	if len(b.queue) > 0 {
		next := b.queue[0]
		next.lead = true
		close(next.done)
	} else {
		b.writing = false
	}
	b.mu.Unlock()
	// The leader is first in its batch: the queue was empty when it
	// came, or it was handed the lead as the first of the queue.
	for i, q := range batch[1:] {
		q.err = errs[i+1]
		close(q.done)
	}
	return errs[0]
}
