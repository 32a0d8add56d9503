package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pakta-id/pakta/ledger/store"
)

// closeTimeout bounds closing the writer's connection: its lock goes with
// the session either way.
const closeTimeout = 5 * time.Second

// Commit writes b in one transaction on the writer's connection, its
// statements sent in one round trip. The first statement is the fence: it
// moves the committed size from b.From, and matches no row (ErrStale, the
// transaction rolled back) when the stored size is another.
func (s *Store) Commit(ctx context.Context, b *store.Batch) error {
	if err := s.checkWrite(ctx, fmt.Sprintf("commit at %d", b.From)); err != nil {
		return err
	}
	if err := b.Validate(); err != nil {
		return fmt.Errorf("pgstore: commit at %d: %w", b.From, err)
	}
	from, ok1 := signed(b.From)
	size, ok2 := signed(b.Size())
	if !ok1 || !ok2 {
		return fmt.Errorf("pgstore: commit at %d: tree size %d beyond a bigint", b.From, b.Size())
	}
	state := b.State
	if state == nil {
		state = []byte{}
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.closed.Load() {
		return errors.New("pgstore: store is closed")
	}
	tx, err := s.writer.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: commit at %d: %w", b.From, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	var q pgx.Batch
	q.Queue("UPDATE tree SET size = $1, state = $2 WHERE size = $3", size, state, from)
	if len(b.Entries) > 0 {
		q.Queue(`INSERT INTO entries (idx, data)
			SELECT $1::bigint + i - 1, d FROM unnest($2::bytea[]) WITH ORDINALITY AS u(d, i)`, from, b.Entries)
	}
	if len(b.Tiles) > 0 {
		// The last of a tile's versions in the batch wins, as in a
		// key-value batch; one INSERT may not update a row twice.
		last := map[[2]uint64]int{}
		for i, t := range b.Tiles {
			last[[2]uint64{uint64(t.Level), t.Index}] = i
		}
		levels := make([]int16, 0, len(last))
		idxs := make([]int64, 0, len(last))
		hashes := make([][]byte, 0, len(last))
		for i, t := range b.Tiles {
			if last[[2]uint64{uint64(t.Level), t.Index}] != i {
				continue
			}
			levels, idxs, hashes = append(levels, int16(t.Level)), append(idxs, tileIndex(t.Index)), append(hashes, t.Hashes)
		}
		q.Queue(`INSERT INTO tiles (level, idx, hashes) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])
			ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes`, levels, idxs, hashes)
	}
	if len(b.Rows) > 0 {
		keys, values := lastRows(b.Rows)
		q.Queue(`INSERT INTO rows (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[])
			ON CONFLICT (k) DO UPDATE SET v = excluded.v`, keys, values)
	}
	if b.Checkpoint != nil {
		// size ≥ the committed size ≥ the latest checkpoint's: always in range.
		q.Queue(`INSERT INTO checkpoints (size, signed) VALUES ($1, $2)
			ON CONFLICT (size) DO UPDATE SET signed = excluded.signed`, size, b.Checkpoint)
	}
	res := tx.SendBatch(ctx, &q)
	tag, err := res.Exec()
	if err == nil && tag.RowsAffected() == 0 {
		res.Close()
		var stored int64
		if err := tx.QueryRow(ctx, "SELECT size FROM tree").Scan(&stored); err != nil {
			return fmt.Errorf("pgstore: commit at %d: %w: %w", b.From, store.ErrStale, err)
		}
		return fmt.Errorf("pgstore: commit at %d, committed size is %d: %w", b.From, stored, store.ErrStale)
	}
	for i := 1; err == nil && i < q.Len(); i++ {
		_, err = res.Exec()
	}
	if cerr := res.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pgstore: commit %d entries at %d: %w", len(b.Entries), b.From, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: commit %d entries at %d: %w", len(b.Entries), b.From, err)
	}
	return nil
}

// lastRows returns the keys and values of rows, the last value of a key
// winning.
func lastRows(rows []store.Row) (keys, values [][]byte) {
	last := make(map[string]int, len(rows))
	for i, r := range rows {
		last[string(r.Key)] = i
	}
	keys, values = make([][]byte, 0, len(last)), make([][]byte, 0, len(last))
	for i, r := range rows {
		if last[string(r.Key)] == i {
			v := r.Value
			if v == nil {
				v = []byte{} // NOT NULL: an empty value is still a row
			}
			keys, values = append(keys, r.Key), append(values, v)
		}
	}
	return keys, values
}

// PutCheckpoint stores the signed checkpoint for size in one statement
// whose condition is the contract's: no higher than the committed size, no
// lower than the latest checkpoint.
func (s *Store) PutCheckpoint(ctx context.Context, size uint64, signedCkpt []byte) error {
	if err := s.checkWrite(ctx, fmt.Sprintf("checkpoint %d", size)); err != nil {
		return err
	}
	n, ok := signed(size)
	if !ok {
		return fmt.Errorf("pgstore: checkpoint %d: %w", size, store.ErrCheckpointSize)
	}
	if signedCkpt == nil {
		signedCkpt = []byte{}
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.closed.Load() {
		return errors.New("pgstore: store is closed")
	}
	tag, err := s.writer.Exec(ctx, `INSERT INTO checkpoints (size, signed)
		SELECT $1, $2 FROM tree WHERE size >= $1 AND $1 >= coalesce((SELECT max(size) FROM checkpoints), 0)
		ON CONFLICT (size) DO UPDATE SET signed = excluded.signed`, n, signedCkpt)
	if err != nil {
		return fmt.Errorf("pgstore: checkpoint %d: %w", size, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var (
		treeSize int64
		latest   *int64
	)
	if err := s.writer.QueryRow(ctx, "SELECT size, (SELECT max(size) FROM checkpoints) FROM tree").Scan(&treeSize, &latest); err != nil {
		return fmt.Errorf("pgstore: checkpoint %d: %w: %w", size, store.ErrCheckpointSize, err)
	}
	if n > treeSize {
		return fmt.Errorf("pgstore: checkpoint %d above tree size %d: %w", size, treeSize, store.ErrCheckpointSize)
	}
	return fmt.Errorf("pgstore: checkpoint %d below latest checkpoint %d: %w", size, *latest, store.ErrCheckpointSize)
}
