package httpapi

import (
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// TestPledgesPages: GET /v1/pledges pages through a person's pledges with
// limit and the cursor it hands out; every bundle comes once, in log order,
// and limits or cursors it did not give are 400.
func TestPledgesPages(t *testing.T) {
	e := newEnv(t, nil, Options{})
	alice := e.enroll(20)
	var want []uint64
	for i := range 5 {
		r := e.submit(e.sign(e.pledgeStatement(alice.p, fmt.Sprintf("Pemilu %d", 2024+i)), alice.key))
		if r.status != 201 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		idx, _ := bundleIndex(t, r.body)
		want = append(want, idx)
	}
	base := "/v1/pledges?nip=" + alice.p.ID + "&date=2023-11-27"
	type pageJSON struct {
		Bundles    []jsontext.Value `json:"bundles"`
		NextCursor string           `json:"next_cursor"`
	}
	for _, limit := range []string{"", "1", "2", "4", "5", "1000"} {
		t.Run("limit="+limit, func(t *testing.T) {
			var got []uint64
			cursor := ""
			for pages := 0; pages <= len(want); pages++ {
				path := base
				if limit != "" {
					path += "&limit=" + limit
				}
				if cursor != "" {
					path += "&cursor=" + url.QueryEscape(cursor)
				}
				r := e.get(path)
				var p pageJSON
				if err := json.Unmarshal(r.body, &p, json.RejectUnknownMembers(true)); r.status != 200 || err != nil {
					t.Fatalf("%s: %d %s %v", path, r.status, r.body, err)
				}
				for _, b := range p.Bundles {
					idx, _ := bundleIndex(t, b)
					got = append(got, idx)
				}
				if p.NextCursor == "" {
					if !slices.Equal(got, want) {
						t.Fatalf("pages gave %v, want %v", got, want)
					}
					return
				}
				cursor = p.NextCursor
			}
			t.Fatalf("more pages than pledges")
		})
	}
	for _, q := range []string{
		"&limit=0", "&limit=1001", "&limit=-1", "&limit=01", "&limit=x", "&limit=", "&limit=99999999999999999999",
		"&cursor=", "&cursor=abc", "&cursor=AQAAAAAAAAAB_", "&cursor=AgAAAAAAAAAB", "&limit=2&limit=3",
	} {
		t.Run(q, func(t *testing.T) { errorOf(t, e.get(base+q), 400) })
	}
}

func TestCursorRoundTrip(t *testing.T) {
	for _, n := range []uint64{0, 1, 255, 1 << 40, ^uint64(0)} {
		if got, ok := parseCursor(makeCursor(n)); !ok || got != n {
			t.Errorf("cursor of %d reads back as %d, %v", n, got, ok)
		}
	}
}
