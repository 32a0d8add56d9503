package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/ledger/witness"
	"github.com/pakta-id/pakta/verify"
)

// Defaults for the zero values of WitnessConfig.
const (
	// DefaultWitnessTimeout bounds one add-checkpoint request.
	DefaultWitnessTimeout = 10 * time.Second
	// DefaultWitnessRetry is how long a witness that failed is left alone
	// before the log asks again (a new checkpoint does not hurry it).
	DefaultWitnessRetry = 5 * time.Second
)

// WitnessConfig is how the log asks the policy's witnesses (those with a
// url) to cosign. The zero value is ready to use.
type WitnessConfig struct {
	// HTTP sends add-checkpoint requests; nil means a client of its own
	// with no overall timeout (Timeout bounds each request).
	HTTP *http.Client
	// Timeout bounds one request; 0 means DefaultWitnessTimeout.
	Timeout time.Duration
	// Retry is the pause after a failed request; 0 means
	// DefaultWitnessRetry.
	Retry time.Duration
}

// Side rows of witnessing (store.Side: beside the tree, not in it).
var (
	// w/s/<witness name> → the size the witness last cosigned (8 bytes).
	witnessSizePrefix = []byte("w/s/")
	// w/c/<size:8> → the checkpoint of that size with every cosignature
	// the log collected for it.
	cosignedPrefix = []byte("w/c/")
	// w/q → the size of the newest checkpoint with a quorum.
	witnessedKey = []byte("w/q")
)

func cosignedKey(size uint64) []byte {
	return binary.BigEndian.AppendUint64(bytes.Clone(cosignedPrefix), size)
}

// witnesses is the log's side of witnessing: a goroutine per witness, woken
// after each checkpoint, so that the sequencer never waits for one.
type witnesses struct {
	l       *Log
	cfg     WitnessConfig
	each    []*witnessState
	merge   sync.Mutex // one read-modify-write of a w/c/ row at a time
	stop    chan struct{}
	ctx     context.Context // cancelled by close: no request outlives the log
	cancel  context.CancelFunc
	stopped sync.WaitGroup
	// witnessed is the newest checkpoint with a quorum of cosignatures.
	witnessed atomic.Pointer[signedTree]
}

type witnessState struct {
	w      *verify.Witness
	client *witness.Client
	wake   chan struct{}
	size   uint64 // the size the witness last cosigned, as the log knows it
	stats  WitnessStats
	mu     sync.Mutex // guards stats' non-atomic fields
}

// WitnessStats are one witness's counters, for metrics.
type WitnessStats struct {
	Name string
	// Size is the latest size the witness cosigned for this log.
	Size uint64
	// Cosigned counts cosignatures received; Conflicts the 409s (the
	// witness had another size); Refused the other refusals (403, 404,
	// 422: a 422 is a fork or a bug, and is logged as an error); Failed
	// the requests that got no answer (down, timeout).
	Cosigned, Conflicts, Refused, Failed int64
	// LastCosigned is when the last cosignature arrived (the log's clock).
	LastCosigned time.Time
}

func newWitnesses(ctx context.Context, l *Log, cfg WitnessConfig) (*witnesses, error) {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultWitnessTimeout
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultWitnessRetry
	}
	ws := &witnesses{l: l, cfg: cfg, stop: make(chan struct{})}
	ws.ctx, ws.cancel = context.WithCancel(context.Background())
	for _, w := range l.cfg.Policy.Witnesses {
		s := &witnessState{w: w, wake: make(chan struct{}, 1), stats: WitnessStats{Name: w.Name}}
		if w.URL != "" {
			s.client = &witness.Client{URL: w.URL, HTTP: cfg.HTTP}
		}
		b, err := l.st.SideGet(ctx, append(bytes.Clone(witnessSizePrefix), w.Name...))
		switch {
		case err == nil && len(b) == 8:
			s.size = binary.BigEndian.Uint64(b)
		case err == nil:
			return nil, fmt.Errorf("ledger: witness %q: a size row of %d bytes", w.Name, len(b))
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("ledger: reading witness %q's size: %w", w.Name, err)
		}
		s.stats.Size = s.size
		ws.each = append(ws.each, s)
	}
	b, err := l.st.SideGet(ctx, witnessedKey)
	switch {
	case err == nil && len(b) == 8:
		size := binary.BigEndian.Uint64(b)
		signed, err := l.st.SideGet(ctx, cosignedKey(size))
		if err != nil {
			return nil, fmt.Errorf("ledger: the witnessed checkpoint of size %d: %w", size, err)
		}
		// A policy with other witnesses or another quorum than when it was
		// stored: the row is kept, but bundles use it only if it still
		// meets the quorum.
		if l.cfg.Policy.Witnessed(signed) {
			ws.witnessed.Store(&signedTree{size: size, signed: signed})
		}
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("ledger: reading the witnessed checkpoint: %w", err)
	}
	return ws, nil
}

// start runs a goroutine per witness with a URL.
func (ws *witnesses) start() {
	for _, s := range ws.each {
		if s.client == nil {
			continue
		}
		ws.stopped.Add(1)
		go ws.run(s)
		s.poke()
	}
}

func (ws *witnesses) close() {
	ws.cancel()
	close(ws.stop)
	ws.stopped.Wait()
}

// notify wakes every witness's goroutine: a new checkpoint is signed. It
// never blocks (the sequencer calls it).
func (ws *witnesses) notify() {
	for _, s := range ws.each {
		s.poke()
	}
}

func (s *witnessState) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (ws *witnesses) run(s *witnessState) {
	defer ws.stopped.Done()
	for {
		select {
		case <-ws.stop:
			return
		case <-s.wake:
		}
		if err := ws.cosign(s); err != nil {
			ws.l.log.Warn("witness did not cosign", "witness", s.w.Name, "url", s.w.URL, "err", err)
			select {
			case <-ws.stop:
				return
			case <-time.After(ws.cfg.Retry):
				s.poke()
			}
		}
	}
}

// cosign brings one witness up to the latest checkpoint.
func (ws *witnesses) cosign(s *witnessState) error {
	l := ws.l
	for attempt := 0; attempt < 3; attempt++ {
		cp := l.latest.Load()
		if cp.size == 0 || cp.size == s.size && ws.has(s, cp.size) {
			return nil
		}
		if s.size > cp.size {
			// The witness has seen a larger tree of this origin than the
			// log holds: the log lost entries, or someone signed another
			// history with its key.
			s.count(func(st *WitnessStats) { st.Refused++ })
			l.log.Error("a witness has cosigned a larger tree than this log holds: a rollback or a fork", "witness", s.w.Name, "witness_size", s.size, "size", cp.size)
			return fmt.Errorf("ledger: witness %q cosigned size %d, beyond this log's %d", s.w.Name, s.size, cp.size)
		}
		var proof [][]byte
		if s.size > 0 && s.size < cp.size {
			var err error
			if proof, err = l.nodes.consistency(ws.ctx, s.size, cp.size); err != nil {
				return fmt.Errorf("ledger: consistency proof %d to %d: %w", s.size, cp.size, err)
			}
		}
		ctx, cancel := context.WithTimeout(ws.ctx, ws.cfg.Timeout)
		lines, err := s.client.AddCheckpoint(ctx, s.size, proof, cp.signed)
		cancel()
		var conflict *witness.ConflictError
		var status *witness.StatusError
		switch {
		case errors.As(err, &conflict):
			// The witness knows another size: ask again from there.
			s.count(func(st *WitnessStats) { st.Conflicts++ })
			if conflict.Size == s.size {
				return fmt.Errorf("ledger: witness %q refuses size %d with the root it holds: %w", s.w.Name, cp.size, err)
			}
			s.size = conflict.Size
			continue
		case errors.As(err, &status):
			s.count(func(st *WitnessStats) { st.Refused++ })
			if status.Code == http.StatusUnprocessableEntity {
				l.log.Error("a witness refused the consistency proof: a fork of this log, or a bug", "witness", s.w.Name, "from", s.size, "to", cp.size, "err", err)
			}
			return err
		case err != nil:
			s.count(func(st *WitnessStats) { st.Failed++ })
			return err
		}
		if err := ws.store(s, cp, lines); err != nil {
			s.count(func(st *WitnessStats) { st.Refused++ })
			return err
		}
		s.count(func(st *WitnessStats) {
			st.Cosigned++
			st.Size = cp.size
			st.LastCosigned = l.cfg.Clock()
		})
		return nil
	}
	return fmt.Errorf("ledger: witness %q keeps answering 409", s.w.Name)
}

// has reports whether the log holds s's cosignature of the checkpoint of
// size (a restart between the witness's answer and the next checkpoint).
func (ws *witnesses) has(s *witnessState, size uint64) bool {
	b, err := ws.l.st.SideGet(context.Background(), cosignedKey(size))
	if err != nil {
		return false
	}
	prefix := "— " + s.w.Verifier().Name() + " "
	return strings.Contains(string(b), "\n"+prefix)
}

// store keeps the witness's valid cosignature lines on the checkpoint of
// their size (merged with the other witnesses'), the witness's new size,
// and, when the checkpoint now has a quorum and is newer than the last one
// that had, makes it the one bundles carry.
func (ws *witnesses) store(s *witnessState, cp *signedTree, lines []byte) error {
	v := s.w.Verifier()
	var mine []byte
	for _, line := range strings.SplitAfter(string(lines), "\n") {
		if strings.HasPrefix(line, "— "+v.Name()+" ") {
			mine = append(mine, line...)
		}
	}
	if len(mine) == 0 {
		return fmt.Errorf("ledger: witness %q: %w", s.w.Name, witness.ErrNotCosigned)
	}
	if !bytes.HasSuffix(mine, []byte("\n")) {
		mine = append(mine, '\n')
	}
	ws.merge.Lock()
	defer ws.merge.Unlock()
	ctx := context.Background()
	base, err := ws.l.st.SideGet(ctx, cosignedKey(cp.size))
	if errors.Is(err, store.ErrNotFound) {
		base, err = cp.signed, nil
	}
	if err != nil {
		return fmt.Errorf("ledger: reading the cosigned checkpoint %d: %w", cp.size, err)
	}
	merged, err := verify.AddSignatures(base, mine)
	if err != nil {
		return fmt.Errorf("ledger: witness %q answered: %w", s.w.Name, err)
	}
	// Keep only what verifies: a witness that answers with a bad line gets
	// nothing stored, and the log says so.
	_, n, err := verify.OpenCheckpoint(merged, ws.l.origin, ws.l.cfg.Policy.Verifier())
	if err != nil {
		return fmt.Errorf("ledger: witness %q answered: %w", s.w.Name, err)
	}
	valid, invalid := ws.l.cfg.Policy.Cosignatures(n)
	for _, w := range invalid {
		if w == s.w {
			return fmt.Errorf("ledger: witness %q answered with a cosignature that does not verify", s.w.Name)
		}
	}
	if !slices.ContainsFunc(valid, func(c verify.Cosignature) bool { return c.Witness == s.w }) {
		return fmt.Errorf("ledger: witness %q: %w under its key", s.w.Name, witness.ErrNotCosigned)
	}
	u := &store.SideUpdate{Put: []store.Row{
		{Key: cosignedKey(cp.size), Value: merged},
		{Key: append(bytes.Clone(witnessSizePrefix), s.w.Name...), Value: binary.BigEndian.AppendUint64(nil, cp.size)},
	}}
	quorum := len(invalid) == 0 && len(valid) >= ws.l.cfg.Policy.Quorum()
	prev := ws.witnessed.Load()
	newer := quorum && (prev == nil || cp.size >= prev.size)
	if newer {
		u.Put = append(u.Put, store.Row{Key: witnessedKey, Value: binary.BigEndian.AppendUint64(nil, cp.size)})
	}
	if err := ws.l.st.SideUpdate(ctx, u); err != nil {
		return fmt.Errorf("ledger: storing witness %q's cosignature: %w", s.w.Name, err)
	}
	s.size = cp.size
	if newer {
		ws.witnessed.Store(&signedTree{size: cp.size, root: cp.root, signed: merged})
	}
	return nil
}

func (s *witnessState) count(f func(*WitnessStats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// Witnessed returns the newest checkpoint that carries a quorum of the
// policy's witnesses' cosignatures, and its size; nil and 0 before there
// is one (or with no witnesses in the policy).
func (l *Log) Witnessed() (signed []byte, size uint64) {
	if l.witnesses == nil {
		return nil, 0
	}
	t := l.witnesses.witnessed.Load()
	if t == nil {
		return nil, 0
	}
	return bytes.Clone(t.signed), t.size
}

// WitnessStats returns each policy witness's counters, in policy order.
func (l *Log) WitnessStats() []WitnessStats {
	if l.witnesses == nil {
		return nil
	}
	out := make([]WitnessStats, len(l.witnesses.each))
	for i, s := range l.witnesses.each {
		s.mu.Lock()
		out[i] = s.stats
		s.mu.Unlock()
	}
	return out
}
