package ledger

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pakta-id/pakta/ledger/internal/logtest"
)

// TestRecordReadOnce: the nonce and the read go in one write; a replay is
// refused and records nothing more, whether the nonce was spent by
// UseNonce or by RecordReadOnce; a nonce whose token has expired may come
// again (as with UseNonce), and its read is recorded.
func TestRecordReadOnce(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	andi := PersonRef{"nip", person(1).ID}
	exp := logtest.Morning.Add(time.Minute)
	read := func(token string) Read {
		return Read{At: e.clock.Now(), Reader: ReaderInfo{Role: "registrar", Name: "BKPSDM", KID: "k"}, Request: token}
	}
	count := func() int {
		page, err := e.log.Reads(ctx, andi.Scheme, andi.ID, nil, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Reads)
	}
	if err := e.log.RecordReadOnce(ctx, read("t1"), "nonce-one-xxxxxxxxxx", exp, []PersonRef{andi, andi}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d reads recorded, want 1", n)
	}
	if err := e.log.RecordReadOnce(ctx, read("t1 again"), "nonce-one-xxxxxxxxxx", exp, []PersonRef{andi}); !errors.Is(err, ErrReplay) {
		t.Errorf("replay through RecordReadOnce: %v", err)
	}
	if err := e.log.UseNonce(ctx, "nonce-one-xxxxxxxxxx", exp); !errors.Is(err, ErrReplay) {
		t.Errorf("replay through UseNonce of a nonce RecordReadOnce spent: %v", err)
	}
	if err := e.log.UseNonce(ctx, "nonce-two-xxxxxxxxxx", exp); err != nil {
		t.Fatal(err)
	}
	if err := e.log.RecordReadOnce(ctx, read("t2"), "nonce-two-xxxxxxxxxx", exp, []PersonRef{andi}); !errors.Is(err, ErrReplay) {
		t.Errorf("RecordReadOnce of a nonce UseNonce spent: %v", err)
	}
	if n := count(); n != 1 {
		t.Errorf("%d reads recorded after the replays, want 1", n)
	}
	// Nobody named: the nonce alone, as UseNonce.
	if err := e.log.RecordReadOnce(ctx, read("t3"), "nonce-three-xxxxxxxx", exp, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.log.UseNonce(ctx, "nonce-three-xxxxxxxx", exp); !errors.Is(err, ErrReplay) {
		t.Errorf("a nonce spent with no people named: %v", err)
	}
	// Once the token has expired, its nonce is free again (a token
	// carrying it is refused as expired before it gets here).
	e.clock.Set(exp.Add(time.Second))
	if err := e.log.RecordReadOnce(ctx, read("t4"), "nonce-one-xxxxxxxxxx", exp.Add(5*time.Minute), []PersonRef{andi}); err != nil {
		t.Fatalf("a nonce of an expired token: %v", err)
	}
	e.reopen()
	if n := count(); n != 2 {
		t.Errorf("%d reads after a reopen, want 2", n)
	}
	if err := e.log.RecordReadOnce(ctx, read("t4 again"), "nonce-one-xxxxxxxxxx", exp.Add(5*time.Minute), []PersonRef{andi}); !errors.Is(err, ErrReplay) {
		t.Errorf("replay after a reopen: %v", err)
	}
}

// TestRecordReadsOnce: a batch is recorded in one write; a nonce twice in a
// batch, or used before it, is a replay for that read alone, and the
// others of the batch are recorded.
func TestRecordReadsOnce(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	andi, budi := PersonRef{"nip", person(1).ID}, PersonRef{"nip", person(2).ID}
	exp := logtest.Morning.Add(time.Minute)
	ro := func(token, nonce string, people ...PersonRef) ReadOnce {
		return ReadOnce{Read: Read{At: e.clock.Now(), Reader: ReaderInfo{Role: "auditor", Name: "Inspektorat", KID: "k"}, Request: token},
			Nonce: nonce, Exp: exp, People: people}
	}
	reads := func(p PersonRef) []string {
		page, err := e.log.Reads(ctx, p.Scheme, p.ID, nil, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range page.Reads {
			out = append(out, r.Request)
		}
		return out
	}
	errs := e.log.RecordReadsOnce(ctx, []ReadOnce{
		ro("a", "nonce-a-xxxxxxxxxxxx", andi),
		ro("b", "nonce-b-xxxxxxxxxxxx", andi, budi),
		ro("a twice", "nonce-a-xxxxxxxxxxxx", budi),
		ro("template", "nonce-t-xxxxxxxxxxxx"),
	})
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], ErrReplay) || errs[3] != nil {
		t.Fatalf("first batch: %v", errs)
	}
	errs = e.log.RecordReadsOnce(ctx, []ReadOnce{
		ro("c", "nonce-c-xxxxxxxxxxxx", andi),
		ro("b again", "nonce-b-xxxxxxxxxxxx", budi),
		ro("template again", "nonce-t-xxxxxxxxxxxx", budi),
		ro("d", "nonce-d-xxxxxxxxxxxx", budi),
	})
	if errs[0] != nil || !errors.Is(errs[1], ErrReplay) || !errors.Is(errs[2], ErrReplay) || errs[3] != nil {
		t.Fatalf("second batch: %v", errs)
	}
	if got := reads(andi); len(got) != 3 {
		t.Errorf("andi's reads: %v, want a, b, c", got)
	}
	if got := reads(budi); len(got) != 2 {
		t.Errorf("budi's reads: %v, want b, d", got)
	}
}
