package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/ledger/store/pebblestore"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxBatch   = 1024
	DefaultMaxPending = 16384
	// DefaultCacheRows bounds the upper hash rows (levels 8 and up) kept
	// for proofs, 8 KiB each: 8 MiB, every such row of a log of up to
	// about 30 million entries. The rows at the right edge of the lower
	// levels, where new entries' proofs read, come on top (16 at most).
	DefaultCacheRows = 1024
)

// Config configures a log. Signer and Policy are required; every other zero
// value means the documented default.
type Config struct {
	// Signer signs checkpoints; its name is the log's origin and must equal
	// Policy.Origin, and Policy.LogKey must be its verifier key.
	Signer note.Signer
	// Policy says which registrars, roots and algorithms the log trusts and
	// how old a signature may be.
	Policy *verify.Policy
	// Clock gives logged_at; nil means time.Now.
	Clock func() time.Time
	// Logger receives the log's events; nil discards them.
	Logger *slog.Logger
	// Requests configures enrollment requests (Log.Requests); the zero
	// value is ready to use.
	Requests RequestConfig
	// Witnesses configures how the log asks the policy's witnesses to
	// cosign its checkpoints; the zero value is ready to use, and it is
	// unused when the policy names no witness.
	Witnesses WitnessConfig
	// MaxBatch is the most entries one commit holds; 0 means DefaultMaxBatch.
	MaxBatch int
	// MaxDelay, when above 0, is how long the sequencer waits for more
	// submissions before it writes a batch that found no other batch being
	// written. The zero value waits for nothing: a batch is written as soon
	// as the one before it is durable, with whatever arrived meanwhile.
	MaxDelay time.Duration
	// MaxPending is how many verified submissions may wait for the
	// sequencer before Append pushes back; 0 means DefaultMaxPending.
	MaxPending int
	// Pebble configures the embedded engine that Open and OpenDir use (its
	// zero value is pebblestore's defaults; a nil Logger means Logger). New
	// ignores it: the engine passed in owns its settings.
	Pebble pebblestore.Options
	// CacheRows is how many hash rows of the upper tree levels (8 and up)
	// are kept in memory for proofs; 0 means DefaultCacheRows.
	CacheRows int
	// DiskReserve is the free disk space, in bytes, below which Append
	// refuses submissions with ErrDiskFull (checked again before every
	// commit) while reads go on; 0 means DefaultDiskReserve, a negative
	// value turns the checks off. Open fails at once on a read-only
	// file system, or with less than 16 MiB (or the reserve) free.
	DiskReserve int64

	// afterCommit, when set (tests only), runs between a batch's commit and
	// its checkpoint; an error aborts as a crash there would.
	afterCommit func() error
}

// Log is an open transparency log. Its methods are safe for concurrent use.
type Log struct {
	cfg    Config
	origin string
	st     store.Store
	log    *slog.Logger
	nodes  *nodes
	rules  *rules
	recent *rowCache    // durable rows the rules read often
	shared sharedProofs // template proofs under the latest checkpoint
	// requests are the pending enrollment requests and nonces the used
	// read nonces, both beside the tree (store.Side).
	requests *Requests
	nonces   nonces
	// witnesses asks the policy's witnesses to cosign, in the background;
	// nil when the policy names none.
	witnesses *witnesses
	keys      recentMap[string, *pledge.PublicKey] // enrolled keys (immutable), for the resolver

	queue   chan *request
	closing chan struct{}
	done    chan struct{}
	mu      sync.RWMutex // held for reading while enqueuing, for writing by Close
	closed  bool
	pending atomic.Int64

	tree *tree // owned by the sequencer goroutine
	// heldRing is the latest batches whose entries and rows their
	// results hold (see hold), written by one batch's write at a time.
	heldRing  [heldBatches]*heldBatch
	heldNext  int
	heldCount int                        // entries of the batches in heldRing that still hold them
	latest    atomic.Pointer[signedTree] // the latest checkpoint
	failed    atomic.Pointer[error]      // a storage failure that stopped the sequencer

	stats Stats
	disk  *disk
}

// signedTree is a checkpoint the log has signed and stored.
type signedTree struct {
	size   uint64
	root   []byte
	signed []byte
}

type request struct {
	raw []byte
	v   *pledge.Verified
	// dedup is the payload's dedup row key (a SHA-256), hashed in the
	// caller's goroutine so that the one sequencer goroutine does not.
	dedup []byte
	done  chan result
}

type result struct {
	res Result
	err error
}

// Result is where an appended statement is in the log. A Result that
// Append returned for a new entry also holds what the sequencer had in
// hand when it answered (the entry, the checkpoint that covered it, the
// rows its batch wrote), from which ResultBundle builds the entry's bundle
// without reading it back.
type Result struct {
	Index     uint64
	Duplicate bool // it was already logged: Index is the earlier entry
	LoggedAt  time.Time

	held *held // nil for a duplicate, or a Result not made by Append
}

// Open opens the log stored by the embedded engine (Pebble, configured by
// cfg.Pebble) in dir, creating it if it does not exist, as New does on that
// store. Beside New, it watches the free space of dir's disk (see
// Config.DiskReserve).
func Open(ctx context.Context, dir string, cfg Config) (*Log, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkDisk(dir, cfg.DiskReserve); err != nil {
		return nil, err
	}
	popts := cfg.Pebble
	if popts.Logger == nil {
		popts.Logger = cfg.Logger
	}
	st, err := pebblestore.Open(ctx, dir, popts)
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return nil, fmt.Errorf("%w (a running server?): %s: %w", ErrLocked, dir, err)
		}
		return nil, fmt.Errorf("ledger: opening %s: %w", dir, err)
	}
	l, err := open(ctx, st, cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	l.disk = newDisk(dir, cfg.DiskReserve)
	if s := l.disk.status(); s.Low {
		l.log.Warn("free disk space is below the reserve: appends are refused until there is more", "free_mib", s.Free>>20, "reserve_mib", s.Reserve>>20, "dir", dir)
	}
	return l, nil
}

// New opens the log stored in st, which it owns from then on: Close closes
// st, and so does New when it fails. It checks that the stored checkpoint
// agrees with the stored tree, signs a new one if the process died between
// a commit and its checkpoint, and refuses to open a log whose stored
// checkpoint contradicts its tree (a fork). Config.Pebble and
// Config.DiskReserve do not apply: the engine owns its settings and its
// space.
func New(ctx context.Context, st store.Store, cfg Config) (*Log, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		st.Close()
		return nil, err
	}
	l, err := open(ctx, st, cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	return l, nil
}

// withDefaults checks cfg's required fields and fills in the defaults of
// its zero values.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Signer == nil || cfg.Policy == nil {
		return cfg, errors.New("ledger: Config.Signer and Config.Policy are required")
	}
	if cfg.Signer.Name() != cfg.Policy.Origin {
		return cfg, fmt.Errorf("ledger: the checkpoint key is named %q but the policy's origin is %q", cfg.Signer.Name(), cfg.Policy.Origin)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.CacheRows <= 0 {
		cfg.CacheRows = DefaultCacheRows
	}
	return cfg, nil
}

func open(ctx context.Context, st store.Store, cfg Config) (*Log, error) {
	l := &Log{
		cfg:     cfg,
		origin:  cfg.Signer.Name(),
		st:      st,
		log:     cfg.Logger,
		nodes:   newNodes(st, cfg.CacheRows),
		rules:   &rules{policy: cfg.Policy},
		recent:  newRowCache(rowCacheBytes),
		queue:   make(chan *request, cfg.MaxPending),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	size, state, err := st.State(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger: reading the tree state: %w", err)
	}
	if l.tree, err = decodeTree(state, size); err != nil {
		return nil, err
	}
	if err := l.tree.loadEdges(ctx, st); err != nil {
		return nil, err
	}
	if err := registrarsKept(ctx, st, cfg.Policy); err != nil {
		return nil, err
	}
	if l.requests, err = newRequests(ctx, l, cfg.Requests); err != nil {
		return nil, err
	}
	if err := l.recoverCheckpoint(ctx); err != nil {
		return nil, err
	}
	if len(cfg.Policy.Witnesses) > 0 {
		if l.witnesses, err = newWitnesses(ctx, l, cfg.Witnesses); err != nil {
			return nil, err
		}
		l.witnesses.start()
	}
	go l.sequence()
	return l, nil
}

// recoverCheckpoint makes sure a checkpoint for the committed tree exists and
// that the latest stored one is consistent with the tree.
func (l *Log) recoverCheckpoint(ctx context.Context) error {
	root, err := l.tree.root()
	if err != nil {
		return err
	}
	size := l.tree.size()
	cpSize, signed, err := l.st.LatestCheckpoint(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if size != 0 {
			l.log.Warn("no checkpoint stored for a non-empty tree: signing one", "size", size)
		}
	case err != nil:
		return fmt.Errorf("ledger: reading the latest checkpoint: %w", err)
	default:
		cp, _, err := verify.OpenCheckpoint(signed, l.origin, l.cfg.Policy.Verifier())
		if err != nil {
			return fmt.Errorf("ledger: the stored checkpoint at size %d does not verify with the policy's log key: %w", cpSize, err)
		}
		if cp.Size != cpSize {
			return fmt.Errorf("ledger: the checkpoint stored for size %d says size %d", cpSize, cp.Size)
		}
		var want []byte
		if cpSize == size {
			want = root
		} else {
			want, err = l.rootAt(ctx, cpSize)
			if err != nil {
				return err
			}
		}
		if !bytes.Equal(cp.Root[:], want) {
			return fmt.Errorf("ledger: the checkpoint for size %d has root %x, but the stored tree has %x there: refusing to sign a fork", cpSize, cp.Root, want)
		}
		if cpSize == size {
			l.latest.Store(&signedTree{size: size, root: root, signed: signed})
			return nil
		}
		l.log.Warn("the last batch was committed but not checkpointed (the process stopped in between): signing now", "checkpoint", cpSize, "size", size)
	}
	return l.signCheckpoint(ctx, size, root)
}

// registrarsKept refuses a policy that lacks a registrar the log used: its
// statements could no longer be verified, and its retirement is written
// with "until", not by deletion.
func registrarsKept(ctx context.Context, st store.Reader, policy *verify.Policy) error {
	return st.Scan(ctx, []byte{rowRegistrar}, func(k, v []byte) error {
		kid := string(k[1:])
		if _, ok := policy.Registrar(kid); ok {
			return nil
		}
		i, err := parseIndex(v)
		if err != nil {
			return err
		}
		return fmt.Errorf("%w: the trust policy lacks the registrar with key %s, which signed entry %d of this log: keep every registrar the log used in the policy, and retire one with \"until\"", ErrPolicy, kid, i)
	})
}

// rootAt computes the root of the tree at an earlier size from stored nodes.
func (l *Log) rootAt(ctx context.Context, size uint64) ([]byte, error) {
	if size == 0 {
		return hasher.EmptyRoot(), nil
	}
	// The root of a tree of size n is the compact range [0, n) folded.
	var hs [][]byte
	for _, id := range compact.RangeNodes(0, size, nil) {
		h, err := l.nodes.hash(ctx, id, l.tree.size())
		if err != nil {
			return nil, err
		}
		hs = append(hs, h)
	}
	rng, err := rangeFactory.NewRange(0, size, hs)
	if err != nil {
		return nil, err
	}
	return rng.GetRootHash(nil)
}

func (l *Log) signCheckpoint(ctx context.Context, size uint64, root []byte) error {
	signed, err := l.sign(size, root)
	if err != nil {
		return err
	}
	if err := l.st.PutCheckpoint(ctx, size, signed); err != nil {
		return fmt.Errorf("ledger: storing the checkpoint for size %d: %w", size, err)
	}
	l.published(&signedTree{size: size, root: root, signed: signed})
	return nil
}

// sign signs the checkpoint of the tree of size leaves and this root.
func (l *Log) sign(size uint64, root []byte) ([]byte, error) {
	cp := verify.Checkpoint{Origin: l.origin, Size: size}
	copy(cp.Root[:], root)
	signed, err := verify.SignCheckpoint(cp, l.cfg.Signer)
	if err != nil {
		return nil, fmt.Errorf("ledger: signing the checkpoint for size %d: %w", size, err)
	}
	return signed, nil
}

// published makes a stored checkpoint the latest and asks the witnesses to
// cosign it.
func (l *Log) published(t *signedTree) {
	l.latest.Store(t)
	if l.witnesses != nil {
		l.witnesses.notify() // never blocks: witnesses cosign in the background
	}
}

// Origin is the log's name, the first line of its checkpoints.
func (l *Log) Origin() string { return l.origin }

// Policy is the trust policy the log applies.
func (l *Log) Policy() *verify.Policy { return l.cfg.Policy }

// Checkpoint returns the latest signed checkpoint and its tree size.
func (l *Log) Checkpoint() (signed []byte, size uint64) {
	t := l.latest.Load()
	return bytes.Clone(t.signed), t.size
}

// Close stops accepting submissions, sequences those already accepted,
// and closes the storage. Appends still waiting get their result.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.closing)
	l.mu.Unlock()
	<-l.done
	if l.witnesses != nil {
		l.witnesses.close()
	}
	return l.st.Close()
}

func (l *Log) isClosed() bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.closed
}

// Health reports whether the log can serve reads and appends: ErrClosed
// after Close, the storage failure that stopped the sequencer if one did,
// or an error reading the latest checkpoint or entry from storage.
func (l *Log) Health(ctx context.Context) error {
	if l.isClosed() {
		return ErrClosed
	}
	if errp := l.failed.Load(); errp != nil {
		return fmt.Errorf("ledger: the sequencer stopped: %w", *errp)
	}
	if _, _, err := l.st.LatestCheckpoint(ctx); err != nil {
		return fmt.Errorf("ledger: reading the latest checkpoint: %w", err)
	}
	if _, size := l.Checkpoint(); size > 0 {
		if _, err := l.st.Entry(ctx, size-1); err != nil {
			return fmt.Errorf("ledger: reading entry %d: %w", size-1, err)
		}
	}
	return nil
}

// maxCachedKeys bounds the resolver's keys. A key alone is about a third
// of a parsed enrollment, so twice as many are kept: a signing morning of
// up to 32,768 enrolled employees resolves every key without a store read
// (a read and a parse each, when it was 16,384: in-process appends of
// 20,000 employees 11-16 % slower, BENCHMARKS.md, session 8), and the
// parsed enrollments, shared with them, stay at maxParsed.
const maxCachedKeys = 2 * maxParsed

// cacheKey remembers an enrolled key for the resolver. The cache is bounded:
// a province enrolls millions of keys, each used about once.
func (l *Log) cacheKey(k *pledge.PublicKey) { l.keys.put(k.KeyID(), k, maxCachedKeys) }

// resolver finds the public key a signature names: a registrar of the
// policy, or a key enrolled in the log (committed). A key whose enrollment
// is still being sequenced is not found: submit a pledge after its key's
// enrollment has been acknowledged.
type resolver struct{ l *Log }

func (r resolver) ResolveKey(kid string) (*pledge.PublicKey, error) {
	if k, err := r.l.cfg.Policy.ResolveKey(kid); err == nil {
		return k, nil // a registrar's or a policy reader's
	}
	if k, ok := r.l.keys.load(kid); ok {
		return k, nil
	}
	b, err := r.l.st.Get(context.Background(), keyKey(kid))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("key %s is neither enrolled in this log nor a registrar's: %w", kid, pledge.ErrUnknownKey)
	}
	if err != nil {
		return nil, err
	}
	rec, err := decodeKeyRecord(b)
	if err != nil {
		return nil, err
	}
	st, err := r.l.rules.parsed.statement(rec.Index, rec.Payload)
	if err != nil {
		return nil, err
	}
	e, ok := st.(*pledge.Enrollment)
	if !ok {
		return nil, fmt.Errorf("ledger: the key record of %s holds a %s", kid, st.StatementType())
	}
	r.l.cacheKey(e.JWK)
	return e.JWK, nil
}

// verifyOptions is how the log checks signatures: the policy's algorithms
// and roots, and keys from the policy or the log.
func (l *Log) verifyOptions() pledge.VerifyOptions {
	return l.cfg.Policy.VerifyOptions(resolver{l})
}

// Append submits one JWS (compact or JSON serialization, exactly as it will
// be logged) and returns once it is durable and covered by a signed
// checkpoint, or refused. Signatures are checked in the caller's goroutine,
// so many concurrent callers use every core; the sequencer then applies the
// log's rules in order and commits many entries with one sync.
//
// Refusals wrap ErrInvalid, ErrForbidden or pledge.ErrTooLarge, or are a
// *ConflictError; a full queue is a *PushbackError. The same JWS submitted
// again (or the same statement re-signed) returns the earlier entry with
// Duplicate set.
func (l *Log) Append(ctx context.Context, jws []byte) (Result, error) {
	if len(jws) > pledge.MaxJWSSize {
		return Result{}, fmt.Errorf("ledger: JWS of %d bytes is over the %d-byte limit: %w", len(jws), pledge.MaxJWSSize, pledge.ErrTooLarge)
	}
	// A closed store fails every read: say so, rather than let a failed key
	// lookup read as an invalid signature.
	if l.isClosed() {
		return Result{}, ErrClosed
	}
	// Below the disk reserve, refuse before spending a signature check.
	if err := l.disk.room(uint64(len(jws)), false); err != nil {
		return Result{}, err
	}
	v, err := pledge.Verify(jws, l.verifyOptions())
	if err != nil {
		switch {
		case errors.Is(err, pledge.ErrTooLarge):
			return Result{}, fmt.Errorf("ledger: %w", err)
		case errors.Is(err, pledge.ErrUnknownKey):
			return Result{}, fmt.Errorf("%w: %w", ErrForbidden, err)
		}
		return Result{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	r := &request{raw: v.Raw, v: v, dedup: dedupKey(v.Payload), done: make(chan result, 1)} // v.Raw is a copy
	res, err := l.enqueue(ctx, r)
	if e, ok := v.Statement.(*pledge.Enrollment); ok && err == nil {
		// Here, not in the sequencer: settling writes beside the tree.
		l.requests.settle(ctx, e, res.Index)
	}
	return res, err
}

func (l *Log) enqueue(ctx context.Context, r *request) (Result, error) {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return Result{}, ErrClosed
	}
	select {
	case l.queue <- r:
		l.pending.Add(1)
		l.mu.RUnlock()
	default:
		l.mu.RUnlock()
		l.stats.pushback.Add(1)
		return Result{}, &PushbackError{RetryAfter: time.Second, Pending: len(l.queue)}
	}
	select {
	case res := <-r.done:
		return res.res, res.err
	case <-ctx.Done():
		// The entry may still be logged; a resubmission finds it.
		return Result{}, fmt.Errorf("ledger: waiting for the append: %w", ctx.Err())
	}
}

// StorageStats are the storage engine's own figures (block cache hits and
// misses, memtables, disk use, level-0 files, read amplification,
// compaction debt), for metrics; zero where the engine reports none.
type StorageStats = store.EngineStats

// StorageStats reads the storage engine's figures. It is safe to call at
// any time, also while appends run.
func (l *Log) StorageStats() StorageStats {
	if r, ok := l.st.(store.StatsReporter); ok {
		return r.EngineStats()
	}
	return StorageStats{}
}

// BatchSizeBounds are the upper bounds of the buckets of
// StatsSnapshot.BatchSizes.
var BatchSizeBounds = [...]int{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096}

// Stats are counters of the sequencer, for metrics.
type Stats struct {
	batches, submitted, appended, pushback atomic.Int64
	nanos                                  atomic.Int64
	sizes                                  [len(BatchSizeBounds) + 1]atomic.Int64
}

func (s *Stats) observe(submitted, appended int, d time.Duration) {
	s.batches.Add(1)
	s.submitted.Add(int64(submitted))
	s.appended.Add(int64(appended))
	s.nanos.Add(int64(d))
	i := 0
	for i < len(BatchSizeBounds) && submitted > BatchSizeBounds[i] {
		i++
	}
	s.sizes[i].Add(1)
}

// StatsSnapshot is a copy of the counters.
type StatsSnapshot struct {
	Batches, Submitted, Appended, Pushback int64
	BatchTime                              time.Duration
	Pending                                int64
	Size                                   uint64
	// BatchSizes[i] counts the batches of more than BatchSizeBounds[i-1]
	// and at most BatchSizeBounds[i] submissions; the last element counts
	// the larger ones. Their sum is Batches.
	BatchSizes [len(BatchSizeBounds) + 1]int64
}

// Stats returns the sequencer's counters.
func (l *Log) Stats() StatsSnapshot {
	s := StatsSnapshot{
		Batches: l.stats.batches.Load(), Submitted: l.stats.submitted.Load(), Appended: l.stats.appended.Load(),
		Pushback: l.stats.pushback.Load(), BatchTime: time.Duration(l.stats.nanos.Load()),
		Pending: l.pending.Load(), Size: l.latest.Load().size,
	}
	for i := range s.BatchSizes {
		s.BatchSizes[i] = l.stats.sizes[i].Load()
	}
	return s
}
