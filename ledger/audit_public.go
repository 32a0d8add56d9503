package ledger

import (
	"bytes"
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/pakta-id/pakta/verify"
)

// HashTileSource is the public part of a served log: its checkpoint and
// hash tiles, which hold no personal data (DESIGN.md, "Private reads").
type HashTileSource interface {
	Checkpoint(ctx context.Context) ([]byte, error)
	HashTile(ctx context.Context, level uint8, index uint64, width int) ([]byte, error)
}

// AuditHashTiles audits a served log with public reads only, as anyone
// without a reader's key can: the latest checkpoint verifies under the
// policy's log key; every hash tile of its tree, at every level, is
// consistent with its root (golang.org/x/mod/sumdb/tlog checks each tile it
// reads against the signed root); and each of earlier is a prefix of
// today's tree (a consistency proof built from the tiles). It proves the
// log did not rewrite its history; it does not check the entries, which
// needs a policy reader's key (AuditTiles). Summary.Types is nil.
func AuditHashTiles(ctx context.Context, src HashTileSource, policy *verify.Policy, earlier [][]byte, opts AuditOptions) (*AuditSummary, error) {
	latest, err := src.Checkpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger: audit: fetching the checkpoint: %w", err)
	}
	cp, _, err := verify.OpenCheckpoint(latest, policy.Origin, policy.Verifier())
	if err != nil {
		return nil, &AuditError{Reason: fmt.Sprintf("the served checkpoint does not verify: %v", err)}
	}
	tree := tlog.Tree{N: int64(cp.Size), Hash: tlog.Hash(cp.Root)}
	hr := tlog.TileHashReader(tree, tileReader{ctx: ctx, src: src})
	sum := &AuditSummary{Size: cp.Size, Root: bytes.Clone(cp.Root[:]), Checkpoints: 1, Checkpoint: latest}
	tiles := tlog.NewTiles(tileHeight, 0, tree.N)
	for i, t := range tiles {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		last := int64(t.N)*tileWidth + int64(t.W) - 1
		if _, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(t.L*tileHeight, last)}); err != nil {
			return nil, &AuditError{Index: uint64(last) << (uint(t.L) * tileHeight), Tile: c2spTile(t), Reason: fmt.Sprintf("the hash tile is not consistent with the checkpoint's root: %v", err)}
		}
		if opts.Progress != nil && (i%256 == 255 || i == len(tiles)-1) {
			opts.Progress(uint64(i+1), uint64(len(tiles)))
		}
	}
	if h, err := tlog.TreeHash(tree.N, hr); err != nil || h != tree.Hash {
		return nil, &AuditError{Index: cp.Size, Reason: fmt.Sprintf("the hash tiles do not give the checkpoint's root (%v)", err)}
	}
	for _, e := range earlier {
		c, _, err := verify.OpenCheckpoint(e, policy.Origin, policy.Verifier())
		if err != nil {
			return nil, fmt.Errorf("ledger: audit: an earlier checkpoint does not verify: %w", err)
		}
		if c.Size > cp.Size {
			return nil, &AuditError{Index: cp.Size, Reason: fmt.Sprintf("the log now serves %d entries, fewer than the %d of an earlier checkpoint: it went back in time", cp.Size, c.Size)}
		}
		if c.Size == 0 {
			sum.Checkpoints++
			continue
		}
		proof, err := tlog.ProveTree(tree.N, int64(c.Size), hr)
		if err == nil {
			err = tlog.CheckTree(proof, tree.N, tree.Hash, int64(c.Size), tlog.Hash(c.Root))
		}
		if err != nil {
			return nil, &AuditError{Index: c.Size, Reason: fmt.Sprintf("the earlier checkpoint of size %d is not a prefix of today's tree: the log rewrote its history (%v)", c.Size, err)}
		}
		sum.Checkpoints++
	}
	return sum, nil
}

// tileReader is a HashTileSource as tlog reads tiles.
type tileReader struct {
	ctx context.Context
	src HashTileSource
}

func (r tileReader) Height() int { return tileHeight }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := r.src.HashTile(r.ctx, uint8(t.L), uint64(t.N), t.W)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c2spTile(t), err)
		}
		out[i] = b
	}
	return out, nil
}

func (r tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

func c2spTile(t tlog.Tile) string { return tilePath(uint8(t.L*tileHeight), uint64(t.N), t.W) }
