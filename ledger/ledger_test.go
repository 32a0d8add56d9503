package ledger

import (
	"context"
	"crypto/rand"
	"errors"

	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/ledger/internal/logtest"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

func TestNewLogHasSignedEmptyCheckpoint(t *testing.T) {
	e := newEnv(t, nil)
	signed, size := e.log.Checkpoint()
	if size != 0 {
		t.Fatalf("size %d", size)
	}
	n, err := note.Open(signed, note.VerifierList(e.Policy.Verifier()))
	if err != nil {
		t.Fatal(err)
	}
	if want := testOrigin + "\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"; n.Text != want {
		t.Fatalf("empty checkpoint %q, want %q", n.Text, want)
	}
}

func TestAppendEnrollPledgeBundleVerifies(t *testing.T) {
	e := newEnv(t, nil)
	e.publish(logtest.Election)
	p := person(1)
	key, enrollIndex := e.enroll(p)
	res := e.append(e.sign(e.pledgeStatement(p, "Pemilu 2024"), key))
	if res.Index != enrollIndex+1 || res.Duplicate {
		t.Fatalf("result %+v", res)
	}
	if got := res.LoggedAt.Format(time.RFC3339Nano); got != "2023-11-27T01:00:00Z" {
		t.Fatalf("logged_at %s", got)
	}
	bundle := e.bundle(res.Index)
	r, err := verify.VerifyBytes(bundle, e.Policy, &verify.Claim{Scheme: p.Scheme, ID: p.ID, Date: "2023-11-27"})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Passed() {
		t.Fatalf("bundle does not verify:\n%s", r.Text())
	}
	// The enrollment's own bundle verifies too (registrar-signed, key {}).
	r, _ = verify.VerifyBytes(e.bundle(enrollIndex), e.Policy, nil)
	if !r.Passed() {
		t.Fatalf("enrollment bundle:\n%s", r.Text())
	}
	idx, err := e.log.Pledges(context.Background(), p.Scheme, p.ID, "2023-11-27")
	if err != nil || len(idx) != 1 || idx[0] != res.Index {
		t.Fatalf("Pledges = %v, %v", idx, err)
	}
	if idx, _ := e.log.Pledges(context.Background(), p.Scheme, p.ID, "2023-11-28"); len(idx) != 0 {
		t.Fatalf("pledges on another date: %v", idx)
	}
	all, _ := e.log.EntriesOf(context.Background(), p.Scheme, p.ID)
	if len(all) != 2 {
		t.Fatalf("EntriesOf = %v", all)
	}
}

func TestDuplicates(t *testing.T) {
	e := newEnv(t, nil)
	p := person(2)
	key, _ := e.enroll(p)
	st := e.pledgeStatement(p, "Pemilu 2024")
	jws := e.sign(st, key)
	first := e.append(jws)
	again := e.append(jws)
	if !again.Duplicate || again.Index != first.Index {
		t.Fatalf("same bytes again: %+v", again)
	}
	// ES256 signatures differ each time: a re-signed identical payload is
	// still the same pledge.
	es, _ := pledge.GenerateKey(pledge.ES256, rand.Reader)
	q := person(3)
	res, err := e.log.Append(context.Background(), e.enrollment(q, es, e.Registrar))
	if err != nil {
		t.Fatal(err)
	}
	_ = res
	stq := e.pledgeStatement(q, "Pemilu 2024")
	a := e.append(e.sign(stq, es))
	b := e.append(e.sign(stq, es))
	if !b.Duplicate || b.Index != a.Index {
		t.Fatalf("re-signed payload: %+v vs %+v", b, a)
	}
	// Duplicates inside one batch: many goroutines submit the same JWS.
	r := person(4)
	rk, _ := e.enroll(r)
	same := e.sign(e.pledgeStatement(r, "Pemilu 2024"), rk)
	var wg sync.WaitGroup
	idx := make([]uint64, 16)
	for i := range idx {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.log.Append(context.Background(), same)
			if err != nil {
				t.Error(err)
			}
			idx[i] = res.Index
		}()
	}
	wg.Wait()
	for _, i := range idx {
		if i != idx[0] {
			t.Fatalf("concurrent duplicates got different indexes: %v", idx)
		}
	}
}

// TestAcceptanceRules: every rule has a refusing case, and a refusal leaves
// the tree exactly as it was.
func TestAcceptanceRules(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	alice, bob := person(10), person(11)
	aliceKey, _ := e.enroll(alice)
	bobKey, _ := e.enroll(bob)
	revokedPerson := person(12)
	revokedKey, _ := e.enroll(revokedPerson)
	e.append(e.sign(&pledge.Revocation{Type: pledge.TypeRevocation, KID: revokedKey.KeyID(), Reason: "perangkat hilang"}, e.Registrar))
	e.append(e.sign(e.pledgeStatement(alice, "Pemilu 2024"), aliceKey))
	stranger := seedKey(t, "stranger")
	unenrolled, _ := pledge.GenerateKey("", rand.Reader)

	withTime := func(p *pledge.Pledge, signedAt, date string) *pledge.Pledge {
		p.SignedAt, p.Date = signedAt, date
		return p
	}
	shortValidity := func() []byte {
		k, _ := pledge.GenerateKey("", rand.Reader)
		jws, _ := pledge.Enroll(&pledge.Enrollment{Type: pledge.TypeEnrollment, Subject: person(13), JWK: k.Public(), ValidFrom: "2024-01-01T00:00:00+07:00"}, e.Registrar, k)
		e.append(jws)
		return e.sign(e.pledgeStatement(person(13), "Pemilu 2024"), k)
	}()
	supersedes := func(i uint64) *uint64 { return &i }
	wrongSupersedes := e.pledgeStatement(alice, "Pemilu 2024")
	wrongSupersedes.Supersedes = supersedes(1)
	orphanSupersedes := e.pledgeStatement(bob, "Pemilu 2024")
	orphanSupersedes.Supersedes = supersedes(0)
	stealKey := e.enrollment(bob, aliceKey, e.Registrar)
	templateJWS := func(signer *pledge.PrivateKey) []byte {
		return e.sign(e.TemplateStatement("Pilpres 2029"), signer)
	}

	tests := []struct {
		name     string
		jws      []byte
		is       error
		conflict bool
		want     string
	}{
		{"pledge with an unenrolled key", e.sign(e.pledgeStatement(bob, "Pilkada 2024"), unenrolled), ErrForbidden, false, "neither enrolled"},
		{"pledge with a revoked key", e.sign(e.pledgeStatement(revokedPerson, "Pemilu 2024"), revokedKey), ErrForbidden, false, "revoked at index"},
		{"pledge with someone else's key", e.sign(e.pledgeStatement(bob, "Pilkada 2024"), aliceKey), ErrForbidden, false, "signer differs in id"},
		{"pledge outside the key's validity", shortValidity, ErrForbidden, false, "does not cover"},
		{"enrollment by a non-registrar", e.enrollment(person(14), unenrolled, stranger), ErrForbidden, false, "neither enrolled"},
		{"enrollment countersigned by an enrolled non-registrar", e.enrollment(person(15), unenrolled, bobKey), ErrForbidden, false, "not a registrar"},
		{"revocation by an employee", e.sign(&pledge.Revocation{Type: pledge.TypeRevocation, KID: bobKey.KeyID(), Reason: "x"}, bobKey), ErrForbidden, false, "not a registrar"},
		{"template by an employee", templateJWS(bobKey), ErrForbidden, false, "not a registrar"},
		{"revocation of an unknown key", e.sign(&pledge.Revocation{Type: pledge.TypeRevocation, KID: unenrolled.KeyID(), Reason: "x"}, e.Registrar), ErrInvalid, false, "not enrolled"},
		{"second revocation", e.sign(&pledge.Revocation{Type: pledge.TypeRevocation, KID: revokedKey.KeyID(), Reason: "lagi"}, e.Registrar), nil, true, "already revoked"},
		{"conflicting second pledge", e.sign(e.pledgeStatement(alice, "Pemilu 2024"), aliceKey), nil, true, "already pledged"},
		{"supersedes the wrong index", e.sign(wrongSupersedes, aliceKey), nil, true, "latest pledge"},
		{"supersedes with nothing before", e.sign(orphanSupersedes, bobKey), ErrInvalid, false, "no earlier pledge"},
		{"enrolling a key that belongs to someone else", stealKey, nil, true, "one key belongs to one person"},
		{"signed_at in the future", e.sign(withTime(e.pledgeStatement(bob, "Pilkada 2024"), "2023-11-27T09:10:00+08:00", "2023-11-27"), bobKey), ErrInvalid, false, "after the log recorded it"},
		{"signed_at too old", e.sign(withTime(e.pledgeStatement(bob, "Pilkada 2024"), "2023-10-20T09:00:00+07:00", "2023-10-20"), bobKey), ErrInvalid, false, "more than 3 days"},
		{"malformed JWS", []byte("not.a.jws"), ErrInvalid, false, "pledge:"},
		{"oversized JWS", make([]byte, pledge.MaxJWSSize+1), pledge.ErrTooLarge, false, "over the"},
	}
	signedBefore, sizeBefore := e.log.Checkpoint()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.log.Append(ctx, tt.jws)
			if err == nil {
				t.Fatal("accepted")
			}
			var ce *ConflictError
			if tt.conflict != errors.As(err, &ce) {
				t.Fatalf("conflict = %v, want %v: %v", !tt.conflict, tt.conflict, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("%v is not %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%q does not contain %q", err, tt.want)
			}
		})
	}
	if signed, size := e.log.Checkpoint(); size != sizeBefore || string(signed) != string(signedBefore) {
		t.Fatalf("refusals changed the tree: %d → %d", sizeBefore, size)
	}
	// A correction that names the latest pledge is accepted.
	latest, _ := e.log.Pledges(ctx, alice.Scheme, alice.ID, "2023-11-27")
	fix := e.pledgeStatement(alice, "Pemilu 2024")
	fix.Supersedes = supersedes(latest[0])
	e.append(e.sign(fix, aliceKey))
	// Renewing a key's enrollment for the same person is accepted.
	if _, err := e.log.Append(ctx, e.enrollment(alice, aliceKey, e.Registrar)); err != nil {
		var ce *ConflictError
		if !errors.As(err, &ce) {
			t.Fatalf("re-enrollment for the same person: %v", err)
		}
	}
	// An accepted template, then a second one with the same id conflicts.
	e.append(templateJWS(e.Registrar))
	other := e.TemplateStatement("Pilpres 2029")
	other.Text += "\nTambahan."
	other.SHA256 = pledge.TextHash(other.Text)
	var ce *ConflictError
	if _, err := e.log.Append(ctx, e.sign(other, e.Registrar)); !errors.As(err, &ce) || !strings.Contains(err.Error(), "a new wording is a new id") {
		t.Fatalf("second template with the same id: %v", err)
	}
}

func TestOneBadEntryDoesNotFailItsBatch(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxDelay = 50 * time.Millisecond })
	people := make([]pledge.Person, 20)
	keys := make([]*pledge.PrivateKey, 20)
	for i := range people {
		people[i] = person(100 + i)
		keys[i], _ = e.enroll(people[i])
	}
	before := e.log.Stats().Batches
	var wg sync.WaitGroup
	errs := make([]error, len(people))
	for i := range people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			signer := people[i]
			if i == 7 {
				signer = people[8] // key 7 signing for person 8: refused
			}
			_, errs[i] = e.log.Append(context.Background(), e.sign(e.pledgeStatement(signer, "Pemilu 2024"), keys[i]))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 7) != (err != nil) {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	t.Logf("%d batches for %d submissions", e.log.Stats().Batches-before, len(people))
}

func TestRestartKeepsTreeAndCheckpoint(t *testing.T) {
	e := newEnv(t, nil)
	for i := range 5 {
		p := person(200 + i)
		k, _ := e.enroll(p)
		e.append(e.sign(e.pledgeStatement(p, "Pemilu 2024"), k))
	}
	signed, size := e.log.Checkpoint()
	e.reopen()
	signed2, size2 := e.log.Checkpoint()
	if size2 != size || string(signed2) != string(signed) {
		t.Fatalf("checkpoint changed across a restart: %d → %d", size, size2)
	}
	// And the log goes on appending after the restart.
	p := person(300)
	k, _ := e.enroll(p)
	res := e.append(e.sign(e.pledgeStatement(p, "Pemilu 2024"), k))
	if res.Index != size+1 {
		t.Fatalf("index after restart %d, want %d", res.Index, size+1)
	}
	r, _ := verify.VerifyBytes(e.bundle(res.Index), e.Policy, nil)
	if !r.Passed() {
		t.Fatal(r.Text())
	}
}

// TestCrashBetweenCommitAndCheckpoint: the batch is durable but its
// checkpoint was never signed; reopening signs it, consistent with before.
func TestCrashBetweenCommitAndCheckpoint(t *testing.T) {
	crash := false
	e := newEnv(t, func(c *Config) {
		c.afterCommit = func() error {
			if crash {
				return errors.New("injected crash after commit")
			}
			return nil
		}
	})
	p := person(400)
	k, _ := e.enroll(p)
	pl := e.sign(e.pledgeStatement(p, "Pemilu 2024"), k)
	_, sizeBefore := e.log.Checkpoint()
	crash = true
	if _, err := e.log.Append(context.Background(), pl); err == nil {
		t.Fatal("append survived the injected crash")
	}
	// The sequencer stopped: nothing more is accepted.
	q := person(401)
	if _, err := e.log.Append(context.Background(), e.enrollment(q, seedKey(t, "q"), e.Registrar)); err == nil {
		t.Fatal("append after a failed checkpoint succeeded")
	}
	crash = false
	e.reopen()
	_, size := e.log.Checkpoint()
	if size != sizeBefore+1 {
		t.Fatalf("after recovery size %d, want %d", size, sizeBefore+1)
	}
	proof, err := e.log.ConsistencyProof(context.Background(), sizeBefore, size)
	if err != nil {
		t.Fatal(err)
	}
	_ = proof
	r, _ := verify.VerifyBytes(e.bundle(size-1), e.Policy, nil)
	if !r.Passed() {
		t.Fatal(r.Text())
	}
}

func TestConcurrentAppends(t *testing.T) {
	e := newEnv(t, nil)
	const workers, each = 8, 25
	keys := make([]*pledge.PrivateKey, workers*each)
	people := make([]pledge.Person, len(keys))
	for i := range keys {
		people[i] = person(1000 + i)
		keys[i], _ = e.enroll(people[i])
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[uint64]bool{}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				i := w*each + j
				res, err := e.log.Append(context.Background(), e.sign(e.pledgeStatement(people[i], "Pemilu 2024"), keys[i]))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[res.Index] {
					t.Errorf("index %d handed out twice", res.Index)
				}
				seen[res.Index] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if _, size := e.log.Checkpoint(); len(seen) != workers*each || size != uint64(2*workers*each+1) { // and the template
		t.Fatalf("%d distinct indexes, tree size %d", len(seen), size)
	}
}

func TestOpenRefusesWrongKeyAndSecondWriter(t *testing.T) {
	pebbleOnly(t) // pgstore's second writer: its own tests
	e := newEnv(t, nil)
	if _, err := Open(context.Background(), e.dir, e.cfg); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second writer: %v", err)
	}
	e.log.Close()
	other := newEnv(t, nil) // another log key, same origin
	cfg := e.cfg
	cfg.Signer, cfg.Policy = other.Signer, other.Policy
	if _, err := Open(context.Background(), e.dir, cfg); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("opening with another log key: %v", err)
	}
	e.open()
}

func TestHealthAndClosed(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	if err := e.log.Health(ctx); err != nil {
		t.Fatalf("new log: %v", err)
	}
	p := person(300)
	e.enroll(p)
	e.publish(logtest.Election)
	if err := e.log.Health(ctx); err != nil {
		t.Fatalf("log with an entry: %v", err)
	}
	s := e.log.Stats()
	var sum int64
	for _, n := range s.BatchSizes {
		sum += n
	}
	if sum != s.Batches || s.BatchSizes[0] != 2 {
		t.Fatalf("batch sizes %v for %d batches", s.BatchSizes, s.Batches)
	}
	e.log.Close()
	if err := e.log.Health(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed log: Health = %v", err)
	}
	// A pledge whose key must be read from storage: closed, not invalid.
	k, _ := pledge.GenerateKey("", rand.Reader)
	if _, err := e.log.Append(ctx, e.sign(e.pledgeStatement(p, "Pemilu 2024"), k)); !errors.Is(err, ErrClosed) {
		t.Fatalf("append to a closed log: %v", err)
	}
	e.log = nil
}
