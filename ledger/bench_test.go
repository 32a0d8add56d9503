package ledger

import (
	"context"
	"crypto"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pakta-id/pakta/ledger/internal/logtest"
	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// presign enrolls people employees and signs perPerson pledges each (one
// per election), outside any timer.
func presign(b *testing.B, e *env, people, perPerson int) [][]byte {
	b.Helper()
	var jws [][]byte
	for i := range people {
		p := person(i) // distinct NIPs for i < 1998
		k, _ := e.enroll(p)
		for j := range perPerson {
			jws = append(jws, e.sign(e.pledgeStatement(p, fmt.Sprintf("Pilkada %d", j)), k))
		}
	}
	return jws
}

// appendCallers is how many goroutines append at once: a signing assembly
// has hundreds of people submitting together. Signatures are checked in the
// callers, so they must outnumber a batch for verification to overlap the
// previous batch's fsync.
const appendCallers = 512

// BenchmarkAppend: durable appends of pre-signed EdDSA pledges by
// appendCallers concurrent callers, at several batch limits. Reports
// entries/s and the mean batch.
func BenchmarkAppend(b *testing.B) {
	for _, batch := range []int{1, 64, 256, 1024} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			benchAppend(b, appendCallers, func(c *Config) { c.MaxBatch = batch })
		})
	}
}

// BenchmarkAppendClients: durable appends of pre-signed EdDSA pledges by
// C concurrent callers, each waiting for its signed checkpoint, at the
// default settings: the in-process half of the comparison with Tessera
// (issue 21), where C is the number of writers of tessera-bench. Reports
// entries/s and the mean batch.
func BenchmarkAppendClients(b *testing.B) {
	for _, clients := range []int{1, 8, 64, 256} {
		b.Run(fmt.Sprintf("c=%d", clients), func(b *testing.B) { benchAppend(b, clients, nil) })
	}
}

// BenchmarkAppendLinger: BenchmarkAppendClients with Config.MaxDelay, the
// optional wait for more submissions before a batch that found none in
// flight is written.
func BenchmarkAppendLinger(b *testing.B) {
	for _, clients := range []int{8, 64, 256} {
		for _, d := range []time.Duration{0, 250 * time.Microsecond, time.Millisecond} {
			b.Run(fmt.Sprintf("c=%d/delay=%s", clients, d), func(b *testing.B) {
				benchAppend(b, clients, func(c *Config) { c.MaxDelay = d })
			})
		}
	}
}

// benchAppend appends b.N pre-signed pledges with clients concurrent
// callers on a log configured by mod, and reports entries/s and the mean
// batch.
func benchAppend(b *testing.B, clients int, mod func(*Config)) {
	benchAppendThen(b, clients, mod, nil)
}

// benchAppendThen is benchAppend with then, when not nil, called by the
// caller after each append (timed with it).
func benchAppendThen(b *testing.B, clients int, mod func(*Config), then func(e *env, res Result) error) {
	e := newEnv(b, mod)
	jws := presign(b, e, 64, (b.N+63)/64)
	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				res, err := e.log.Append(context.Background(), jws[i])
				if err == nil && then != nil {
					err = then(e, res)
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	s := e.log.Stats()
	b.ReportMetric(float64(s.Appended)/float64(s.Batches), "entries/batch")
	if es := e.log.StorageStats(); es.WALBytes > 0 {
		b.ReportMetric(float64(es.WALBytes)/float64(s.Appended), "wal-B/entry")
		b.ReportMetric(float64(es.BytesWritten)/float64(s.Appended), "written-B/entry")
	}
}

// bigLog builds a log of n entries straight through the store (the same
// tree and row code as Append, without signing a million pledges): entry 0
// is an enrollment, every other entry the same pledge logged at a distinct
// instant (distinct bytes, so distinct leaves and tile rows), each with a
// meta row. It is for measuring reads, so the meta rows point at a
// pseudo-random earlier entry as "the enrollment": in a real log each
// person's enrollment is somewhere else in the log, and its proof reads
// cold nodes too. (Pointing them all at entry 0 made that proof a hot set.)
func bigLog(b *testing.B, n int) *env {
	e := newEnv(b, nil)
	p := person(1)
	key, _ := e.enroll(p)
	pl := e.sign(e.pledgeStatement(p, "Pemilu 2024"), key)
	e.log.Close()
	l, err := Open(context.Background(), e.dir, e.cfg)
	if err != nil {
		b.Fatal(err)
	}
	// Drive the sequencer's own commit with synthetic batches.
	ctx := context.Background()
	const chunk = 4096
	// The sequencer goroutine owns the tree, but it is idle: no Append runs
	// while the log is being built.
	for from := l.tree.size(); from < uint64(n); from += chunk {
		k := min(uint64(chunk), uint64(n)-from)
		bt := &store.Batch{From: from}
		leaves := make([][]byte, k)
		at := logtest.Morning.Add(time.Duration(from+k) * time.Millisecond)
		for i := range k {
			idx := from + i
			entry, err := verify.MarshalEntry(verify.Entry{LoggedAt: logtest.Morning.Add(time.Duration(idx) * time.Millisecond), JWS: pl})
			if err != nil {
				b.Fatal(err)
			}
			m := meta{Type: 'p', HasEnroll: true, Enrollment: idx * 0x9E3779B97F4A7C15 % idx}.encode()
			bt.Entries = append(bt.Entries, entry)
			bt.Rows = append(bt.Rows, store.Row{Key: metaKey(idx), Value: m})
			h := verify.LeafHash(entry)
			leaves[i] = h[:]
		}
		if err := l.commit(ctx, bt, leaves, at); err != nil {
			b.Fatal(err)
		}
	}
	e.log = l
	return e
}

// BenchmarkBundle1M: the inclusion proofs and bundle (pledge + enrollment
// evidence) for a random entry of a 1,000,000-entry log.
func BenchmarkBundle1M(b *testing.B) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	e := bigLog(b, n)
	ctx := context.Background()
	r := benchRand()
	b.ResetTimer()
	for b.Loop() {
		i := 1 + r.Uint64N(uint64(n)-1)
		bu, err := e.log.Bundle(ctx, i)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bu.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInclusionProof1M: one inclusion proof in a 1,000,000-entry log.
func BenchmarkInclusionProof1M(b *testing.B) {
	n := uint64(1_000_000)
	if testing.Short() {
		n = 100_000
	}
	e := bigLog(b, int(n))
	ctx := context.Background()
	r := benchRand()
	b.ResetTimer()
	for b.Loop() {
		i := r.Uint64N(n)
		if _, err := e.log.InclusionProof(ctx, i, n); err != nil {
			b.Fatal(err)
		}
	}
}

// benchRand is the source of the read benchmarks' random indexes: seeded,
// so runs compare, and uniform over the log. (A multiplicative congruence
// reduced mod n, used before, cycled through 836 indexes of a million: it
// measured a hot set, not random reads.)
func benchRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

func maxRSS() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024 // KiB → MiB
}

// BenchmarkVerifyCeiling: signature checks alone (pledge.Verify with the
// log's resolver) on every core. Append cannot beat this; compare the two
// in one run.
func BenchmarkVerifyCeiling(b *testing.B) {
	e := newEnv(b, nil)
	jws := presign(b, e, 64, 16)
	opts := e.log.verifyOptions()
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := pledge.Verify(jws[int(next.Add(1))%len(jws)], opts); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkVerifyCeilingBareJose: go-jose alone (parse + EdDSA verify) on
// every core, on the same pledges: the floor under pledge.Verify.
func BenchmarkVerifyCeilingBareJose(b *testing.B) {
	e := newEnv(b, nil)
	jws := presign(b, e, 64, 16)
	keys := make([]crypto.PublicKey, len(jws))
	for i, j := range jws {
		v, err := pledge.Verify(j, e.log.verifyOptions())
		if err != nil {
			b.Fatal(err)
		}
		keys[i] = v.Signers[0].Key.Key()
	}
	algs := []jose.SignatureAlgorithm{jose.EdDSA}
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1)) % len(jws)
			obj, err := jose.ParseSignedCompact(string(jws[i]), algs)
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := obj.Verify(keys[i]); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkAcceptPledge: the sequencer's rules for one pledge (reads of
// the dedup, key, registrar, template and latest-pledge rows), with the
// durable row cache and without it (every row from Pebble): the cost the
// single sequencer goroutine pays per entry before it writes.
func BenchmarkAcceptPledge(b *testing.B) {
	e := newEnv(b, nil)
	const people = 512
	jws := presign(b, e, people, 1)
	vs := make([]*pledge.Verified, len(jws))
	for i, j := range jws {
		v, err := pledge.Verify(j, e.log.verifyOptions())
		if err != nil {
			b.Fatal(err)
		}
		vs[i] = v
	}
	_, size := e.log.Checkpoint()
	now := e.clock.Now()
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("cache=%v", on), func(b *testing.B) {
			recent := e.log.recent
			if !on {
				recent = nil
			}
			ctx := context.Background()
			var ov *overlay
			i := 0
			for b.Loop() {
				if i%people == 0 {
					ov = &overlay{st: e.log.st, recent: recent, rows: map[string][]byte{}, stmts: map[uint64]pledge.Statement{}}
				}
				out, err := e.log.rules.accept(ctx, ov, vs[i%people], nil, size+uint64(i%people), now)
				if err != nil || out.duplicate {
					b.Fatal(err, out.duplicate)
				}
				ov.put(out.rows)
				i++
			}
		})
	}
}

// BenchmarkBundleSharedTemplate: a random pledge's bundle in a log of 1,000
// people's enrollments and pledges under one template, with the template's
// entry and proof kept per checkpoint and with them built afresh for every
// bundle (the cache emptied each time).
func BenchmarkBundleSharedTemplate(b *testing.B) {
	e := newEnv(b, nil)
	const people = 1000
	var pledges []uint64
	for _, j := range presign(b, e, people, 1) {
		pledges = append(pledges, e.append(j).Index)
	}
	ctx := context.Background()
	for _, shared := range []bool{false, true} {
		b.Run(fmt.Sprintf("shared=%v", shared), func(b *testing.B) {
			r := benchRand()
			for b.Loop() {
				if !shared {
					e.log.shared.mu.Lock()
					e.log.shared.cp = nil
					e.log.shared.mu.Unlock()
				}
				bu, err := e.log.Bundle(ctx, pledges[r.IntN(len(pledges))])
				if err != nil {
					b.Fatal(err)
				}
				if _, err := bu.Marshal(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPostAnswer: the answer to an append (what POST /v1/entries
// sends: the new entry's bundle, marshalled), built right after each
// append by Bundle (read back from the store) or by ResultBundle (from
// what the sequencer held). Only the answer is timed; the appends, one
// batch each, move the right edge between answers as a server's do.
func BenchmarkPostAnswer(b *testing.B) {
	for _, answer := range []string{"Bundle", "ResultBundle"} {
		b.Run("answer="+answer, func(b *testing.B) {
			e := newEnv(b, nil)
			jws := presign(b, e, 64, (b.N+63)/64)
			ctx := context.Background()
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				res, err := e.log.Append(ctx, jws[i])
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				var bu *verify.Bundle
				if answer == "Bundle" {
					bu, err = e.log.Bundle(ctx, res.Index)
				} else {
					bu, err = e.log.ResultBundle(ctx, res)
				}
				if err != nil {
					b.Fatal(err)
				}
				if _, err := bu.Marshal(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPostAnswerClients: C concurrent callers each append a pledge
// and build its answer (bundle + Marshal), as POST /v1/entries does, by
// Bundle or ResultBundle; reports entries/s (appends and answers timed
// together).
func BenchmarkPostAnswerClients(b *testing.B) {
	for _, clients := range []int{32} {
		for _, answer := range []string{"Bundle", "ResultBundle"} {
			b.Run(fmt.Sprintf("c=%d/answer=%s", clients, answer), func(b *testing.B) {
				benchAppendThen(b, clients, nil, func(e *env, res Result) error {
					var bu *verify.Bundle
					var err error
					if answer == "Bundle" {
						bu, err = e.log.Bundle(context.Background(), res.Index)
					} else {
						bu, err = e.log.ResultBundle(context.Background(), res)
					}
					if err == nil {
						_, err = bu.Marshal()
					}
					return err
				})
			})
		}
	}
}
