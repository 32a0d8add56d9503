package pebblestore

import (
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/pakta-id/pakta/ledger/store"
)

// sidePrefix holds the side rows: s/<key> → value (store.Side).
const sidePrefix = "s/"

// SideKey returns the Pebble key of the side row with the given key.
func SideKey(key []byte) []byte { return append([]byte(sidePrefix), key...) }

// SideGet returns the value of the side row with key.
func (s *Store) SideGet(ctx context.Context, key []byte) ([]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	v, err := s.get(SideKey(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("pebblestore: side row %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("pebblestore: side row %q: %w", key, err)
	}
	return v, nil
}

// SideScan calls fn for the side rows under prefix from start, in key
// order, from one consistent snapshot (an iterator is one).
func (s *Store) SideScan(ctx context.Context, prefix, start []byte, fn func(key, value []byte) error) error {
	return s.scan(ctx, "side rows", sidePrefix, prefix, start, fn)
}

// SideUpdate applies u in one synced Pebble batch. sideMu makes the check of
// u.Absent and the write one step: this Store is the only writer.
func (s *Store) SideUpdate(ctx context.Context, u *store.SideUpdate) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if s.readOnly {
		return errors.New("pebblestore: side update: store opened read-only")
	}
	if err := u.Validate(); err != nil {
		return fmt.Errorf("pebblestore: %w", err)
	}
	s.sideMu.Lock()
	defer s.sideMu.Unlock()
	for _, k := range u.Absent {
		_, closer, err := s.db.Get(SideKey(k))
		if err == nil {
			closer.Close()
			return fmt.Errorf("pebblestore: side row %q: %w", k, store.ErrExists)
		}
		if !errors.Is(err, pebble.ErrNotFound) {
			return fmt.Errorf("pebblestore: side row %q: %w", k, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	wb := s.db.NewBatch()
	defer wb.Close()
	for _, r := range u.Put {
		if err := wb.Set(SideKey(r.Key), r.Value, nil); err != nil {
			return fmt.Errorf("pebblestore: side update: %w", err)
		}
	}
	for _, k := range u.Delete {
		if err := wb.Delete(SideKey(k), nil); err != nil {
			return fmt.Errorf("pebblestore: side update: %w", err)
		}
	}
	if err := wb.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("pebblestore: side update of %d rows: %w", len(u.Put)+len(u.Delete), err)
	}
	return nil
}
