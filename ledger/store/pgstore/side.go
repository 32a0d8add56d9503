package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/pakta-id/pakta/ledger/store"
)

// SideGet returns the value of the side row with key.
func (s *Store) SideGet(ctx context.Context, key []byte) ([]byte, error) {
	return s.get(ctx, "side", "side row", key)
}

// SideScan calls fn for every side row whose key starts with prefix and is
// at least start, in key order, from one query.
func (s *Store) SideScan(ctx context.Context, prefix, start []byte, fn func(key, value []byte) error) error {
	return s.scan(ctx, "side", "side rows", prefix, start, fn)
}

// SideUpdate applies u in one transaction. sideMu makes its check of the
// Absent keys and its writes one step among this process's updates; other
// processes do not write side rows, as they do not hold the writer lock.
func (s *Store) SideUpdate(ctx context.Context, u *store.SideUpdate) error {
	if err := s.checkWrite(ctx, "side update"); err != nil {
		return err
	}
	if err := u.Validate(); err != nil {
		return fmt.Errorf("pgstore: %w", err)
	}
	s.sideMu.Lock()
	defer s.sideMu.Unlock()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if len(u.Absent) > 0 {
			var k []byte
			err := tx.QueryRow(ctx, "SELECT k FROM side WHERE k = ANY($1::bytea[]) LIMIT 1", u.Absent).Scan(&k)
			if err == nil {
				return fmt.Errorf("side row %q: %w", k, store.ErrExists)
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		if len(u.Delete) > 0 {
			if _, err := tx.Exec(ctx, "DELETE FROM side WHERE k = ANY($1::bytea[])", u.Delete); err != nil {
				return err
			}
		}
		if len(u.Put) > 0 {
			keys, values := lastRows(u.Put)
			_, err := tx.Exec(ctx, `INSERT INTO side (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[])
				ON CONFLICT (k) DO UPDATE SET v = excluded.v`, keys, values)
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: side update: %w", err)
	}
	return nil
}
