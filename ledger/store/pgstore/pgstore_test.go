package pgstore_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/ledger/store/pgstore"
	"github.com/pakta-id/pakta/ledger/store/pgstore/pgtest"
	"github.com/pakta-id/pakta/ledger/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// schemaFor maps the suite's directories to schemas: a directory is a log.
func schemaFor(dir string) string {
	h := sha256.Sum256([]byte(dir))
	return "c_" + hex.EncodeToString(h[:8])
}

func TestConformance(t *testing.T) {
	url := pgtest.URL(t)
	storetest.Run(t, func(t *testing.T, dir string) (store.Store, error) {
		return pgstore.Open(t.Context(), url, pgstore.Options{Schema: schemaFor(dir)})
	})
}

// TestWait: a second writer waits for the lock and gets it once the first
// closes, and then sees what the first committed.
func TestWait(t *testing.T) {
	url := pgtest.URL(t)
	ctx := t.Context()
	opts := pgstore.Options{Schema: pgtest.Schema(t)}
	s1, err := pgstore.Open(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.Commit(ctx, &store.Batch{From: 0, Entries: [][]byte{[]byte("a")}}); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	var s2 *pgstore.Store
	go func() {
		wopts := opts
		wopts.Wait = true
		var err error
		s2, err = pgstore.Open(ctx, url, wopts)
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("second writer opened while the first holds the lock: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second writer still waiting 10s after the first closed")
	}
	defer s2.Close()
	size, _, err := s2.State(ctx)
	if err != nil || size != 1 {
		t.Fatalf("state after takeover: %d, %v; want 1", size, err)
	}
	if err := s2.Commit(ctx, &store.Batch{From: 0, Entries: [][]byte{[]byte("b")}}); !errors.Is(err, store.ErrStale) {
		t.Fatalf("commit from 0 after takeover: %v, want ErrStale", err)
	}
}

// TestReadOnly: a read-only store reads a log that a writer holds, and
// refuses to write.
func TestReadOnly(t *testing.T) {
	url := pgtest.URL(t)
	ctx := t.Context()
	schema := pgtest.Schema(t)
	w, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Commit(ctx, &store.Batch{From: 0, Entries: [][]byte{[]byte("a")}}); err != nil {
		t.Fatal(err)
	}
	r, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if e, err := r.Entry(ctx, 0); err != nil || string(e) != "a" {
		t.Fatalf("entry 0 read-only: %q, %v", e, err)
	}
	if err := r.Commit(ctx, &store.Batch{From: 1, Entries: [][]byte{[]byte("b")}}); err == nil {
		t.Fatal("commit on a read-only store: no error")
	}
	if _, err := pgstore.Open(ctx, url, pgstore.Options{Schema: pgtest.Schema(t), ReadOnly: true}); err == nil {
		t.Fatal("read-only open of a schema never created: no error")
	}
}
