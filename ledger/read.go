package ledger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// ErrNotFound: no entry at that index (past the end of the log), or no such
// tile. HTTP 404.
var ErrNotFound = errors.New("ledger: not found")

func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// Entry returns the bytes of entry index, exactly as logged.
func (l *Log) Entry(ctx context.Context, index uint64) ([]byte, error) {
	if _, size := l.Checkpoint(); index >= size {
		return nil, fmt.Errorf("%w: entry %d: the log has %d entries", ErrNotFound, index, size)
	}
	b, err := l.st.Entry(ctx, index)
	return b, notFound(err)
}

// InclusionProof is the audit path of entry index in the tree of size.
func (l *Log) InclusionProof(ctx context.Context, index, size uint64) ([][]byte, error) {
	if _, latest := l.Checkpoint(); size > latest || index >= size {
		return nil, fmt.Errorf("%w: inclusion of %d in a tree of %d (the log has %d)", ErrInvalid, index, size, latest)
	}
	return l.nodes.inclusion(ctx, index, size)
}

// ConsistencyProof proves that the tree of size from is a prefix of the tree
// of size to; 0 < from ≤ to ≤ the latest checkpoint's size.
func (l *Log) ConsistencyProof(ctx context.Context, from, to uint64) ([][]byte, error) {
	if _, latest := l.Checkpoint(); from == 0 || from > to || to > latest {
		return nil, fmt.Errorf("%w: consistency from %d to %d needs 0 < from ≤ to ≤ %d", ErrInvalid, from, to, latest)
	}
	return l.nodes.consistency(ctx, from, to)
}

// proofText is the C2SP tlog-proof of entry index against a checkpoint.
// rows, when not nil, are rows known to hold the nodes of cp's tree (a
// batch's, see heldBatch): the proof takes what nodes it can from them.
func (l *Log) proofText(ctx context.Context, index uint64, cp *signedTree, rows []store.Tile) (string, error) {
	path, err := l.nodes.inclusionWith(ctx, index, cp.size, rows)
	if err != nil {
		return "", err
	}
	p := verify.Proof{Index: index, Checkpoint: cp.signed, Hashes: make([][32]byte, len(path))}
	for i, h := range path {
		copy(p.Hashes[i][:], h)
	}
	return string(p.Marshal()), nil
}

// entryProof is entry index with its proof under cp (rows as proofText).
func (l *Log) entryProof(ctx context.Context, index uint64, cp *signedTree, rows []store.Tile) (*verify.EntryProof, error) {
	e, err := l.st.Entry(ctx, index)
	if err != nil {
		return nil, err
	}
	p, err := l.proofText(ctx, index, cp, rows)
	if err != nil {
		return nil, err
	}
	return &verify.EntryProof{Entry: e, Proof: p}, nil
}

// Bundle builds the offline evidence for entry index against the latest
// checkpoint: the entry, its inclusion proof and, under the same
// checkpoint, the enrollment that bound a pledge's key (or a revoked key's)
// and a pledge's template. With witnesses in the policy, the checkpoint is
// the newest one a quorum of them cosigned, once one covers the entry; until
// then it is the latest, not yet witnessed (verify says so).
func (l *Log) Bundle(ctx context.Context, index uint64) (*verify.Bundle, error) {
	cp := l.latest.Load()
	if index >= cp.size {
		return nil, fmt.Errorf("%w: entry %d: the log has %d entries", ErrNotFound, index, cp.size)
	}
	if w := l.witnessedCovering(index); w != nil {
		cp = w
	}
	entry, err := l.st.Entry(ctx, index)
	if err != nil {
		return nil, notFound(err)
	}
	mb, err := l.st.Get(ctx, metaKey(index))
	if err != nil {
		return nil, fmt.Errorf("ledger: entry %d has no meta row: %w", index, err)
	}
	m, err := decodeMeta(mb)
	if err != nil {
		return nil, err
	}
	return l.bundleOf(ctx, index, entry, m, cp, nil)
}

// witnessedCovering is the newest checkpoint a quorum of witnesses
// cosigned if it covers entry index, else nil. The enrollment and the
// template of an entry come before it, so a checkpoint that covers the
// entry covers them.
func (l *Log) witnessedCovering(index uint64) *signedTree {
	if l.witnesses == nil {
		return nil
	}
	if w := l.witnesses.witnessed.Load(); w != nil && index < w.size {
		return w
	}
	return nil
}

// bundleOf is the bundle of entry index, whose bytes and meta row are
// given, against cp. rows, when not nil, are the rows of the batch that
// wrote entry index (ResultBundle; cp is a checkpoint of its tree), which
// serve the proofs. The template evidence is shared per checkpoint
// (templateProof).
func (l *Log) bundleOf(ctx context.Context, index uint64, entry []byte, m meta, cp *signedTree, rows []store.Tile) (*verify.Bundle, error) {
	proofText, err := l.proofText(ctx, index, cp, rows)
	if err != nil {
		return nil, err
	}
	b := &verify.Bundle{Entry: entry, Proof: proofText}
	if m.HasEnroll {
		if b.Key.Enrollment, err = l.entryProof(ctx, m.Enrollment, cp, rows); err != nil {
			return nil, fmt.Errorf("ledger: enrollment %d of entry %d: %w", m.Enrollment, index, err)
		}
	}
	if m.HasTemplate {
		b.Template, err = l.templateProof(ctx, m.Template, cp, rows)
		if err != nil {
			return nil, fmt.Errorf("ledger: template %d of entry %d: %w", m.Template, index, err)
		}
	}
	return b, nil
}

// Pledges returns the indexes of every pledge by the person (scheme, id)
// dated date (the pledge's own "date", YYYY-MM-DD), in log order. The
// identifier is checked for form first (ErrInvalid).
func (l *Log) Pledges(ctx context.Context, scheme, id, date string) ([]uint64, error) {
	if err := pledge.ValidateID(scheme, id, "", zeroTime); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if !validDate(date) {
		return nil, fmt.Errorf("%w: date %q is not YYYY-MM-DD", ErrInvalid, date)
	}
	prefix := personDatePrefix(scheme, id, date)
	_, size := l.Checkpoint()
	var out []uint64
	err := l.st.Scan(ctx, prefix, func(key, _ []byte) error {
		if len(key) != len(prefix)+8 {
			return nil
		}
		if i := binary.BigEndian.Uint64(key[len(prefix):]); i < size {
			out = append(out, i)
		}
		return nil
	})
	return out, err
}

// EntriesOf returns the indexes of every entry about the person (pledges,
// enrollments, revocations of their keys), in log order.
func (l *Log) EntriesOf(ctx context.Context, scheme, id string) ([]uint64, error) {
	prefix := personPrefix(rowPerson, scheme, id)
	_, size := l.Checkpoint()
	var out []uint64
	err := l.st.Scan(ctx, prefix, func(key, _ []byte) error {
		if len(key) == len(prefix)+8 {
			if i := binary.BigEndian.Uint64(key[len(prefix):]); i < size {
				out = append(out, i)
			}
		}
		return nil
	})
	return out, err
}

// HashTile returns a C2SP tlog-tiles hash tile: tile level level (tree level
// 8×level), index, width 1…256 hashes. Only tiles within the latest
// checkpoint's tree are served: full tiles, and the partial tile of every
// size the log has signed.
func (l *Log) HashTile(ctx context.Context, level uint8, index uint64, width int) ([]byte, error) {
	if int(level)*tileHeight >= maxLevels || width < 1 || width > tileWidth {
		return nil, fmt.Errorf("%w: tile %d/%d width %d", ErrNotFound, level, index, width)
	}
	_, size := l.Checkpoint()
	nodes := size >> (uint(level) * tileHeight)
	if index*tileWidth+uint64(width) > nodes {
		return nil, fmt.Errorf("%w: tile %d/%d width %d is past the tree of size %d", ErrNotFound, level, index, width, size)
	}
	b, err := l.st.Tile(ctx, level*tileHeight, index, width)
	return b, notFound(err)
}

// EntryBundle returns a C2SP tlog-tiles entry bundle: entries index×256 …
// index×256+width−1, each as a big-endian uint16 length and the bytes.
func (l *Log) EntryBundle(ctx context.Context, index uint64, width int) ([]byte, error) {
	if width < 1 || width > tileWidth {
		return nil, fmt.Errorf("%w: entry bundle %d width %d", ErrNotFound, index, width)
	}
	_, size := l.Checkpoint()
	if index*tileWidth+uint64(width) > size {
		return nil, fmt.Errorf("%w: entry bundle %d width %d is past the log's %d entries", ErrNotFound, index, width, size)
	}
	entries, err := l.st.Entries(ctx, index*tileWidth, width)
	if err != nil {
		return nil, notFound(err)
	}
	n := 0
	for _, e := range entries {
		n += 2 + len(e)
	}
	out := make([]byte, 0, n)
	for _, e := range entries {
		out = binary.BigEndian.AppendUint16(out, uint16(len(e)))
		out = append(out, e...)
	}
	return out, nil
}

var zeroTime time.Time

func validDate(s string) bool {
	d, err := time.Parse(pledge.DateLayout, s)
	return err == nil && d.Format(pledge.DateLayout) == s
}

// Tiles is the log as a TileSource, for AuditTiles in process.
func (l *Log) Tiles() TileSource { return logTiles{l} }

type logTiles struct{ l *Log }

func (t logTiles) Checkpoint(context.Context) ([]byte, error) {
	signed, _ := t.l.Checkpoint()
	return signed, nil
}

func (t logTiles) HashTile(ctx context.Context, level uint8, index uint64, width int) ([]byte, error) {
	return t.l.HashTile(ctx, level, index, width)
}

func (t logTiles) EntryBundle(ctx context.Context, index uint64, width int) ([]byte, error) {
	return t.l.EntryBundle(ctx, index, width)
}
