package ledger

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pakta-id/pakta/ledger/internal/logtest"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// TestHistoryAndRulings: enroll, pledge, revoke, re-enroll, correct, rule
// (annulling the correction), pledge anew: the person's history lists every
// step in log order with a bundle that verifies, rulings are refused unless
// the supervising authority signs them, and the audit replays it all.
func TestHistoryAndRulings(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.publish(logtest.Election)
	andi := person(40)
	key1, enroll1 := e.enroll(andi)
	first := e.append(e.sign(e.pledgeStatement(andi, logtest.Election), key1))
	revoke := e.append(e.sign(&pledge.Revocation{Type: pledge.TypeRevocation, KID: key1.KeyID(), Reason: "ponsel hilang"}, e.Registrar))
	key2, enroll2 := e.enroll(andi)
	fix := e.pledgeStatement(andi, logtest.Election)
	fix.Supersedes = &first.Index
	corrected := e.append(e.sign(fix, key2))
	other := person(41)
	e.enroll(other) // not Andi's: not in his history

	ruling := func(concerns, annuls []uint64) *pledge.Ruling {
		return &pledge.Ruling{Type: pledge.TypeRuling, Case: "BKN/NET/2023/017", Concerns: concerns, Annuls: annuls,
			Finding: "Pegawai menyatakan koreksi tidak ditandatanganinya; koreksi dibatalkan.", DecidedAt: "2023-11-27T08:55:00+08:00"}
	}
	r := ruling([]uint64{enroll2, corrected.Index}, []uint64{corrected.Index})
	// Only the supervising authority may rule; only on what is logged.
	for _, tt := range []struct {
		name string
		jws  []byte
		is   error
		want string
	}{
		{"ruling by a registrar", e.sign(r, e.Registrar), ErrForbidden, "not list as a supervisor's"},
		{"ruling by an employee", e.sign(r, key2), ErrForbidden, "not list as a supervisor's"},
		{"ruling about an entry not yet logged", e.sign(ruling([]uint64{999}, nil), e.Supervisor), ErrInvalid, "not logged before it"},
	} {
		if _, err := e.log.Append(ctx, tt.jws); !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	ruled := e.append(e.sign(r, e.Supervisor))
	var ce *ConflictError
	again := ruling([]uint64{corrected.Index}, []uint64{corrected.Index})
	again.Case = "BKN/NET/2023/018"
	if _, err := e.log.Append(ctx, e.sign(again, e.Supervisor)); !errors.As(err, &ce) || ce.Index != ruled.Index {
		t.Errorf("annulling twice: %v", err)
	}
	// The annulled correction no longer blocks a new pledge.
	anew := e.append(e.sign(e.pledgeStatement(andi, logtest.Election), key2))

	events, page, err := e.log.History(ctx, andi.Scheme, andi.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	var types []string
	for _, ev := range events {
		got = append(got, ev.Index)
		types = append(types, ev.Type)
		rep := verify.Verify(ev.Bundle, e.Policy, nil)
		if !rep.Passed() {
			t.Errorf("event %d (%s): %s", ev.Index, ev.Type, rep.Text())
		}
		if (ev.Index == corrected.Index) != (ev.AnnulledBy != nil) || ev.AnnulledBy != nil && *ev.AnnulledBy != ruled.Index {
			t.Errorf("event %d annulled by %v", ev.Index, ev.AnnulledBy)
		}
	}
	want := []uint64{enroll1, first.Index, revoke.Index, enroll2, corrected.Index, ruled.Index, anew.Index}
	wantTypes := []string{"enrollment", "pledge", "revocation", "enrollment", "pledge", "ruling", "pledge"}
	if !slices.Equal(got, want) || !slices.Equal(types, wantTypes) || page.More {
		t.Fatalf("history %v %v (more %v), want %v %v", got, types, page.More, want, wantTypes)
	}
	// Pages resume where they stopped.
	p1, pg, err := e.log.History(ctx, andi.Scheme, andi.ID, 0, 3)
	if err != nil || len(p1) != 3 || !pg.More {
		t.Fatalf("first page: %d events, %+v, %v", len(p1), pg, err)
	}
	p2, pg, err := e.log.History(ctx, andi.Scheme, andi.ID, pg.Next, 100)
	if err != nil || len(p2) != 4 || pg.More || p2[0].Index != enroll2 {
		t.Fatalf("second page: %d events, %+v, %v", len(p2), pg, err)
	}
	if _, _, err := e.log.History(ctx, "nip", "123", 0, 10); !errors.Is(err, ErrInvalid) {
		t.Errorf("a malformed NIP: %v", err)
	}
	// The ruling's own bundle verifies, naming the supervisor.
	rb, err := e.log.Bundle(ctx, ruled.Index)
	if err != nil {
		t.Fatal(err)
	}
	if rep := verify.Verify(rb, e.Policy, nil); !rep.Passed() || !strings.Contains(rep.Checks[4].Reason, logtest.SupervisorName) {
		t.Fatalf("ruling bundle:\n%s", rep.Text())
	}

	// The audit replays the rulings and the rows they wrote.
	if _, err := AuditTiles(ctx, e.log.Tiles(), e.Policy, nil, AuditOptions{}); err != nil {
		t.Fatalf("audit through tiles: %v", err)
	}
	e.log.Close()
	e.log = nil
	if _, err := e.audit(ctx, e.Policy); err != nil {
		t.Fatalf("audit: %v", err)
	}
}
