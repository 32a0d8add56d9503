package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/ledger/store/pebblestore"
)

// levels computes every complete node of the tree over leaves, level by
// level, the plain way: the reference the rows are checked against.
func levels(leaves [][]byte) [][][]byte {
	out := [][][]byte{leaves}
	for cur := leaves; len(cur) > 1; {
		var next [][]byte
		for i := 0; i+1 < len(cur); i += 2 {
			next = append(next, hasher.HashChildren(cur[i], cur[i+1]))
		}
		out = append(out, next)
		cur = next
	}
	return out
}

func leafN(i int) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	return hasher.HashLeaf(b[:])
}

// TestTreeRowsAndProofs appends synthetic leaves in batches whose
// boundaries fall on and around tile edges, commits them to a real Pebble
// store, and checks every stored row against the plain computation, every
// root against sumdb/tlog, and proofs with both merkle and tlog.
func TestTreeRowsAndProofs(t *testing.T) {
	total := 1100
	cuts := []int{1, 2, 3, 255, 256, 257, 511, 512, 513, 700, 1023, 1024, 1025}
	if !testing.Short() {
		total = 65537 + 300
		cuts = append(cuts, 65535, 65536, 65537)
	}
	ctx := context.Background()
	st, err := pebblestore.Open(ctx, t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	leaves := make([][]byte, total)
	for i := range leaves {
		leaves[i] = leafN(i)
	}
	tr := newTree()
	roots := map[uint64][]byte{}
	prev := 0
	for _, cut := range append(cuts, total) {
		if cut <= prev || cut > total {
			continue
		}
		tiles, err := tr.appendLeaves(leaves[prev:cut])
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Commit(ctx, &store.Batch{From: uint64(prev), Entries: make([][]byte, cut-prev), Tiles: tiles, State: tr.encode()}); err != nil {
			t.Fatal(err)
		}
		root, _ := tr.root()
		roots[uint64(cut)] = root
		// A reloaded tree (as after a restart) is the same tree.
		size, state, _ := st.State(ctx)
		re, err := decodeTree(state, size)
		if err != nil {
			t.Fatal(err)
		}
		if err := re.loadEdges(ctx, st); err != nil {
			t.Fatal(err)
		}
		if r2, _ := re.root(); !bytes.Equal(r2, root) {
			t.Fatalf("size %d: reloaded root differs", cut)
		}
		for l := range re.edges {
			if !bytes.Equal(re.edges[l], tr.edges[l]) {
				t.Fatalf("size %d: reloaded edge at level %d differs", cut, l)
			}
		}
		prev = cut
	}
	ref := levels(leaves)
	for l, nodes := range ref {
		for row := 0; row*tileWidth < len(nodes); row++ {
			end := min((row+1)*tileWidth, len(nodes))
			got, err := st.Tile(ctx, uint8(l), uint64(row), end-row*tileWidth)
			if err != nil {
				t.Fatalf("row %d/%d: %v", l, row, err)
			}
			if !bytes.Equal(got, bytes.Join(nodes[row*tileWidth:end], nil)) {
				t.Fatalf("row %d/%d differs from the reference", l, row)
			}
		}
	}
	n := newNodes(st, 64)
	rnd := rand.New(rand.NewPCG(1, 2))
	for size, root := range roots {
		th, err := tlog.TreeHash(int64(size), tlogHashes(leaves))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(th[:], root) {
			t.Fatalf("size %d: root differs from sumdb/tlog", size)
		}
		for range 20 {
			i := rnd.Uint64N(size)
			path, err := n.inclusion(ctx, i, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := proof.VerifyInclusion(hasher, i, size, leaves[i], path, root); err != nil {
				t.Fatalf("inclusion %d in %d: %v", i, size, err)
			}
			if err := tlog.CheckRecord(tlog.RecordProof(toTlog(path)), int64(size), tlog.Hash(root), int64(i), tlog.Hash(leaves[i])); err != nil {
				t.Fatalf("tlog inclusion %d in %d: %v", i, size, err)
			}
		}
		for size1, root1 := range roots {
			if size1 > size {
				continue
			}
			p, err := n.consistency(ctx, size1, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := proof.VerifyConsistency(hasher, size1, size, p, root1, root); err != nil {
				t.Fatalf("consistency %d→%d: %v", size1, size, err)
			}
			if err := tlog.CheckTree(toTlog(p), int64(size), tlog.Hash(root), int64(size1), tlog.Hash(root1)); err != nil {
				t.Fatalf("tlog consistency %d→%d: %v", size1, size, err)
			}
		}
	}
}

func toTlog(p [][]byte) tlog.TreeProof {
	out := make(tlog.TreeProof, len(p))
	for i, h := range p {
		out[i] = tlog.Hash(h)
	}
	return out
}

// tlogHashes serves sumdb/tlog's stored-hash numbering from the leaves.
func tlogHashes(leaves [][]byte) tlog.HashReaderFunc {
	ref := levels(leaves)
	return func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			level, n := tlog.SplitStoredHashIndex(x)
			out[i] = tlog.Hash(ref[level][n])
		}
		return out, nil
	}
}

// TestNodesCache checks what the proof cache keeps: rows of the upper
// levels and the right edge of the lower ones, which moves on with the
// tree; random reads below go to the store one hash at a time.
func TestNodesCache(t *testing.T) {
	ctx := context.Background()
	st, err := pebblestore.Open(ctx, t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tr := newTree()
	var leaves [][]byte
	grow := func(to int) []byte {
		from := len(leaves)
		for i := from; i < to; i++ {
			leaves = append(leaves, leafN(i))
		}
		tiles, err := tr.appendLeaves(leaves[from:])
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Commit(ctx, &store.Batch{From: uint64(from), Entries: make([][]byte, to-from), Tiles: tiles, State: tr.encode()}); err != nil {
			t.Fatal(err)
		}
		root, _ := tr.root()
		return root
	}
	n := newNodes(st, 1024)
	check := func(size uint64, root []byte, i uint64) {
		t.Helper()
		path, err := n.inclusion(ctx, i, size)
		if err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyInclusion(hasher, i, size, leaves[i], path, root); err != nil {
			t.Fatalf("inclusion %d in %d: %v", i, size, err)
		}
	}
	cached := func(level uint64) (rows []uint64) {
		for _, m := range []map[[2]uint64][]byte{n.rows, n.edge} {
			for k := range m {
				if k[0] == level {
					rows = append(rows, k[1])
				}
			}
		}
		slices.Sort(rows)
		return rows
	}

	size := uint64(70_000)
	root := grow(int(size))
	rnd := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		check(size, root, rnd.Uint64N(size))
	}
	for i := size - 600; i < size; i++ { // the newest entries, as POST answers read them
		check(size, root, i)
	}
	for k := range n.rows {
		if k[0] < cacheFromLevel {
			t.Errorf("lower row %d/%d is in the upper cache", k[0], k[1])
		}
	}
	for k := range n.edge {
		if lastRow := ((size >> k[0]) - 1) / tileWidth; k[0] >= cacheFromLevel || k[1]+edgeRows <= lastRow {
			t.Errorf("row %d/%d is in the edge cache, but the edge of its level is row %d", k[0], k[1], lastRow)
		}
	}
	if got := cached(8); len(got) != 2 { // 273 nodes
		t.Errorf("level 8 rows cached: %v, want both", got)
	}
	if got := cached(0); len(got) != edgeRows {
		t.Errorf("level 0 rows cached after reading the newest entries: %v, want %d", got, edgeRows)
	}

	// The edge moves on: rows it left are dropped, the new ones cached.
	size += 3 * tileWidth
	root = grow(int(size))
	check(size, root, size-1)
	check(size, root, size-tileWidth-1)
	last := (size - 1) / tileWidth
	got := cached(0)
	if !slices.Equal(got, []uint64{last - 1, last}) {
		t.Errorf("level 0 rows cached after the tree grew: %v, want [%d %d]", got, last-1, last)
	}
	// A proof against the older size still reads the right nodes, and
	// does not move the edge back.
	check(70_000, rootOf(t, leaves[:70_000]), 69_999)
	if got := cached(0); !slices.Equal(got, []uint64{last - 1, last}) {
		t.Errorf("level 0 rows cached after a proof at an older size: %v, want [%d %d]", got, last-1, last)
	}

	// A row at the edge first read narrow, for an older size, is read
	// again as wide as the tree allows when a position past it is asked.
	n = newNodes(st, 1024)
	check(size, root, size-1)
	old := (last-1)*tileWidth + 10
	check(old, rootOf(t, leaves[:old]), old-5)
	if got := len(n.edge[[2]uint64{0, last - 1}]); got != 10*hashSize {
		t.Fatalf("row %d cached with %d bytes after the proof at size %d, want 10 hashes", last-1, got, old)
	}
	check(size, root, old+50)
	if got := len(n.edge[[2]uint64{0, last - 1}]); got != tileWidth*hashSize {
		t.Errorf("row %d cached with %d bytes after a read past its width, want the full row", last-1, got)
	}
}

func rootOf(t *testing.T, leaves [][]byte) []byte {
	t.Helper()
	th, err := tlog.TreeHash(int64(len(leaves)), tlogHashes(leaves))
	if err != nil {
		t.Fatal(err)
	}
	return th[:]
}

// TestProofStrata: proofs whose lower nodes are computed from rows
// (nodes.lower) are the proofs read node by node, for every leaf of trees
// whose sizes fall on and around row and stratum edges, inclusion and
// consistency, with the right edge's rows cached or not, and rows lent by
// the engine or copied.
func TestProofStrata(t *testing.T) {
	ctx := context.Background()
	st, err := pebblestore.Open(ctx, t.TempDir(), pebblestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tr := newTree()
	var leaves [][]byte
	sizes := []int{1, 2, 15, 16, 17, 255, 256, 257, 4095, 4096, 4097, 4096 + 255, 4096 + 300}
	for _, size := range sizes {
		from := len(leaves)
		for i := from; i < size; i++ {
			leaves = append(leaves, leafN(i))
		}
		tiles, err := tr.appendLeaves(leaves[from:])
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Commit(ctx, &store.Batch{From: uint64(from), Entries: make([][]byte, size-from), Tiles: tiles, State: tr.encode()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, size := range sizes {
		n := uint64(size)
		// A fresh cache for each size, with the edge where this size puts
		// it, and one that has seen the largest tree (no edge rows here).
		// Rows lent by Pebble (store.TileViewer) and copied (Tile), as
		// from an engine without ViewTile.
		for _, c := range []struct {
			fresh bool
			r     store.Reader
		}{{true, st}, {false, st}, {true, struct{ store.Reader }{st}}} {
			fresh := c.fresh
			nodes := newNodes(c.r, 64)
			if !fresh {
				nodes.seen = uint64(len(leaves))
			}
			for i := uint64(0); i < n; i++ {
				p, err := proof.Inclusion(i, n)
				if err != nil {
					t.Fatal(err)
				}
				want, err := nodes.proofBy(ctx, p, n, false)
				if err != nil {
					t.Fatal(err)
				}
				got, err := nodes.proofBy(ctx, p, n, true)
				if err != nil {
					t.Fatalf("inclusion %d in %d: %v", i, n, err)
				}
				if !slices.EqualFunc(got, want, bytes.Equal) {
					t.Fatalf("inclusion %d in %d (fresh %v): by strata %x, node by node %x", i, n, fresh, got, want)
				}
			}
			for _, from := range sizes {
				if uint64(from) > n {
					continue
				}
				p, err := proof.Consistency(uint64(from), n)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := nodes.proofBy(ctx, p, n, false)
				got, err := nodes.proofBy(ctx, p, n, true)
				if err != nil || !slices.EqualFunc(got, want, bytes.Equal) {
					t.Fatalf("consistency %d→%d: by strata %x (%v), node by node %x", from, n, got, err, want)
				}
			}
		}
	}
}
