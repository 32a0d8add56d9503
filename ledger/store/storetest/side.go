package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/pakta-id/pakta/ledger/store"
)

// The side rows (store.Side): beside the tree, durable, conditional inserts.

func sideUpdate(t *testing.T, s store.Store, u *store.SideUpdate) {
	t.Helper()
	if err := s.SideUpdate(t.Context(), u); err != nil {
		t.Fatalf("side update: %v", err)
	}
}

func sideRows(t *testing.T, s store.Store, prefix, start string) []string {
	t.Helper()
	var got []string
	err := s.SideScan(t.Context(), []byte(prefix), []byte(start), func(k, v []byte) error {
		got = append(got, string(k)+"="+string(v))
		return nil
	})
	if err != nil {
		t.Fatalf("side scan %q from %q: %v", prefix, start, err)
	}
	return got
}

func wantRows(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Errorf("%s: %q, want %q", what, got, want)
	}
}

// testSide: puts, replacements, deletes and scans, in a key space apart
// from the Batch rows, and all of it after a reopen.
func testSide(t *testing.T, open OpenFunc) {
	dir := t.TempDir()
	s := openT(t, open, dir)
	ctx := t.Context()
	if _, err := s.SideGet(ctx, []byte("q/1")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("side get in a new store: %v, want ErrNotFound", err)
	}
	wantRows(t, "scan of a new store", sideRows(t, s, "", ""))
	// A Batch row and a side row with the same key are different rows.
	commit(t, s, &store.Batch{Rows: []store.Row{{Key: []byte("q/1"), Value: []byte("tree")}}})
	sideUpdate(t, s, &store.SideUpdate{Put: []store.Row{
		{Key: []byte("q/1"), Value: []byte("a")}, {Key: []byte("q/2"), Value: []byte("b")},
		{Key: []byte("q/3"), Value: []byte("c")}, {Key: []byte("q\xff"), Value: []byte("d")},
		{Key: []byte("n/x"), Value: nil},
	}})
	if v, err := s.Get(ctx, []byte("q/1")); err != nil || string(v) != "tree" {
		t.Fatalf("the Batch row q/1: %q, %v; want \"tree\"", v, err)
	}
	var rows int
	if err := s.Scan(ctx, nil, func(k, v []byte) error { rows++; return nil }); err != nil || rows != 1 {
		t.Fatalf("Scan sees %d rows (%v), want the one Batch row", rows, err)
	}
	sideUpdate(t, s, &store.SideUpdate{Put: []store.Row{{Key: []byte("q/2"), Value: []byte("B")}}, Delete: [][]byte{[]byte("q/3"), []byte("q/none")}})
	check := func(s store.Store) {
		t.Helper()
		if v, err := s.SideGet(ctx, []byte("q/1")); err != nil || string(v) != "a" {
			t.Fatalf("side get q/1: %q, %v", v, err)
		}
		if _, err := s.SideGet(ctx, []byte("q/3")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("side get of a deleted row: %v, want ErrNotFound", err)
		}
		if v, err := s.SideGet(ctx, []byte("n/x")); err != nil || len(v) != 0 {
			t.Fatalf("side get of an empty value: %q, %v", v, err)
		}
		wantRows(t, "scan q/", sideRows(t, s, "q/", ""), "q/1=a", "q/2=B")
		wantRows(t, "scan q/ from q/2", sideRows(t, s, "q/", "q/2"), "q/2=B")
		wantRows(t, "scan q/ from q/10", sideRows(t, s, "q/", "q/10"), "q/2=B")
		wantRows(t, "scan q/ from a", sideRows(t, s, "q/", "a"), "q/1=a", "q/2=B")
		wantRows(t, "scan q", sideRows(t, s, "q", ""), "q/1=a", "q/2=B", "q\xff=d")
		wantRows(t, "scan all", sideRows(t, s, "", ""), "n/x=", "q/1=a", "q/2=B", "q\xff=d")
		wantRows(t, "scan r", sideRows(t, s, "r", ""))
	}
	check(s)
	closeT(t, s)
	s = openT(t, open, dir)
	defer s.Close()
	check(s)
	checkTree(t, s, 0)

	// fn's error stops the scan and comes back as is; a returned value is
	// the caller's to keep.
	stop := errors.New("stop")
	n := 0
	err := s.SideScan(ctx, []byte("q/"), nil, func(k, v []byte) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("side scan stopped by fn: %v after %d rows, want stop after 1", err, n)
	}
	v, _ := s.SideGet(ctx, []byte("q/1"))
	v[0] = 'z'
	if v2, _ := s.SideGet(ctx, []byte("q/1")); string(v2) != "a" {
		t.Errorf("changing a returned value changed the row: %q", v2)
	}
}

// testSideAbsent: a conditional insert writes nothing when a key exists,
// and a malformed update writes nothing.
func testSideAbsent(t *testing.T, open OpenFunc) {
	s := newStore(t, open)
	ctx := t.Context()
	sideUpdate(t, s, &store.SideUpdate{Absent: [][]byte{[]byte("n/1")}, Put: []store.Row{{Key: []byte("n/1"), Value: []byte("x")}}})
	err := s.SideUpdate(ctx, &store.SideUpdate{
		Absent: [][]byte{[]byte("n/2"), []byte("n/1")},
		Put:    []store.Row{{Key: []byte("n/2"), Value: []byte("y")}},
		Delete: [][]byte{[]byte("n/1")},
	})
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("insert over an existing key: %v, want ErrExists", err)
	}
	wantRows(t, "after a refused insert", sideRows(t, s, "n/", ""), "n/1=x")
	for _, u := range []*store.SideUpdate{
		{Put: []store.Row{{Key: []byte("n/3"), Value: []byte("z")}, {Key: nil, Value: []byte("z")}}},
		{Put: []store.Row{{Key: []byte("n/3"), Value: []byte("z")}}, Delete: [][]byte{[]byte("n/3")}},
		{Put: []store.Row{{Key: []byte("n/3"), Value: []byte("z")}}, Absent: [][]byte{{}}},
		{Put: []store.Row{{Key: []byte("n/3"), Value: []byte("z")}}, Delete: [][]byte{{}}},
	} {
		if err := s.SideUpdate(ctx, u); err == nil {
			t.Errorf("malformed side update %+v: no error", u)
		}
	}
	wantRows(t, "after malformed updates", sideRows(t, s, "n/", ""), "n/1=x")
	// The key freed by a delete can be inserted again.
	sideUpdate(t, s, &store.SideUpdate{Delete: [][]byte{[]byte("n/1")}})
	sideUpdate(t, s, &store.SideUpdate{Absent: [][]byte{[]byte("n/1")}, Put: []store.Row{{Key: []byte("n/1"), Value: []byte("again")}}})
	wantRows(t, "after delete and insert", sideRows(t, s, "n/", ""), "n/1=again")
}

// testSideConcurrent: of concurrent inserts of one key, exactly one wins,
// and inserts of different keys all win.
func testSideConcurrent(t *testing.T, open OpenFunc) {
	s := newStore(t, open)
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.SideUpdate(t.Context(), &store.SideUpdate{
				Absent: [][]byte{[]byte("code/123456")},
				Put: []store.Row{{Key: []byte("code/123456"), Value: fmt.Appendf(nil, "%d", i)},
					{Key: fmt.Appendf(nil, "other/%02d", i), Value: nil}},
			})
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("inserts %d and %d of one key both succeeded", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, store.ErrExists):
			t.Fatalf("insert %d: %v, want nil or ErrExists", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no insert succeeded")
	}
	wantRows(t, "the winner's row", sideRows(t, s, "code/", ""), fmt.Sprintf("code/123456=%d", won))
	wantRows(t, "the winner's other row", sideRows(t, s, "other/", ""), fmt.Sprintf("other/%02d=", won))
}

// testSideClosed: side reads and updates fail after Close.
func testSideClosed(t *testing.T, open OpenFunc) {
	s := openT(t, open, t.TempDir())
	ctx := t.Context()
	closeT(t, s)
	if _, err := s.SideGet(ctx, []byte("k")); err == nil {
		t.Error("side get after close: no error")
	}
	if err := s.SideScan(ctx, nil, nil, func(k, v []byte) error { return nil }); err == nil {
		t.Error("side scan after close: no error")
	}
	if err := s.SideUpdate(ctx, &store.SideUpdate{Put: []store.Row{{Key: []byte("k")}}}); err == nil {
		t.Error("side update after close: no error")
	}
}
