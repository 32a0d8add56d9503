package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"github.com/pakta-id/pakta/ledger/client"
	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/ledger/store/pebblestore"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// AuditOptions configures Audit. The zero value is usable.
type AuditOptions struct {
	// Progress, if set, is called after every 256 entries and at the end.
	Progress func(done, total uint64)
	// Workers check signatures in parallel; 0 means GOMAXPROCS.
	Workers int
}

// AuditError names the first place where the stored log disagrees with a
// recomputation from its entries.
type AuditError struct {
	Index  uint64 // the first entry concerned
	Tile   string // the tile's path when a stored hash row is wrong, else ""
	Reason string
}

func (e *AuditError) Error() string {
	if e.Tile != "" {
		return fmt.Sprintf("ledger: audit: entry %d, %s: %s", e.Index, e.Tile, e.Reason)
	}
	return fmt.Sprintf("ledger: audit: entry %d: %s", e.Index, e.Reason)
}

// AuditSummary is what a successful audit checked.
type AuditSummary struct {
	Size        uint64
	Root        []byte
	Checkpoints int            // stored checkpoints verified against the recomputed tree
	Checkpoint  []byte         // the latest of them, signed: save it for the next audit
	Types       map[string]int // entries by statement type
}

// Audit recomputes everything in the log stored in dir from its entries
// alone: every entry's form and signatures, every acceptance rule in log
// order, logged_at never decreasing, every hash row (tile) at every level,
// every index row, and every checkpoint the log ever signed (signature and
// root). It opens the log read-only; a log held by a running server is
// refused (audit it over HTTP instead). The first disagreement is returned as
// an *AuditError.
func Audit(ctx context.Context, dir string, policy *verify.Policy, opts AuditOptions) (*AuditSummary, error) {
	st, err := pebblestore.Open(ctx, dir, pebblestore.Options{ReadOnly: true})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return nil, fmt.Errorf("%w (a running server?): %s: audit it through its tiles instead: %w", ErrLocked, dir, err)
		}
		return nil, fmt.Errorf("ledger: audit: opening %s: %w", dir, err)
	}
	defer st.Close()
	if err := registrarsKept(ctx, st, policy); err != nil {
		return nil, err
	}
	sum, err := audit(ctx, st, policy, opts)
	return sum, interrupted(ctx, err)
}

// AuditStore is Audit on a log stored in st, on any engine: a standby's
// database, say. No writer may append to st during the audit (for Pebble,
// Audit's directory lock sees to that): its checkpoints are listed after
// its tree is read.
func AuditStore(ctx context.Context, st store.Reader, policy *verify.Policy, opts AuditOptions) (*AuditSummary, error) {
	if err := registrarsKept(ctx, st, policy); err != nil {
		return nil, err
	}
	sum, err := audit(ctx, st, policy, opts)
	return sum, interrupted(ctx, err)
}

// interrupted turns an error caused by ctx ending (a reader giving up
// mid-read, say) into that, so that an audit stopped by its user is never
// reported as a finding against the log.
func interrupted(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("ledger: audit interrupted, nothing concluded: %w (%v)", context.Cause(ctx), err)
	}
	return err
}

type auditor struct {
	st     store.Reader // the local log; nil when auditing through tiles
	src    TileSource   // the served log; nil when auditing locally
	policy *verify.Policy
	rules  *rules
	opts   AuditOptions
	rng    *compact.Range
	rows   [maxLevels][]byte // the row being rebuilt at each level
	replay map[string][]byte // mutable index rows as replayed so far
	cur    uint64            // index being replayed
	keys   sync.Map          // kid → *pledge.PublicKey
	// checkpoint returns the signed checkpoint for a size being checked.
	checkpoint func(ctx context.Context, size uint64) ([]byte, error)
	summary    AuditSummary
	bad        *AuditError
}

func audit(ctx context.Context, st store.Reader, policy *verify.Policy, opts AuditOptions) (*AuditSummary, error) {
	size, state, err := st.State(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger: audit: %w", err)
	}
	var cpSizes []uint64
	if err := st.Checkpoints(ctx, func(s uint64, _ []byte) error { cpSizes = append(cpSizes, s); return nil }); err != nil {
		return nil, fmt.Errorf("ledger: audit: listing checkpoints: %w", err)
	}
	a := newAuditor(policy, opts)
	a.st = st
	a.checkpoint = func(ctx context.Context, size uint64) ([]byte, error) { return st.Checkpoint(ctx, size) }
	if err := a.run(ctx, size, cpSizes); err != nil {
		return nil, err
	}
	stored, err := decodeTree(state, size)
	if err != nil {
		return nil, &AuditError{Index: size, Reason: err.Error()}
	}
	if !stored.rng.Equal(a.rng) {
		return nil, &AuditError{Index: size, Reason: "the stored right edge of the tree differs from the recomputed one"}
	}
	if err := a.compareMutableRows(ctx); err != nil {
		return nil, err
	}
	return &a.summary, nil
}

func newAuditor(policy *verify.Policy, opts AuditOptions) *auditor {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	return &auditor{policy: policy, rules: &rules{policy: policy}, opts: opts, rng: rangeFactory.NewEmptyRange(0), replay: map[string][]byte{}, summary: AuditSummary{Types: map[string]int{}}}
}

// TileSource is a log as C2SP tlog-tiles serves it; an HTTP client of a
// pakta server implements it, and so does *Log (through TilesOf).
type TileSource interface {
	// Checkpoint is the latest signed checkpoint.
	Checkpoint(ctx context.Context) ([]byte, error)
	// HashTile is tile level (tree level 8×level), index, width 1…256.
	HashTile(ctx context.Context, level uint8, index uint64, width int) ([]byte, error)
	// EntryBundle is entries index×256 … +width−1, uint16-length-prefixed.
	EntryBundle(ctx context.Context, index uint64, width int) ([]byte, error)
}

// AuditTiles audits a served log through its tiles, as a mirror or an
// auditor does: it fetches the latest checkpoint and every entry bundle,
// re-verifies every entry and rule in order, recomputes the tree and compares
// every hash tile and the checkpoint's root. Each of earlier (checkpoints the
// auditor saved before) must be a prefix of today's tree: that is the proof
// that the log did not rewrite its history since.
func AuditTiles(ctx context.Context, src TileSource, policy *verify.Policy, earlier [][]byte, opts AuditOptions) (*AuditSummary, error) {
	latest, err := src.Checkpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger: audit: fetching the checkpoint: %w", err)
	}
	cp, _, err := verify.OpenCheckpoint(latest, policy.Origin, policy.Verifier())
	if err != nil {
		return nil, &AuditError{Reason: fmt.Sprintf("the served checkpoint does not verify: %v", err)}
	}
	byCheckpoint := map[uint64][]byte{cp.Size: latest}
	for _, e := range earlier {
		c, _, err := verify.OpenCheckpoint(e, policy.Origin, policy.Verifier())
		if err != nil {
			return nil, fmt.Errorf("ledger: audit: an earlier checkpoint does not verify: %w", err)
		}
		if c.Size > cp.Size {
			return nil, &AuditError{Index: cp.Size, Reason: fmt.Sprintf("the log now serves %d entries, fewer than the %d of an earlier checkpoint: it went back in time", cp.Size, c.Size)}
		}
		if prev, ok := byCheckpoint[c.Size]; ok && c.Size == cp.Size && !bytes.Equal(prev, e) {
			// Same size, different bytes: the roots must still agree.
			pc, _, _ := verify.OpenCheckpoint(prev, policy.Origin, policy.Verifier())
			if pc.Root != c.Root {
				return nil, &AuditError{Index: c.Size, Reason: "two checkpoints of the same size with different roots: a fork"}
			}
			continue
		}
		byCheckpoint[c.Size] = e
	}
	sizes := make([]uint64, 0, len(byCheckpoint))
	for s := range byCheckpoint {
		sizes = append(sizes, s)
	}
	slices.Sort(sizes)
	a := newAuditor(policy, opts)
	a.src = src
	a.checkpoint = func(_ context.Context, size uint64) ([]byte, error) { return byCheckpoint[size], nil }
	if err := a.run(ctx, cp.Size, sizes); err != nil {
		return nil, interrupted(ctx, err)
	}
	return &a.summary, nil
}

// run walks entries 0…size−1, checking the checkpoints of cpSizes (sorted)
// as the walk reaches them.
func (a *auditor) run(ctx context.Context, size uint64, cpSizes []uint64) error {
	opts := a.opts
	if err := a.checkpointsAt(ctx, 0, &cpSizes); err != nil {
		return err
	}
	var lastLogged time.Time
	for start := uint64(0); start < size; start += tileWidth {
		n := int(min(tileWidth, size-start))
		entries, err := a.entries(ctx, start, n)
		if err != nil {
			return &AuditError{Index: start, Reason: fmt.Sprintf("reading entries: %v", err)}
		}
		parsed, verified := a.verifyChunk(start, entries)
		for i, raw := range entries {
			index := start + uint64(i)
			a.cur = index
			e, v := parsed[i], verified[i]
			if e.err != nil {
				return &AuditError{Index: index, Reason: e.err.Error()}
			}
			if e.entry.LoggedAt.Before(lastLogged) {
				return &AuditError{Index: index, Reason: fmt.Sprintf("logged_at %s is before the previous entry's %s", e.entry.LoggedAt.Format(time.RFC3339Nano), lastLogged.Format(time.RFC3339Nano))}
			}
			lastLogged = e.entry.LoggedAt
			if v.err != nil {
				return &AuditError{Index: index, Reason: fmt.Sprintf("the logged statement does not verify: %v", v.err)}
			}
			if err := a.replayEntry(ctx, index, e.entry, v.v); err != nil {
				return err
			}
			h := verify.LeafHash(raw)
			if err := a.rng.Append(h[:], a.visit(ctx)); err != nil {
				return err
			}
			if a.bad != nil {
				return a.bad
			}
			if err := a.checkpointsAt(ctx, index+1, &cpSizes); err != nil {
				return err
			}
			a.summary.Types[v.v.Statement.StatementType()]++
		}
		if opts.Progress != nil {
			opts.Progress(start+uint64(n), size)
		}
	}
	if size == 0 && opts.Progress != nil {
		opts.Progress(0, 0)
	}
	// Partial rows at the right edge.
	for level := 0; level < maxLevels && size>>level > 0; level++ {
		if len(a.rows[level]) == 0 {
			continue
		}
		if err := a.compareRow(ctx, uint8(level), (size>>level)/tileWidth, a.rows[level]); err != nil {
			return err
		}
	}
	if len(cpSizes) > 0 {
		return &AuditError{Index: size, Reason: fmt.Sprintf("a checkpoint is stored for size %d, beyond the log's %d entries", cpSizes[0], size)}
	}
	a.summary.Size = size
	a.summary.Root, _ = a.root()
	return nil
}

// entries reads n entries from start, from the store or from an entry
// bundle (start is then a multiple of 256).
func (a *auditor) entries(ctx context.Context, start uint64, n int) ([][]byte, error) {
	if a.st != nil {
		return a.st.Entries(ctx, start, n)
	}
	b, err := a.src.EntryBundle(ctx, start/tileWidth, n)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, n)
	for len(b) > 0 {
		if len(b) < 2 || len(b) < 2+int(binary.BigEndian.Uint16(b)) {
			return nil, fmt.Errorf("entry bundle %s is truncated", client.TileIndexPath(start/tileWidth))
		}
		l := int(binary.BigEndian.Uint16(b))
		out = append(out, b[2:2+l])
		b = b[2+l:]
	}
	if len(out) != n {
		return nil, fmt.Errorf("entry bundle %s holds %d entries, want %d", client.TileIndexPath(start/tileWidth), len(out), n)
	}
	return out, nil
}

func (a *auditor) root() ([]byte, error) {
	if a.rng.End() == 0 {
		return hasher.EmptyRoot(), nil
	}
	return a.rng.GetRootHash(nil)
}

// checkpointsAt verifies every stored checkpoint for the size just reached.
func (a *auditor) checkpointsAt(ctx context.Context, size uint64, sizes *[]uint64) error {
	for len(*sizes) > 0 && (*sizes)[0] == size {
		*sizes = (*sizes)[1:]
		signed, err := a.checkpoint(ctx, size)
		if err != nil {
			return &AuditError{Index: size, Reason: fmt.Sprintf("reading the checkpoint for size %d: %v", size, err)}
		}
		cp, _, err := verify.OpenCheckpoint(signed, a.policy.Origin, a.policy.Verifier())
		if err != nil {
			return &AuditError{Index: size, Reason: fmt.Sprintf("the checkpoint for size %d does not verify: %v", size, err)}
		}
		root, err := a.root()
		if err != nil {
			return err
		}
		if cp.Size != size || !bytes.Equal(cp.Root[:], root) {
			return &AuditError{Index: size, Reason: fmt.Sprintf("the checkpoint for size %d says size %d root %x; the entries give root %x", size, cp.Size, cp.Root, root)}
		}
		a.summary.Checkpoints++
		a.summary.Checkpoint = signed
	}
	return nil
}

// visit rebuilds the rows as nodes complete and compares each full row with
// the stored one.
func (a *auditor) visit(ctx context.Context) compact.VisitFn {
	return func(id compact.NodeID, h []byte) {
		if a.bad != nil {
			return
		}
		l := id.Level
		a.rows[l] = append(a.rows[l], h...)
		if id.Index%tileWidth == tileWidth-1 {
			if err := a.compareRow(ctx, uint8(l), id.Index/tileWidth, a.rows[l]); err != nil {
				var ae *AuditError
				if !errors.As(err, &ae) {
					ae = &AuditError{Index: a.cur, Reason: err.Error()}
				}
				a.bad = ae
			}
			a.rows[l] = a.rows[l][:0]
		}
	}
}

// tilePath names a stored row: a C2SP tile for levels 0, 8, 16, …, an
// internal row otherwise.
func tilePath(level uint8, index uint64, width int) string {
	if level%tileHeight != 0 {
		return fmt.Sprintf("internal hash row at tree level %d, index %d (width %d)", level, index, width)
	}
	return client.Tile{Level: level / tileHeight, Index: index, Width: width}.Path()
}

func (a *auditor) compareRow(ctx context.Context, level uint8, index uint64, want []byte) error {
	width := len(want) / hashSize
	var got []byte
	var err error
	if a.st != nil {
		got, err = a.st.Tile(ctx, level, index, width)
	} else if level%tileHeight == 0 {
		got, err = a.src.HashTile(ctx, level/tileHeight, index, width)
	} else {
		return nil // tiles serve only every eighth level
	}
	path := tilePath(level, index, width)
	first := (index * tileWidth) << level
	if err != nil {
		return &AuditError{Index: first, Tile: path, Reason: fmt.Sprintf("cannot be read: %v", err)}
	}
	if !bytes.Equal(got, want) {
		for i := 0; i < width; i++ {
			if !bytes.Equal(got[i*hashSize:(i+1)*hashSize], want[i*hashSize:(i+1)*hashSize]) {
				node := index*tileWidth + uint64(i)
				return &AuditError{Index: node << level, Tile: path, Reason: fmt.Sprintf("stored hash %d is %x, the entries give %x", i, got[i*hashSize:(i+1)*hashSize], want[i*hashSize:(i+1)*hashSize])}
			}
		}
	}
	return nil
}

type parsedEntry struct {
	entry verify.Entry
	err   error
}

type verifiedEntry struct {
	v   *pledge.Verified
	err error
}

// verifyChunk parses entries and checks their signatures in parallel.
// Enrollments in the chunk lend their keys first, so that a pledge right
// after its key's enrollment verifies.
func (a *auditor) verifyChunk(start uint64, entries [][]byte) ([]parsedEntry, []verifiedEntry) {
	parsed := make([]parsedEntry, len(entries))
	for i, raw := range entries {
		parsed[i].entry, parsed[i].err = verify.ParseEntry(raw)
		if parsed[i].err != nil {
			continue
		}
		if j, err := pledge.Parse(parsed[i].entry.JWS); err == nil {
			if e, ok := j.Statement.(*pledge.Enrollment); ok {
				a.keys.Store(e.JWK.KeyID(), e.JWK)
			}
		}
	}
	out := make([]verifiedEntry, len(entries))
	opts := a.policy.VerifyOptions(auditKeys{a})
	var wg sync.WaitGroup
	next := make(chan int)
	for range a.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if parsed[i].err == nil {
					out[i].v, out[i].err = pledge.Verify(parsed[i].entry.JWS, opts)
				}
			}
		}()
	}
	for i := range entries {
		next <- i
	}
	close(next)
	wg.Wait()
	return parsed, out
}

type auditKeys struct{ a *auditor }

func (k auditKeys) ResolveKey(kid string) (*pledge.PublicKey, error) {
	if p, err := k.a.policy.ResolveKey(kid); err == nil {
		return p, nil
	}
	if p, ok := k.a.keys.Load(kid); ok {
		return p.(*pledge.PublicKey), nil
	}
	return nil, fmt.Errorf("key %s is neither enrolled earlier in the log nor a registrar's in the trust policy (a policy must keep every registrar the log used): %w", kid, pledge.ErrUnknownKey)
}

// get implements rowView as of the entry being replayed: mutable rows from
// the replay, dedup rows from the store but only when they point earlier.
func (a *auditor) get(ctx context.Context, key []byte) ([]byte, error) {
	switch {
	case a.st == nil:
		return a.replay[string(key)], nil
	case key[0] == rowDedupPayload:
		v, err := a.st.Get(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if i, err := parseIndex(v); err == nil && i >= a.cur {
			return nil, nil
		}
		return v, err
	default:
		return a.replay[string(key)], nil
	}
}

// statement implements rowView: from the store when auditing locally; an
// audit through tiles keeps no entries.
func (a *auditor) statement(ctx context.Context, index uint64) (pledge.Statement, error) {
	if a.st == nil {
		return nil, nil
	}
	return storedStatement(ctx, a.st, index)
}

func (a *auditor) replayEntry(ctx context.Context, index uint64, e verify.Entry, v *pledge.Verified) error {
	out, err := a.rules.accept(ctx, a, v, nil, index, e.LoggedAt)
	if err != nil {
		return &AuditError{Index: index, Reason: fmt.Sprintf("the log's rules refuse this entry in its place: %v", err)}
	}
	if out.duplicate {
		return &AuditError{Index: index, Reason: fmt.Sprintf("this entry repeats entry %d", out.index)}
	}
	for _, r := range out.rows {
		if a.st == nil {
			// Through tiles there are no stored rows to compare: keep what
			// the rules read (dedup rows included) in memory.
			if r.Key[0] == rowDedupPayload || !isImmutableRow(r.Key) {
				a.replay[string(r.Key)] = r.Value
			}
			continue
		}
		if isImmutableRow(r.Key) {
			got, err := a.st.Get(ctx, r.Key)
			if err != nil || !bytes.Equal(got, r.Value) {
				return &AuditError{Index: index, Reason: fmt.Sprintf("index row %q is missing or differs (%v)", r.Key[:1], err)}
			}
			continue
		}
		a.replay[string(r.Key)] = r.Value
	}
	return nil
}

// compareMutableRows checks the log's current view (latest pledges, keys,
// revocations, templates) against the replay, both ways.
func (a *auditor) compareMutableRows(ctx context.Context) error {
	size := a.rng.End()
	for _, kind := range []byte{rowLatest, rowKey, rowTemplate, rowRegistrar, rowAnnulled} {
		seen := 0
		err := a.st.Scan(ctx, []byte{kind}, func(k, v []byte) error {
			want, ok := a.replay[string(k)]
			if !ok || !bytes.Equal(want, v) {
				return &AuditError{Index: size, Reason: fmt.Sprintf("stored index row %q (%x) is not what the entries give", kind, k[1:])}
			}
			seen++
			return nil
		})
		if err != nil {
			return err
		}
		n := 0
		for k := range a.replay {
			if k[0] == kind {
				n++
			}
		}
		if n != seen {
			return &AuditError{Index: size, Reason: fmt.Sprintf("%d index rows of kind %q are missing from the store", n-seen, kind)}
		}
	}
	return nil
}
