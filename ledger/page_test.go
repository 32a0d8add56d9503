package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// TestPledgesPage: paging through one person's pledges of a day returns
// every index once, in log order, whatever the page size; limits out of
// range are refused.
func TestPledgesPage(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	p, other := person(3), person(4)
	key, _ := e.enroll(p)
	okey, _ := e.enroll(other)
	var want []uint64
	for i := range 7 {
		// One pledge per election: seven pledges by p on one date,
		// interleaved with another person's.
		want = append(want, e.append(e.sign(e.pledgeStatement(p, fmt.Sprintf("Pemilu %d", 2024+i)), key)).Index)
		e.append(e.sign(e.pledgeStatement(other, fmt.Sprintf("Pemilu %d", 2024+i)), okey))
	}
	all, err := e.log.Pledges(ctx, p.Scheme, p.ID, "2023-11-27")
	if err != nil || !slices.Equal(all, want) {
		t.Fatalf("Pledges = %v, %v; want %v", all, err, want)
	}
	for _, limit := range []int{1, 2, 3, 6, 7, 8, MaxPageLimit} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			var got []uint64
			var from uint64
			for pages := 0; ; pages++ {
				pg, err := e.log.PledgesPage(ctx, p.Scheme, p.ID, "2023-11-27", from, limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(pg.Indexes) > limit || pages > len(want) {
					t.Fatalf("page %d: %d indexes for limit %d", pages, len(pg.Indexes), limit)
				}
				got = append(got, pg.Indexes...)
				if !pg.More {
					break
				}
				if pg.Next != pg.Indexes[len(pg.Indexes)-1]+1 {
					t.Fatalf("next %d after %v", pg.Next, pg.Indexes)
				}
				from = pg.Next
			}
			if !slices.Equal(got, want) {
				t.Fatalf("pages gave %v, want %v", got, want)
			}
		})
	}
	// Resuming past the end, or from an index between two pledges.
	if pg, err := e.log.PledgesPage(ctx, p.Scheme, p.ID, "2023-11-27", want[6]+1, 10); err != nil || len(pg.Indexes) != 0 || pg.More {
		t.Fatalf("past the end: %+v, %v", pg, err)
	}
	if pg, err := e.log.PledgesPage(ctx, p.Scheme, p.ID, "2023-11-27", want[2]+1, 2); err != nil || !slices.Equal(pg.Indexes, want[3:5]) || !pg.More {
		t.Fatalf("from between: %+v, %v", pg, err)
	}
	for _, limit := range []int{0, -1, MaxPageLimit + 1} {
		if _, err := e.log.PledgesPage(ctx, p.Scheme, p.ID, "2023-11-27", 0, limit); !errors.Is(err, ErrInvalid) {
			t.Errorf("limit %d: %v, want ErrInvalid", limit, err)
		}
	}
	if _, err := e.log.PledgesPage(ctx, p.Scheme, "123", "2023-11-27", 0, 10); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad NIP: %v", err)
	}
	hist, err := e.log.EntriesOfPage(ctx, p.Scheme, p.ID, 0, 3)
	if err != nil || len(hist.Indexes) != 3 || !hist.More {
		t.Fatalf("EntriesOfPage: %+v, %v", hist, err)
	}
}
