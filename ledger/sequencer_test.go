package ledger

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/ledger/store/pebblestore"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// failingStore fails the Commits that fail picks, writing nothing, as a
// store may (a lost database connection): the one fault a real Pebble
// cannot produce on demand.
type failingStore struct {
	store.Store
	fail func(b *store.Batch) bool
}

var errInjected = errors.New("injected commit failure")

func (s *failingStore) Commit(ctx context.Context, b *store.Batch) error {
	if s.fail(b) {
		// As slow as a timeout, so that the next batch is being built
		// on this one when it fails.
		time.Sleep(20 * time.Millisecond)
		return errInjected
	}
	return s.Store.Commit(ctx, b)
}

// TestCommitFailureUnderLoad: commits fail now and then while many callers
// append, each failure while the next batch is already being built on top
// of the one that failed. Every caller gets its entry or the failure; no
// acknowledged entry is lost or changed, the batch built on the failed one
// is sequenced again, and the log audits clean.
func TestCommitFailureUnderLoad(t *testing.T) {
	if onPostgres() {
		t.Skip("injects faults around the embedded engine")
	}
	e := newEnv(t, nil)
	const n = 240
	keys := make([]*pledge.PrivateKey, n)
	for i := range keys {
		keys[i], _ = e.enroll(person(i))
	}
	e.log.Close()
	st, err := pebblestore.Open(context.Background(), e.dir, pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var commits atomic.Int64
	fs := &failingStore{Store: st, fail: func(*store.Batch) bool { return commits.Add(1)%4 == 0 }}
	if e.log, err = New(context.Background(), fs, e.cfg); err != nil {
		t.Fatal(err)
	}
	jws := make([][]byte, n)
	for i := range jws {
		jws[i] = e.sign(e.pledgeStatement(person(i), "Pemilu 2024"), keys[i])
	}
	results := make([]Result, n)
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 48 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				results[i], errs[i] = e.log.Append(context.Background(), jws[i])
			}
		}()
	}
	wg.Wait()
	failed := 0
	seen := map[uint64]int{}
	for i, err := range errs {
		if err != nil {
			if !errors.Is(err, errInjected) {
				t.Fatalf("pledge %d: %v, want the injected failure", i, err)
			}
			failed++
			continue
		}
		if j, dup := seen[results[i].Index]; dup {
			t.Fatalf("pledges %d and %d both got index %d", j, i, results[i].Index)
		}
		seen[results[i].Index] = i
	}
	if failed == 0 || failed == n {
		t.Fatalf("%d of %d appends failed: the test injected nothing useful", failed, n)
	}
	// What failed was not written: resubmitted, it is logged anew.
	fs.fail = func(*store.Batch) bool { return false }
	for i, err := range errs {
		if err != nil {
			res := e.append(jws[i])
			if res.Duplicate {
				t.Fatalf("pledge %d: refused with a failed commit, yet a duplicate on resubmission (index %d)", i, res.Index)
			}
			results[i] = res
		}
	}
	for i, res := range results {
		r, _ := verify.VerifyBytes(e.bundle(res.Index), e.Policy, nil)
		if !r.Passed() {
			t.Fatalf("pledge %d at %d: %s", i, res.Index, r.Text())
		}
		if again := e.append(jws[i]); !again.Duplicate || again.Index != res.Index {
			t.Fatalf("pledge %d: resubmitted, %+v; want a duplicate of %d", i, again, res.Index)
		}
	}
	_, size := e.log.Checkpoint()
	if want := uint64(2*n + 1); size != want { // the template, n enrollments, n pledges
		t.Fatalf("size %d, want %d", size, want)
	}
	e.log.Close()
	sum, err := e.audit(context.Background(), e.Policy)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Size != size {
		t.Fatalf("audit saw %d entries, want %d", sum.Size, size)
	}
	e.log = nil
	t.Logf("%d of %d appends hit a failed commit; %d commits", failed, n, commits.Load())
}

// TestDuplicatesAcrossBatches: the same statement submitted by many callers
// at once lands in several batches, some while the first is still being
// written: exactly one entry, every caller told its index.
func TestDuplicatesAcrossBatches(t *testing.T) {
	e := newEnv(t, nil)
	const people, callers = 6, 40
	jws := make([][]byte, people)
	for i := range jws {
		k, _ := e.enroll(person(500 + i))
		jws[i] = e.sign(e.pledgeStatement(person(500+i), "Pemilu 2024"), k)
	}
	type answer struct {
		res Result
		err error
	}
	answers := make([][]answer, people)
	var wg sync.WaitGroup
	for p := range people {
		answers[p] = make([]answer, callers)
		for c := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := e.log.Append(context.Background(), jws[p])
				answers[p][c] = answer{res, err}
			}()
		}
	}
	wg.Wait()
	for p := range people {
		first := 0
		for c, a := range answers[p] {
			if a.err != nil {
				t.Fatalf("person %d caller %d: %v", p, c, a.err)
			}
			if !a.res.Duplicate {
				first++
			}
			if a.res.Index != answers[p][0].res.Index {
				t.Fatalf("person %d: indexes %d and %d", p, a.res.Index, answers[p][0].res.Index)
			}
		}
		if first != 1 {
			t.Fatalf("person %d: %d callers were told theirs is the first entry, want 1", p, first)
		}
	}
	if s := e.log.Stats(); s.Batches < 2 {
		t.Logf("only %d batches: the race this test is for did not happen", s.Batches)
	}
}

// TestBatchCarriesItsCheckpoint: the checkpoint is written with its batch:
// every committed size has its checkpoint, with no gap to recover.
func TestBatchCarriesItsCheckpoint(t *testing.T) {
	e := newEnv(t, nil)
	for i := range 5 {
		k, _ := e.enroll(person(600 + i))
		e.append(e.sign(e.pledgeStatement(person(600+i), "Pemilu 2024"), k))
	}
	size, state, err := e.log.st.State(context.Background())
	if err != nil || state == nil {
		t.Fatal(size, err)
	}
	latest, signed, err := e.log.st.LatestCheckpoint(context.Background())
	if err != nil || latest != size {
		t.Fatalf("latest checkpoint %d (%v), committed size %d", latest, err, size)
	}
	if mine, _ := e.log.Checkpoint(); !bytes.Equal(mine, signed) {
		t.Fatal("the log's latest checkpoint is not the stored one")
	}
}
