package ledger

import (
	"bytes"
	"context"
	"sync"

	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/verify"
)

// sharedProofs keeps, for the checkpoint bundles are built against, the
// entry and proof of the templates they carry. An election's pledges share
// a handful of templates, so between two checkpoints every bundle but the
// first carried the same template entry and proof, read and computed again
// each time (an entry read and a proof's node reads). Entries and proofs
// under a checkpoint never change; a new checkpoint starts afresh.
type sharedProofs struct {
	mu sync.Mutex
	cp *signedTree
	m  map[uint64]*verify.EntryProof
}

// maxSharedProofs bounds the templates kept per checkpoint.
const maxSharedProofs = 16

// templateProof is entry index (a template) with its proof under cp, from
// the cache when another bundle under cp carried it. The caller owns the
// returned value. rows are as proofText's.
func (l *Log) templateProof(ctx context.Context, index uint64, cp *signedTree, rows []store.Tile) (*verify.EntryProof, error) {
	s := &l.shared
	s.mu.Lock()
	ep, ok := s.m[index]
	if s.cp != cp {
		ok = false
	}
	s.mu.Unlock()
	if ok {
		return &verify.EntryProof{Entry: bytes.Clone(ep.Entry), Proof: ep.Proof}, nil
	}
	ep, err := l.entryProof(ctx, index, cp, rows)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.cp == nil || cp.size > s.cp.size || (cp.size == s.cp.size && cp != s.cp):
		// A newer checkpoint (or the same size re-signed, e.g. cosigned):
		// what was kept is for an older one.
		s.cp, s.m = cp, make(map[uint64]*verify.EntryProof)
	case cp != s.cp:
		return ep, nil // built against an older checkpoint than the one kept
	}
	if len(s.m) < maxSharedProofs {
		s.m[index] = &verify.EntryProof{Entry: bytes.Clone(ep.Entry), Proof: ep.Proof}
	}
	return ep, nil
}
