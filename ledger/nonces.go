package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pakta-id/pakta/ledger/store"
)

// ErrReplay: a read token's nonce was already used (UseNonce). HTTP 401.
var ErrReplay = errors.New("ledger: nonce already used")

// Side row keys of used nonces (store.Side):
//
//	n/<nonce>                → exp (Unix seconds, 8B BE)
//	N/<exp 8B BE><nonce>     → ∅: for purging them in order of exp
var (
	noncePrefix    = []byte("n/")
	nonceDuePrefix = []byte("N/")
)

func nonceKey(nonce string) []byte { return append(bytes.Clone(noncePrefix), nonce...) }
func nonceDueKey(exp int64, nonce string) []byte {
	return append(binary.BigEndian.AppendUint64(bytes.Clone(nonceDuePrefix), uint64(exp)), nonce...)
}

// nonces purges used nonces once their tokens have expired.
type nonces struct {
	mu        sync.Mutex
	nextPurge time.Time
}

// UseNonce records that a read token with nonce, valid until exp, was
// accepted, durably (it survives a restart), and returns an error wrapping
// ErrReplay if the nonce was already used by a token not yet expired. Call
// it after the token's signature is checked, so that only a reader can use
// up a nonce. Nonces are forgotten once exp has passed, when a token that
// carries them is refused as expired anyway.
func (l *Log) UseNonce(ctx context.Context, nonce string, exp time.Time) error {
	if l.isClosed() {
		return ErrClosed
	}
	now := l.cfg.Clock()
	if err := l.purgeNonces(ctx, now); err != nil {
		return err
	}
	e := exp.Unix()
	u := &store.SideUpdate{Absent: [][]byte{nonceKey(nonce)}, Put: nonceRows(nonce, e)}
	err := l.st.SideUpdate(ctx, u)
	if errors.Is(err, store.ErrExists) {
		// Still remembered: it may belong to an expired token the purge
		// has not reached yet.
		if b, gerr := l.st.SideGet(ctx, nonceKey(nonce)); gerr == nil && len(b) == 8 && int64(binary.BigEndian.Uint64(b)) <= now.Unix() {
			old := int64(binary.BigEndian.Uint64(b))
			u.Absent = nil
			u.Delete = [][]byte{nonceDueKey(old, nonce)}
			if old == e {
				u.Delete = nil
			}
			err = l.st.SideUpdate(ctx, u)
		} else {
			return fmt.Errorf("%w: nonce %q was used before: sign a new token for each request", ErrReplay, nonce)
		}
	}
	if err != nil {
		return fmt.Errorf("ledger: recording a read nonce: %w", err)
	}
	return nil
}

// nonceRows remember a used nonce until its token expires (e, Unix
// seconds), and when to forget it.
func nonceRows(nonce string, e int64) []store.Row {
	return []store.Row{{Key: nonceKey(nonce), Value: binary.BigEndian.AppendUint64(nil, uint64(e))}, {Key: nonceDueKey(e, nonce)}}
}

// purgeNonces forgets the nonces of expired tokens, at most once a minute
// and at most 10,000 at a time.
func (l *Log) purgeNonces(ctx context.Context, now time.Time) error {
	n := &l.nonces
	n.mu.Lock()
	defer n.mu.Unlock()
	if now.Before(n.nextPurge) {
		return nil
	}
	n.nextPurge = now.Add(time.Minute)
	u := &store.SideUpdate{}
	err := l.st.SideScan(ctx, nonceDuePrefix, nil, func(k, _ []byte) error {
		if len(k) < len(nonceDuePrefix)+8 || int64(binary.BigEndian.Uint64(k[len(nonceDuePrefix):])) >= now.Unix() || len(u.Delete) >= 20_000 {
			return errStopScan
		}
		u.Delete = append(u.Delete, bytes.Clone(k), nonceKey(string(k[len(nonceDuePrefix)+8:])))
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return fmt.Errorf("ledger: reading used nonces: %w", err)
	}
	if len(u.Delete) == 0 {
		return nil
	}
	if err := l.st.SideUpdate(ctx, u); err != nil {
		return fmt.Errorf("ledger: forgetting used nonces: %w", err)
	}
	return nil
}
