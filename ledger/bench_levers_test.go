package ledger

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/transparency-dev/merkle/proof"

	"github.com/pakta-id/pakta/ledger/store"
)

// BenchmarkBundleLevers1M measures each lever of the bundle's read path off
// and on, on one 1,000,000-entry log (100,000 with -short), in one run:
// builds of that log take minutes, and on a shared machine only
// measurements taken side by side compare. Each configuration runs
// leverRounds times, interleaved; every run draws its own random entries,
// so that none reads what the run before it left in the cache. Strip the
// "#NN" suffixes of the names to compare them with benchstat.
//
//   - proof/rows: an inclusion proof's lower nodes read one per level
//     (none), as before; or computed from two rows (nodes.fromRows),
//     copied by Store.Tile (copied) or lent by the engine without a copy
//     (lent), as Log does with Pebble.
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
	// The lever configurations, each with a cache of its own: Store.Node
	// for every lower node as before strata; rows copied (Store.Tile); rows
	// lent by the engine (store.TileViewer), as Log uses.
	copied := struct{ store.Reader }{e.log.st} // hides ViewTile
	configs := []struct {
		name   string
		nodes  *nodes
		strata bool
	}{
		{"proof/rows=none", newNodes(e.log.st, 1024), false},
		{"proof/rows=copied", newNodes(copied, 1024), true},
		{"proof/rows=lent", newNodes(e.log.st, 1024), true},
	}
	for range leverRounds {
		for _, c := range configs {
			b.Run(c.name, func(b *testing.B) {
				r := rnd()
				for b.Loop() {
					i := r.Uint64N(n)
					p, err := proof.Inclusion(i, n)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := c.nodes.proofBy(ctx, p, n, c.strata); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

const leverRounds = 5
