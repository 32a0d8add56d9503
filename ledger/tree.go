package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/pakta-id/pakta/ledger/store"
)

// Tiles: the log keeps every level of the Merkle tree as rows of 256 hashes
// (store level = tree level). C2SP tlog-tiles serves tree levels 0, 8, 16, …
// as tile levels 0, 1, 2, …; the levels in between make an inclusion proof a
// handful of reads rather than hundreds of hashes, at the cost of storing
// one extra hash per leaf.
const (
	tileWidth  = store.TileWidth
	hashSize   = store.HashSize
	tileHeight = 8
	maxLevels  = 64
	// cacheFromLevel is the lowest level whose rows nodes keeps in memory.
	cacheFromLevel = tileHeight
)

var (
	hasher       = rfc6962.DefaultHasher
	rangeFactory = &compact.RangeFactory{Hash: hasher.HashChildren}
)

// tree is the right edge of the Merkle tree, owned by the sequencer: the
// compact range of all leaves, the partial row at every level, and the last
// logged_at (which never decreases).
type tree struct {
	rng          *compact.Range
	edges        [maxLevels][]byte
	lastLoggedAt int64 // Unix milliseconds
}

func newTree() *tree { return &tree{rng: rangeFactory.NewEmptyRange(0)} }

func (t *tree) size() uint64 { return t.rng.End() }

func (t *tree) root() ([]byte, error) {
	if t.size() == 0 {
		return hasher.EmptyRoot(), nil
	}
	return t.rng.GetRootHash(nil)
}

const stateVersion = 1

// encode is the opaque state the store keeps beside the size: version,
// last logged_at, size, and the compact range's hashes.
func (t *tree) encode() []byte {
	hs := t.rng.Hashes()
	b := make([]byte, 0, 1+8+8+1+len(hs)*hashSize)
	b = append(b, stateVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(t.lastLoggedAt))
	b = binary.BigEndian.AppendUint64(b, t.size())
	b = append(b, byte(len(hs)))
	for _, h := range hs {
		b = append(b, h...)
	}
	return b
}

func decodeTree(b []byte, size uint64) (*tree, error) {
	if b == nil && size == 0 {
		return newTree(), nil
	}
	if len(b) < 18 || b[0] != stateVersion {
		return nil, fmt.Errorf("ledger: stored tree state is malformed (%d bytes)", len(b))
	}
	last := int64(binary.BigEndian.Uint64(b[1:]))
	if got := binary.BigEndian.Uint64(b[9:]); got != size {
		return nil, fmt.Errorf("ledger: stored tree state is for size %d, but the committed size is %d", got, size)
	}
	n := int(b[17])
	rest := b[18:]
	if len(rest) != n*hashSize {
		return nil, fmt.Errorf("ledger: stored tree state has %d bytes of hashes, want %d", len(rest), n*hashSize)
	}
	hs := make([][]byte, n)
	for i := range hs {
		hs[i] = rest[i*hashSize : (i+1)*hashSize]
	}
	rng, err := rangeFactory.NewRange(0, size, hs)
	if err != nil {
		return nil, fmt.Errorf("ledger: stored tree state: %w", err)
	}
	return &tree{rng: rng, lastLoggedAt: last}, nil
}

// loadEdges reads the partial row of every level from the store.
func (t *tree) loadEdges(ctx context.Context, r store.Reader) error {
	size := t.size()
	for level := 0; level < maxLevels && size>>level > 0; level++ {
		n := size >> level // complete nodes at this level
		w := int(n % tileWidth)
		if w == 0 {
			continue
		}
		b, err := r.Tile(ctx, uint8(level), n/tileWidth, w)
		if err != nil {
			return fmt.Errorf("ledger: reading the right edge at level %d (tile %d width %d): %w", level, n/tileWidth, w, err)
		}
		t.edges[level] = b
	}
	return nil
}

// appendLeaves adds leaf hashes to the tree and returns every row that
// gained a node, each at its new width.
func (t *tree) appendLeaves(leaves [][]byte) ([]store.Tile, error) {
	var tiles []store.Tile
	touched := make(map[[2]uint64]int)
	visit := func(id compact.NodeID, h []byte) {
		l, row, pos := id.Level, id.Index/tileWidth, id.Index%tileWidth
		if pos == 0 {
			t.edges[l] = make([]byte, 0, tileWidth*hashSize)
		}
		t.edges[l] = append(t.edges[l], h...)
		key := [2]uint64{uint64(l), row}
		if i, ok := touched[key]; ok {
			tiles[i].Hashes = t.edges[l]
		} else {
			touched[key] = len(tiles)
			tiles = append(tiles, store.Tile{Level: uint8(l), Index: row, Hashes: t.edges[l]})
		}
		if pos == tileWidth-1 {
			t.edges[l] = nil // full: written above, never touched again
		}
	}
	for _, h := range leaves {
		if err := t.rng.Append(h, visit); err != nil {
			return nil, fmt.Errorf("ledger: extending the tree: %w", err)
		}
	}
	return tiles, nil
}

// nodes reads node hashes from the stored rows, keeping in memory the rows
// that proofs keep coming back to: those of the upper levels
// (cacheFromLevel and up) and, below, the last edgeRows rows of each level.
// Every proof reads one node per level. A row up there covers at least
// 65,536 entries, so a few hundred rows serve every proof of a
// ten-million-entry log. The right edge is where the proofs of new entries
// read (every POST answers with the new entry's bundle). Any other lower
// row is one of tens of thousands and a random read rarely meets it again:
// caching those rows (8 KiB each, copied whole) made most of a cold read's
// garbage and of the server's live heap, for a hit rate near the cache's
// share of them, so they are not kept: a proof reads the two rows its
// lower nodes come from (see stratum) and drops them, and a lone lower
// node is read one hash at a time (Store.Node), from the storage engine's
// block cache when hot. (At a million entries a 32 MiB cache of them held
// half and made proofs twice as fast; the memory was given up for the
// server's 300 MB at ten million: see BENCHMARKS.md.)
//
// A node never changes once complete, so a cached row, full or partial, is
// good for every position it holds; a position past it reads the row
// again, as wide as the tree then allows.
type nodes struct {
	st       store.Reader
	mu       sync.Mutex
	rows     map[[2]uint64][]byte // upper rows, at most maxCache
	edge     map[[2]uint64][]byte // lower rows at the right edge, at most edgeRows per level
	maxCache int
	seen     uint64 // the largest tree size asked about: where the right edge is
}

// edgeRows is how many rows at the right edge of each lower level are
// cached.
const edgeRows = 2

func newNodes(st store.Reader, maxRows int) *nodes {
	return &nodes{st: st, rows: make(map[[2]uint64][]byte), edge: make(map[[2]uint64][]byte), maxCache: maxRows}
}

// atEdge reports whether row is among the last edgeRows rows of level in
// the largest tree seen. Call with n.mu held.
func (n *nodes) atEdge(level uint, row uint64) bool {
	return row+edgeRows > ((n.seen>>level)-1)/tileWidth
}

// hash returns the hash of node id in a tree of at least size leaves.
func (n *nodes) hash(ctx context.Context, id compact.NodeID, size uint64) ([]byte, error) {
	if id.Index >= size>>id.Level {
		return nil, fmt.Errorf("ledger: node %d/%d is not complete in a tree of %d", id.Level, id.Index, size)
	}
	row, pos := id.Index/tileWidth, int(id.Index%tileWidth)
	b, err := n.row(ctx, id.Level, row, pos+1, size)
	if err != nil {
		return nil, fmt.Errorf("ledger: reading node %d/%d: %w", id.Level, id.Index, err)
	}
	if b == nil {
		h, err := n.st.Node(ctx, uint8(id.Level), id.Index)
		if err != nil {
			return nil, fmt.Errorf("ledger: reading node %d/%d: %w", id.Level, id.Index, err)
		}
		return h, nil
	}
	// Capped, so that a caller appending to a proof hash cannot write into
	// a cached row.
	return b[pos*hashSize : (pos+1)*hashSize : (pos+1)*hashSize], nil
}

// row returns row (level, index) holding at least need hashes, from the
// cache or the store, in a tree of at least size leaves, whose nodes up to
// need must be complete. A lower row away from the right edge is not
// cached, and for it row returns nil: the caller reads what it needs of it
// (Store.Node, store.TileViewer) without copying the row.
func (n *nodes) row(ctx context.Context, level uint, index uint64, need int, size uint64) ([]byte, error) {
	complete := size >> level // complete nodes at this level
	key := [2]uint64{uint64(level), index}
	lower := level < cacheFromLevel
	cache := n.rows
	if lower {
		cache = n.edge
	}
	n.mu.Lock()
	b := cache[key]
	n.seen = max(n.seen, size)
	keep := !lower || n.atEdge(level, index)
	n.mu.Unlock()
	if len(b) >= need*hashSize {
		return b, nil
	}
	if !keep {
		return nil, nil
	}
	width := int(min(complete-index*tileWidth, tileWidth))
	b, err := n.st.Tile(ctx, uint8(level), index, width)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(b) <= len(cache[key]) {
		return b, nil // a wider copy came first
	}
	if lower && !n.atEdge(level, index) {
		return b, nil // the edge moved on while this row was read
	}
	if lower {
		for k := range n.edge { // a few rows: the edge has moved on from some
			if k[0] == key[0] && k[1]+edgeRows <= index {
				delete(n.edge, k)
			}
		}
	} else if len(n.rows) >= n.maxCache {
		// Drop about a tenth, at random (map order): cheap, and the
		// upper rows, read by every proof, come straight back.
		drop := n.maxCache/10 + 1
		for k := range n.rows {
			delete(n.rows, k)
			if drop--; drop == 0 {
				break
			}
		}
	}
	cache[key] = b
	return b, nil
}

// stratum is how many lower levels a proof takes from one row: a proof's
// nodes at levels 0–3 are computed from one row of level 0, those at levels
// 4–7 from one row of level 4. A proof of an entry away from the right edge
// has one node at each of those levels, all under the same row, so two row
// reads (and at most 22 hashes, about 4 µs) replace eight node reads: at a
// million entries those rows are not in memory, and each read was a
// storage-engine lookup of several microseconds, most of a proof's time.
// (Computing all eight levels from level 0 would take 247 hashes, more
// than the reads it saves; the stored levels 1–3 and 5–7 are still written
// and served as tiles.)
const stratum = 4

// stratumRow is the row of a stratum's base level that a lower node's
// descendants at that level lie in: an aligned run of fewer than a row's
// nodes (span < stratum ≤ tileHeight), so all in one row, and complete
// since the node is.
type stratumRow struct {
	level uint
	index uint64
}

// under returns the row of node id's stratum that holds its descendants,
// their position there, and how many there are (a power of two).
func under(id compact.NodeID) (r stratumRow, pos, count int) {
	base := id.Level - id.Level%stratum
	first := id.Index << (id.Level - base)
	return stratumRow{base, first / tileWidth}, int(first % tileWidth), 1 << (id.Level - base)
}

// fromRows sets hs[i] to the hash of every lower node ids[i] that shares
// its stratum's row with another node of ids, in a tree of at least size
// leaves, reading each such row once. It leaves the others as they were,
// and skips the nodes whose hs[i] is already set.
func (n *nodes) fromRows(ctx context.Context, ids []compact.NodeID, size uint64, hs [][]byte) error {
	type group struct {
		row   stratumRow
		nodes int
		need  int // hashes of the row the nodes need
	}
	var groups []group
	for i, id := range ids {
		if id.Level >= cacheFromLevel || hs[i] != nil {
			continue
		}
		if id.Index >= size>>id.Level {
			return fmt.Errorf("ledger: node %d/%d is not complete in a tree of %d", id.Level, id.Index, size)
		}
		r, pos, count := under(id)
		at := slices.IndexFunc(groups, func(g group) bool { return g.row == r })
		if at < 0 {
			at = len(groups)
			groups = append(groups, group{row: r})
		}
		groups[at].nodes++
		groups[at].need = max(groups[at].need, pos+count)
	}
	for _, g := range groups {
		if g.nodes < 2 {
			continue // one node: Store.Node reads it without the row
		}
		err := n.viewRow(ctx, g.row, g.need, size, func(b []byte) error {
			for i, id := range ids {
				if id.Level >= cacheFromLevel || hs[i] != nil {
					continue
				}
				r, pos, count := under(id)
				if r != g.row {
					continue
				}
				h, err := subtreeHash(b[pos*hashSize : (pos+count)*hashSize])
				if err != nil {
					return fmt.Errorf("ledger: node %d/%d: %w", id.Level, id.Index, err)
				}
				hs[i] = h
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("ledger: reading row %d/%d of the proof's lower nodes: %w", g.row.level, g.row.index, err)
		}
	}
	return nil
}

// viewRow calls fn with row r holding at least need hashes: a cached row,
// or the stored one, lent by the engine when it can (store.TileViewer),
// since the proof drops it once its nodes are computed.
func (n *nodes) viewRow(ctx context.Context, r stratumRow, need int, size uint64, fn func([]byte) error) error {
	b, err := n.row(ctx, r.level, r.index, need, size)
	if err != nil {
		return err
	}
	if b != nil {
		return fn(b)
	}
	width := int(min(size>>r.level-r.index*tileWidth, tileWidth))
	if tv, ok := n.st.(store.TileViewer); ok {
		return tv.ViewTile(ctx, uint8(r.level), r.index, width, fn)
	}
	if b, err = n.st.Tile(ctx, uint8(r.level), r.index, width); err != nil {
		return err
	}
	return fn(b)
}

// subtreeHash is the root of the perfect subtree over hashes (a power of
// two of them), by the merkle package's compact range: a new slice, not
// part of hashes. Its hashing does not depend on where the subtree sits
// (only GetRootHash wants a range from 0), so the nodes are hashed as the
// range [0, count): one perfect subtree, the same hashes as when the tree
// was built.
func subtreeHash(hashes []byte) ([]byte, error) {
	if len(hashes) == hashSize {
		return bytes.Clone(hashes), nil
	}
	rng := rangeFactory.NewEmptyRange(0)
	for at := 0; at < len(hashes); at += hashSize {
		if err := rng.Append(hashes[at:at+hashSize], nil); err != nil {
			return nil, err
		}
	}
	return rng.GetRootHash(nil)
}

// proof fetches and combines the nodes of an inclusion or consistency proof
// in a tree of the given size. A lower node that is alone under its
// stratum's row (near the right edge, or in a consistency proof) is read on
// its own: a row read to serve one node would only copy the rest.
func (n *nodes) proof(ctx context.Context, p proof.Nodes, size uint64) ([][]byte, error) {
	return n.proofBy(ctx, p, size, true)
}

// proofBy is proof, with the lower nodes read by stratum or (for
// BenchmarkBundleLevers1M: as before strata) one by one.
func (n *nodes) proofBy(ctx context.Context, p proof.Nodes, size uint64, strata bool) ([][]byte, error) {
	return n.proofFrom(ctx, p, size, strata, make([][]byte, len(p.IDs)))
}

// proofFrom is proofBy, with hs[i] the hash of node p.IDs[i] where the
// caller already has it, nil where it is to be read.
func (n *nodes) proofFrom(ctx context.Context, p proof.Nodes, size uint64, strata bool, hs [][]byte) ([][]byte, error) {
	if strata {
		if err := n.fromRows(ctx, p.IDs, size, hs); err != nil {
			return nil, err
		}
	}
	for i, id := range p.IDs {
		if hs[i] != nil {
			continue
		}
		h, err := n.hash(ctx, id, size)
		if err != nil {
			return nil, err
		}
		hs[i] = h
	}
	return p.Rehash(hs, hasher.HashChildren)
}

// inclusion is the audit path of leaf index in the tree of size leaves.
func (n *nodes) inclusion(ctx context.Context, index, size uint64) ([][]byte, error) {
	return n.inclusionWith(ctx, index, size, nil)
}

// inclusionWith is inclusion, taking the nodes it can from rows, which
// must hold nodes of the tree of size leaves (a batch's rows, written
// when the tree grew to size: see heldBatch). A node never changes once
// complete, so a node found there is the one the store holds; the proof
// reads only the others. A new entry's proof mostly needs nodes at the
// right edge, the rows its batch just rewrote: in memory, they are not
// read back from the store (where each new batch makes the cached copy
// of those rows too short, see nodes.row).
func (n *nodes) inclusionWith(ctx context.Context, index, size uint64, rows []store.Tile) ([][]byte, error) {
	p, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("ledger: inclusion proof: %w", err)
	}
	hs := make([][]byte, len(p.IDs))
	if len(rows) > 0 {
		for i, id := range p.IDs {
			hs[i] = rowNode(rows, id)
		}
	}
	return n.proofFrom(ctx, p, size, true, hs)
}

// rowNode is node id's hash from the row among rows that holds it, or nil.
// The slice is capped, as nodes.hash's, so that no caller appends into a
// row.
func rowNode(rows []store.Tile, id compact.NodeID) []byte {
	row, pos := id.Index/tileWidth, int(id.Index%tileWidth)
	for _, t := range rows {
		if uint(t.Level) == id.Level && t.Index == row && len(t.Hashes) >= (pos+1)*hashSize {
			return t.Hashes[pos*hashSize : (pos+1)*hashSize : (pos+1)*hashSize]
		}
	}
	return nil
}

// consistency proves that the tree of size1 is a prefix of the tree of size2.
func (n *nodes) consistency(ctx context.Context, size1, size2 uint64) ([][]byte, error) {
	if size1 == 0 || size1 > size2 {
		return nil, errors.New("ledger: consistency proof needs 0 < from ≤ to")
	}
	p, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("ledger: consistency proof: %w", err)
	}
	return n.proof(ctx, p, size2)
}
