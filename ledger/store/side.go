package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

// ErrExists is returned by SideUpdate when a key of Update.Absent is stored:
// nothing was written.
var ErrExists = errors.New("store: row exists")

// Side is what a log keeps beside the Merkle tree: pending enrollment
// requests and the nonces of read tokens today (the roster, read records
// and witness state later). Its rows are not entries: nothing hashes them,
// so they are not tamper-evident, and the ledger changes and deletes them
// as it likes. They are a key space of their own: Get and Scan never see a
// side row, nor SideGet and SideScan a Batch row.
//
// Durability is Commit's: SideUpdate returns nil only once the whole update
// is durable (synced to stable storage), an update is all or nothing, and a
// store reopened after a crash holds exactly the updates that returned nil
// (and possibly the one in flight, whole or not at all). Side updates are
// independent of Commit: neither waits for nor orders the other.
//
// Reads follow Reader's rules: safe concurrently with each other and with
// every update, a read sees all of an update or none of it, and every
// returned []byte is the caller's.
type Side interface {
	// SideGet returns the value of the side row with key, or ErrNotFound.
	SideGet(ctx context.Context, key []byte) ([]byte, error)

	// SideScan calls fn for every side row whose key starts with prefix
	// and is at least start (start below prefix means from the first), in
	// ascending byte order of keys, from one consistent view. The slices
	// passed to fn are valid only during the call. If fn returns an error,
	// SideScan stops and returns that error unwrapped.
	SideScan(ctx context.Context, prefix, start []byte, fn func(key, value []byte) error) error

	// SideUpdate applies u atomically and returns nil once it is durable.
	// If a key of u.Absent is stored it writes nothing and returns an error
	// wrapping ErrExists; the check and the writes are one step, so of
	// concurrent updates that each require a key absent and put it, at most
	// one succeeds. A malformed update (see SideUpdate.Validate) is an
	// error, and nothing is written.
	SideUpdate(ctx context.Context, u *SideUpdate) error
}

// SideUpdate is one atomic change to the side rows.
type SideUpdate struct {
	// Absent are keys that must not be stored for the update to apply: a
	// conditional insert (a nonce used once, a code unique among pending
	// requests).
	Absent [][]byte
	// Put rows replace any stored value of their key.
	Put []Row
	// Delete removes rows; deleting an absent key is not an error.
	Delete [][]byte
}

// Validate reports whether u is well formed: no empty key, and no key both
// put and deleted.
func (u *SideUpdate) Validate() error {
	for _, k := range u.Absent {
		if len(k) == 0 {
			return errors.New("store: side update: an empty Absent key")
		}
	}
	for i, r := range u.Put {
		if len(r.Key) == 0 {
			return fmt.Errorf("store: side update: put %d has an empty key", i)
		}
	}
	for i, k := range u.Delete {
		if len(k) == 0 {
			return fmt.Errorf("store: side update: delete %d has an empty key", i)
		}
		for _, r := range u.Put {
			if bytes.Equal(r.Key, k) {
				return fmt.Errorf("store: side update: key %q is both put and deleted", k)
			}
		}
	}
	return nil
}
