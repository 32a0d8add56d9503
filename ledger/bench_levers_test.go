package ledger

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/transparency-dev/merkle/proof"
)

// BenchmarkBundleLevers1M measures each lever of the bundle's read path off
// and on, on one 1,000,000-entry log (100,000 with -short), in one run:
// builds of that log take minutes, and on a shared machine only
// measurements taken side by side compare. Each configuration runs
// leverRounds times, interleaved; every run draws its own random entries,
// so that none reads what the run before it left in the cache. Strip the
// "#NN" suffixes of the names to compare them with benchstat.
//
//   - proof/strata: an inclusion proof's lower nodes from two rows
//     (nodes.lower) or one node read per level, as before.
func BenchmarkBundleLevers1M(b *testing.B) {
	n := uint64(1_000_000)
	if testing.Short() {
		n = 100_000
	}
	e := bigLog(b, int(n))
	ctx := context.Background()
	seed := uint64(100)
	rnd := func() *rand.Rand {
		seed++
		return rand.New(rand.NewPCG(seed, 7))
	}
	for range leverRounds {
		for _, strata := range []bool{false, true} {
			b.Run(fmt.Sprintf("proof/strata=%v", strata), func(b *testing.B) {
				r := rnd()
				for b.Loop() {
					i := r.Uint64N(n)
					p, err := proof.Inclusion(i, n)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := e.log.nodes.proofBy(ctx, p, n, strata); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

const leverRounds = 5
