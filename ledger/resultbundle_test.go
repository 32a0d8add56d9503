package ledger

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/pakta-id/pakta/ledger/internal/logtest"
	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// resultBundle is ResultBundle's answer for res, as JSON.
func (e *env) resultBundle(res Result) []byte {
	e.t.Helper()
	return e.marshal(e.log.ResultBundle(context.Background(), res))
}

// TestResultBundle: the bundle built from an append's result is the one
// Bundle gives, byte for byte, for every kind of entry and for duplicates,
// and it verifies.
func TestResultBundle(t *testing.T) {
	x5c, root := x5cKey(t, "7601")
	e := newEnv(t, withRoots(t, root))
	ctx := context.Background()
	key := seedKey(t, "result bundle")
	revoked := seedKey(t, "result bundle revoked")
	budi := pledge.Person{Scheme: pledge.SchemeNIP, ID: "198001012005011005", Name: "Budi Santoso", Agency: pledge.Agency{Code: "7601", Name: "Pemerintah Kabupaten Mamuju"}, Employment: pledge.PNS}
	var once []byte
	pledgeJWS := func() []byte {
		if once == nil {
			once = e.sign(e.PledgeStatement(person(801), logtest.Election), key)
		}
		return once
	}
	tests := []struct {
		name      string
		jws       func() []byte
		duplicate bool
	}{
		{"template", func() []byte { return e.Template(logtest.Election) }, false},
		{"enrollment", func() []byte { return e.enrollment(person(801), key, e.Registrar) }, false},
		{"pledge with its key's enrollment and template", pledgeJWS, false},
		{"the same pledge again", pledgeJWS, true},
		{"certificate-backed pledge: no enrollment", func() []byte { return e.sign(e.PledgeStatement(budi, logtest.Election), x5c) }, false},
		{"second enrollment", func() []byte { return e.enrollment(person(802), revoked, e.Registrar) }, false},
		{"revocation with the revoked key's enrollment", func() []byte {
			return e.sign(&pledge.Revocation{Type: pledge.TypeRevocation, KID: revoked.KeyID(), Reason: "ponsel hilang"}, e.Registrar)
		}, false},
		{"template of another election", func() []byte { return e.Template("Pilkada 2024") }, false},
		{"pledge under the second template", func() []byte { return e.sign(e.PledgeStatement(person(801), "Pilkada 2024"), key) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.log.Append(ctx, tt.jws())
			if err != nil {
				t.Fatal(err)
			}
			if res.Duplicate != tt.duplicate {
				t.Fatalf("duplicate %v, want %v", res.Duplicate, tt.duplicate)
			}
			got, want := e.resultBundle(res), e.bundle(res.Index)
			if !bytes.Equal(got, want) {
				t.Fatalf("ResultBundle differs from Bundle:\n%s\n%s", got, want)
			}
			if r, err := verify.VerifyBytes(got, e.cfg.Policy, nil); err != nil || !r.Passed() {
				t.Fatalf("%v %s", err, r.Text())
			}
			// The caller owns the bundle: changing it changes no later one.
			b, _ := e.log.ResultBundle(ctx, res)
			b.Entry[0] ^= 1
			if again := e.resultBundle(res); !bytes.Equal(again, want) {
				t.Fatal("a caller's change reached the next bundle")
			}
		})
	}
	// Once the log has grown, the result's bundle moves on to the latest
	// checkpoint with Bundle's (DESIGN.md: every bundle the server returns
	// is built against its latest checkpoint), though its batch is held.
	first := e.append(e.Template("Pemilu 2029"))
	e.append(e.Template("Pemilu 2034"))
	if first.held.batch.data.Load() == nil {
		t.Fatal("the batch of a result two batches old is no longer held")
	}
	if got := e.resultBundle(first); !bytes.Equal(got, e.bundle(first.Index)) {
		t.Fatal("a result's bundle after the log grew is not Bundle's under the latest checkpoint")
	}
	// Once heldBatches later batches are written, a Result no longer holds
	// its batch's entries and rows (a caller may keep millions): its
	// bundle is Bundle's.
	for n := range heldBatches {
		e.append(e.Template(fmt.Sprintf("Pemilu %d", 2040+n)))
	}
	if first.held.batch.data.Load() != nil {
		t.Fatalf("the batch of entry %d still holds its entries %d batches later", first.Index, heldBatches)
	}
	if got := e.resultBundle(first); !bytes.Equal(got, e.bundle(first.Index)) {
		t.Fatal("an old result's bundle is not Bundle's")
	}
	// A Result not from Append (or from another log) is Bundle's.
	if got := e.resultBundle(Result{Index: first.Index}); !bytes.Equal(got, e.bundle(first.Index)) {
		t.Fatal("a bare Result's bundle is not Bundle's")
	}
	other := newEnv(t, nil)
	other.publish(logtest.Election)
	if got := other.resultBundle(Result{Index: 0, held: first.held}); !bytes.Equal(got, other.bundle(0)) {
		t.Fatal("another log's Result was used")
	}
}

// answer is one concurrent caller's append and, built at once as a
// server does, its bundle (got) and, for a new entry, Bundle's under the
// same checkpoint (want), when its batch still held its entries and rows
// (held) and no other checkpoint was published meanwhile (stable); rows
// says the proofs came from the batch's rows (its checkpoint was the
// latest).
type answer struct {
	res                Result
	got, want          []byte
	held, stable, rows bool
	err                error
}

func (e *env) appendAndAnswer(jws []byte) (a answer) {
	ctx := context.Background()
	if a.res, a.err = e.log.Append(ctx, jws); a.err != nil {
		return a
	}
	if a.res.held != nil {
		a.held = a.res.held.batch.data.Load() != nil
	}
	before := e.log.latest.Load()
	b, err := e.log.ResultBundle(ctx, a.res)
	if err != nil {
		a.err = err
		return a
	}
	a.stable = e.log.latest.Load() == before
	if a.got, a.err = b.Marshal(); a.err != nil {
		return a
	}
	a.held = a.held && a.res.held.batch.data.Load() != nil
	if !a.held || !a.stable {
		return a
	}
	h := a.res.held
	a.rows = before.size == h.batch.cp.size
	entry, err := e.log.st.Entry(ctx, a.res.Index)
	if err != nil {
		a.err = err
		return a
	}
	if b, a.err = e.log.bundleOf(ctx, a.res.Index, entry, h.meta, before, nil); a.err == nil {
		a.want, a.err = b.Marshal()
	}
	return a
}

// TestResultBundleConcurrent: many callers at once, so that batches hold
// several entries, each entry's proof needs rows of its own batch and of
// earlier ones, and a duplicate lands in the same batch as its original:
// every answer built at once is the one Bundle builds under the same
// checkpoint, byte for byte.
func TestResultBundleConcurrent(t *testing.T) {
	e := newEnv(t, nil)
	e.publish(logtest.Election)
	const people = 96
	answers := make([][]answer, people)
	var wg sync.WaitGroup
	for n := range people {
		key := seedKey(t, fmt.Sprintf("concurrent %d", n))
		enr := e.enrollment(person(900+n), key, e.Registrar)
		p := e.sign(e.PledgeStatement(person(900+n), logtest.Election), key)
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := e.appendAndAnswer(enr)
			answers[n] = append(answers[n], a)
			if a.err != nil {
				return
			}
			var inner sync.WaitGroup
			got := make([]answer, 2) // the same pledge twice at once
			for i := range got {
				inner.Add(1)
				go func() {
					defer inner.Done()
					got[i] = e.appendAndAnswer(p)
				}()
			}
			inner.Wait()
			answers[n] = append(answers[n], got...)
		}()
	}
	wg.Wait()
	batched, compared, fromRows := false, 0, 0
	for n, as := range answers {
		if len(as) != 3 {
			t.Fatalf("person %d: %+v", n, as)
		}
		dups := 0
		for _, a := range as {
			if a.err != nil {
				t.Fatalf("person %d: %v", n, a.err)
			}
			if r, err := verify.VerifyBytes(a.got, e.cfg.Policy, nil); err != nil || !r.Passed() {
				t.Fatalf("entry %d: %v %s", a.res.Index, err, r.Text())
			}
			if a.res.Duplicate {
				dups++
				continue
			}
			if !a.held || !a.stable {
				continue
			}
			compared++
			cp := a.res.held.batch.cp
			if a.rows {
				fromRows++
				if cp.size > a.res.Index+1 {
					batched = true
				}
			}
			if !bytes.Equal(a.got, a.want) {
				t.Fatalf("entry %d: ResultBundle differs from Bundle under the latest checkpoint (its batch's: %d):\n%s\n%s", a.res.Index, cp.size, a.got, a.want)
			}
		}
		if dups != 1 {
			t.Fatalf("person %d: %d duplicates of one pledge sent twice", n, dups)
		}
	}
	// Answers are built at once; one whose batch was dropped first (16
	// batches later) is Bundle's, and rare; one that saw a checkpoint
	// published while it was built is compared by verifying only.
	if compared == 0 || fromRows == 0 {
		t.Fatalf("of %d new entries, %d answers compared with Bundle's, %d built from their batch's rows", 2*people, compared, fromRows)
	}
	t.Logf("of %d new entries, %d answers compared with Bundle's, %d built from their batch's rows", 2*people, compared, fromRows)
	if !batched {
		t.Log("no batch held more than one entry: the right-edge rows were not shared")
	}
}

// TestResultBundleWitnessed: with witnesses, a result's bundle takes the
// witnessed checkpoint when one covers the entry, as Bundle does.
func TestResultBundleWitnessed(t *testing.T) {
	f := logtest.New(t, testOrigin, seedPrefix)
	w1 := startWitness(t, "w1.test/witness", f.VKey)
	e := witnessEnv(t, f, 1, w1)
	p := person(3)
	key, _ := e.enroll(p)
	res := e.append(e.sign(e.pledgeStatement(p, "Pemilu 2024"), key))
	waitWitnessed(t, e.log, res.Index+1)
	got, want := e.resultBundle(res), e.bundle(res.Index)
	if !bytes.Equal(got, want) {
		t.Fatalf("ResultBundle differs from Bundle:\n%s\n%s", got, want)
	}
	if r, err := verify.VerifyBytes(got, e.cfg.Policy, nil); err != nil || !r.Passed() {
		t.Fatalf("%v %s", err, r.Text())
	}
	// The log grows and the witnesses cosign the larger tree: the result's
	// bundle is Bundle's, under the witnessed checkpoint.
	e.pledgeOf(4)
	_, size := e.log.Checkpoint()
	waitWitnessed(t, e.log, size)
	if got, want := e.resultBundle(res), e.bundle(res.Index); !bytes.Equal(got, want) {
		t.Fatalf("after the witnesses moved on, ResultBundle differs from Bundle:\n%s\n%s", got, want)
	}
}

// TestHeldBound checks which batches keep their entries for ResultBundle:
// the newest always, whatever its size, and older ones while the batches
// held number at most heldBatches and hold at most heldEntries entries.
func TestHeldBound(t *testing.T) {
	e := newEnv(t, nil)
	var batches []*heldBatch
	hold := func(n int) {
		hb := &heldBatch{log: e.log}
		e.log.hold(&sealedBatch{building: &building{held: hb, b: store.Batch{Entries: make([][]byte, n)}}})
		batches = append(batches, hb)
	}
	held := func() (kept []int) {
		for i, hb := range batches {
			if hb.data.Load() != nil {
				kept = append(kept, i)
			}
		}
		return kept
	}
	for _, c := range []struct {
		name string
		add  []int
		want []int // indexes of the batches (since the start) still held
	}{
		{"small batches: the latest heldBatches", []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}},
		{"a batch over the entry bound: only it", []int{heldEntries + 1}, []int{18}},
		{"then full batches: as many as fit", []int{1024, 1024, 1024}, []int{20, 21}},
		{"one entry past the bound drops the oldest", []int{1}, []int{21, 22}},
	} {
		for _, n := range c.add {
			hold(n)
		}
		if got := held(); !slices.Equal(got, c.want) {
			t.Errorf("%s: batches %v held, want %v", c.name, got, c.want)
		}
		count := 0
		for _, i := range held() {
			count += len(batches[i].data.Load().entries)
		}
		if count != e.log.heldCount {
			t.Errorf("%s: %d entries held, the log counts %d", c.name, count, e.log.heldCount)
		}
	}
}
