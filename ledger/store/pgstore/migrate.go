package pgstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The schema's migrations, in the binary: NNNN_name.sql, applied in order of
// NNNN, each once, each in its own transaction with its row in
// schema_migrations, so that a migration is applied whole or not at all.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order of version.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("pgstore: migrations: %w", err)
	}
	var ms []migration
	for _, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("pgstore: migration %s: the name must start with a version number and '_'", base)
		}
		b, err := migrationFS.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("pgstore: migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("pgstore: migration %s: version %d, want %d (no gaps, no repeats)", m.name, m.version, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion is the schema version this package creates and reads: the
// number of its embedded migrations.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

const createMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// migrate creates schema if needed and applies the migrations it lacks. The
// caller holds the log's writer lock, so no other pakta process migrates
// at the same time. A schema newer than this binary is refused: an older
// binary must not write to it.
func migrate(ctx context.Context, conn *pgx.Conn, schema string) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("pgstore: creating schema %s: %w", schema, err)
	}
	if _, err := conn.Exec(ctx, createMigrations); err != nil {
		return fmt.Errorf("pgstore: schema %s: %w", schema, err)
	}
	have, err := schemaVersion(ctx, conn)
	if err != nil {
		return fmt.Errorf("pgstore: schema %s: %w", schema, err)
	}
	if have > len(ms) {
		return fmt.Errorf("pgstore: schema %s is at version %d, newer than this binary's %d: upgrade pakta", schema, have, len(ms))
	}
	for _, m := range ms[have:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name)
			return err
		})
		if err != nil {
			return fmt.Errorf("pgstore: schema %s: migration %s: %w", schema, m.name, err)
		}
	}
	return nil
}

// schemaVersion returns the highest applied migration, 0 for none.
func schemaVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int, error) {
	var v int
	if err := q.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("reading the schema version: %w", err)
	}
	return v, nil
}
