package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pakta-id/pakta/ledger/internal/logtest"
	"github.com/pakta-id/pakta/pledge"
)

// TestReaderLookups: an enrolled key is found with its subject until it is
// revoked; the people an entry names, and a person's agencies, come from
// the log.
func TestReaderLookups(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	e.publish(logtest.Election)
	andi := person(40)
	key, enroll := e.enroll(andi)
	pl := e.append(e.sign(e.pledgeStatement(andi, logtest.Election), key))

	k, err := e.log.EnrolledKey(ctx, key.KeyID())
	if err != nil || k.Subject.ID != andi.ID || k.Index != enroll || k.Usable(logtest.Morning) != nil {
		t.Fatalf("EnrolledKey: %+v, %v", k, err)
	}
	if err := k.Usable(logtest.Morning.AddDate(-1, 0, 0)); err == nil {
		t.Errorf("a key used before its valid_from is usable")
	}
	if _, err := e.log.EnrolledKey(ctx, e.Registrar.KeyID()); !errors.Is(err, ErrNotFound) {
		t.Errorf("a registrar's key as an enrolled key: %v", err)
	}
	rev := e.append(e.sign(&pledge.Revocation{Type: pledge.TypeRevocation, KID: key.KeyID(), Reason: "ponsel hilang"}, e.Registrar))
	if k, err := e.log.EnrolledKey(ctx, key.KeyID()); err != nil || k.Usable(logtest.Morning) == nil {
		t.Errorf("a revoked key: %+v, %v", k, err)
	}
	for _, tt := range []struct {
		index uint64
		want  []string
	}{
		{0, nil}, // the template
		{enroll, []string{andi.ID}},
		{pl.Index, []string{andi.ID}},
		{rev.Index, []string{andi.ID}},
	} {
		ps, err := e.log.PeopleOf(ctx, tt.index)
		var got []string
		for _, p := range ps {
			got = append(got, p.ID)
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("PeopleOf(%d) = %v, %v; want %v", tt.index, got, err, tt.want)
		}
	}
	if got, err := e.log.AgenciesOf(ctx, andi.Scheme, andi.ID); err != nil || !slices.Equal(got, []string{andi.Agency.Code}) {
		t.Errorf("AgenciesOf = %v, %v", got, err)
	}
	if got, err := e.log.AgenciesOf(ctx, "nip", person(41).ID); err != nil || got != nil {
		t.Errorf("AgenciesOf a stranger = %v, %v", got, err)
	}
}

// TestReadRecords: reads are listed per person in time order, a page at a
// time, and survive a reopen.
func TestReadRecords(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	andi, budi := PersonRef{"nip", person(1).ID}, PersonRef{"nip", person(2).ID}
	at := logtest.Morning
	for i := range 5 {
		people := []PersonRef{andi, andi}
		if i%2 == 1 {
			people = append(people, budi)
		}
		rd := Read{At: at.Add(time.Duration(i) * time.Second), Reader: ReaderInfo{Role: "registrar", Name: "BKPSDM", KID: "k"}, Request: fmt.Sprintf("token-%d", i)}
		if err := e.log.RecordRead(ctx, rd, fmt.Sprintf("nonce-%d-xxxxxxxxxxx", i), people); err != nil {
			t.Fatal(err)
		}
	}
	e.reopen()
	var got []string
	var after []byte
	for {
		page, err := e.log.Reads(ctx, andi.Scheme, andi.ID, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, rd := range page.Reads {
			got = append(got, rd.Request)
		}
		if !page.More {
			break
		}
		after = page.Next
	}
	if want := []string{"token-0", "token-1", "token-2", "token-3", "token-4"}; !slices.Equal(got, want) {
		t.Errorf("andi's reads: %v, want %v", got, want)
	}
	page, err := e.log.Reads(ctx, budi.Scheme, budi.ID, nil, 100)
	if err != nil || len(page.Reads) != 2 || page.Reads[1].Request != "token-3" || page.Reads[1].Reader.Name != "BKPSDM" || !page.Reads[1].At.Equal(at.Add(3*time.Second)) {
		t.Errorf("budi's reads: %+v, %v", page, err)
	}
	if _, err := e.log.Reads(ctx, budi.Scheme, budi.ID, nil, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("limit 0: %v", err)
	}
}
