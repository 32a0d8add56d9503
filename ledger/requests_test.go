package ledger

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	mrand "math/rand/v2"
	"regexp"
	"testing"
	"time"

	"github.com/pakta-id/pakta/ledger/internal/logtest"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

func newKey(t testing.TB) *pledge.PrivateKey {
	t.Helper()
	k, err := pledge.GenerateKey("", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// request is subject's request for key, signed an hour ago (before the
// fixture's pledges are signed).
func (e *env) request(subject pledge.Person, key *pledge.PrivateKey) []byte {
	e.t.Helper()
	return e.Request(subject, key, e.clock.Now().Add(-time.Hour))
}

func (e *env) submit(jws []byte) SubmittedRequest {
	e.t.Helper()
	s, err := e.log.Requests().Submit(context.Background(), jws)
	if err != nil {
		e.t.Fatalf("submit request: %v", err)
	}
	return s
}

func (e *env) status(code string) string {
	e.t.Helper()
	s, err := e.log.Requests().Status(context.Background(), code)
	if err != nil {
		e.t.Fatalf("status of %s: %v", code, err)
	}
	return s
}

// approve countersigns a pending request with the fixture's registrar and
// appends it, as pakta enroll approve does.
func (e *env) approve(code string) Result {
	e.t.Helper()
	p, err := e.log.Requests().Get(context.Background(), code)
	if err != nil {
		e.t.Fatalf("get %s: %v", code, err)
	}
	full, err := pledge.Countersign(p.JWS, e.Registrar)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.append(full)
}

var codeForm = regexp.MustCompile(`^[0-9]{3}-[0-9]{3}$`)

func TestRequestLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	budi, budiKey := person(1), newKey(t)
	req := e.request(budi, budiKey)
	s := e.submit(req)
	if !codeForm.MatchString(s.Code) || s.KID != budiKey.KeyID() || !s.Created || !s.Expires.Equal(e.clock.Now().Add(RequestTTL)) {
		t.Fatalf("submitted %+v", s)
	}
	if got := e.status(s.Code); got != RequestPending {
		t.Fatalf("status %s", got)
	}
	// The same request again, and the same key re-signed for the same
	// person, are the same pending request.
	if again := e.submit(req); again.Code != s.Code || again.Created {
		t.Fatalf("same request again: %+v, want %s not created", again, s.Code)
	}
	renamed := budi
	renamed.Name = "Budi Santoso Putra"
	req2 := e.request(renamed, budiKey)
	if again := e.submit(req2); again.Code != s.Code || again.Created {
		t.Fatalf("same key re-signed: %+v, want %s not created", again, s.Code)
	}
	if p, err := e.log.Requests().Get(ctx, s.Code); err != nil || !bytes.Equal(p.JWS, req2) || p.Agency != budi.Agency.Code {
		t.Fatalf("get after re-signing: %+v, %v; want the newer JWS", p, err)
	}
	// The same key for another person is a conflict.
	if _, err := e.log.Requests().Submit(ctx, e.request(person(2), budiKey)); !errors.Is(err, ErrRequestConflict) {
		t.Fatalf("same key, another person: %v, want ErrRequestConflict", err)
	}
	// A second key for the same person is its own request: nobody is
	// refused for having others pending.
	other := e.submit(e.request(budi, newKey(t)))
	if other.Code == s.Code || !other.Created {
		t.Fatalf("a second key of the same person: %+v", other)
	}
	if n := e.log.Requests().Pending(); n != 2 {
		t.Fatalf("pending %d, want 2", n)
	}

	// Approval: the countersigned request is an enrollment like any other,
	// the employee's signature first.
	res := e.approve(s.Code)
	entry, err := e.log.Entry(ctx, res.Index)
	if err != nil {
		t.Fatal(err)
	}
	en, err := verify.ParseEntry(entry)
	if err != nil {
		t.Fatal(err)
	}
	v, err := pledge.Verify(en.JWS, e.Policy.VerifyOptions(e.Policy))
	if err != nil || v.Signers[0].Key.KeyID() != budiKey.KeyID() || v.Signers[1].Key.KeyID() != e.Registrar.KeyID() {
		t.Fatalf("logged enrollment: %v, signers %+v", err, v)
	}
	if got := e.status(s.Code); got != RequestApproved {
		t.Fatalf("status after approval: %s", got)
	}
	if got := e.status(other.Code); got != RequestExpired {
		t.Fatalf("the subject's other request after approval: %s, want expired (discarded)", got)
	}
	if n := e.log.Requests().Pending(); n != 0 {
		t.Fatalf("pending %d after approval, want 0", n)
	}
	if _, err := e.log.Requests().Get(ctx, s.Code); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get of an approved request: %v, want ErrNotFound", err)
	}
	// Sent again once approved: the key is enrolled.
	var ce *ConflictError
	if _, err := e.log.Requests().Submit(ctx, req2); !errors.As(err, &ce) || ce.Index != res.Index {
		t.Fatalf("an approved request again: %v, want a conflict naming index %d", err, res.Index)
	}
	// The key signs pledges now.
	e.append(e.sign(e.pledgeStatement(renamed, "Pemilu 2024"), budiKey))
	if _, err := e.log.Requests().Status(ctx, "000-00"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("status of a malformed code: %v", err)
	}
}

func TestRequestRefusals(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.Requests.CheckSubject = func(p pledge.Person) error {
			if p.ID == person(9).ID {
				return errors.New("not on the roster")
			}
			return nil
		}
	})
	ctx := context.Background()
	now := e.clock.Now()
	key := newKey(t)
	for _, tc := range []struct {
		name string
		jws  []byte
		want error
	}{
		{"signed a day ago", e.Request(person(1), key, now.Add(-RequestTTL-time.Second)), ErrInvalid},
		{"signed in the future", e.Request(person(1), key, now.Add(6*time.Minute)), ErrInvalid},
		{"countersigned already", e.Enrollment(person(1), key, e.Registrar), ErrInvalid},
		{"signed by another key", e.sign(logtest.RequestStatement(person(1), key, now), newKey(t)), ErrInvalid},
		{"not on the roster", e.Request(person(9), key, now), ErrForbidden},
		{"oversized", bytes.Repeat([]byte("a"), pledge.MaxJWSSize+1), pledge.ErrTooLarge},
	} {
		if _, err := e.log.Requests().Submit(ctx, tc.jws); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	expired := logtest.RequestStatement(person(1), key, now.Add(-time.Hour))
	expired.ValidUntil = now.Add(-time.Minute).Format(time.RFC3339)
	jws, _ := pledge.SignRequest(expired, key)
	if _, err := e.log.Requests().Submit(ctx, jws); !errors.Is(err, ErrInvalid) {
		t.Errorf("valid_until passed: %v, want ErrInvalid", err)
	}
	// A key enrolled the old way cannot be requested again.
	k, index := e.enroll(person(3))
	var ce *ConflictError
	if _, err := e.log.Requests().Submit(ctx, e.request(person(3), k)); !errors.As(err, &ce) || ce.Index != index {
		t.Errorf("an enrolled key: %v, want a conflict at %d", err, index)
	}
	if n := e.log.Requests().Pending(); n != 0 {
		t.Errorf("refusals left %d pending", n)
	}
}

// TestRequestUnknownAgency: a request for an agency no registrar acts for,
// or only a retired one, is refused.
func TestRequestUnknownAgency(t *testing.T) {
	reg := seedKey(t, "registrar")
	retired := seedKey(t, "retired")
	e := newEnv(t, func(c *Config) {
		p, err := verify.NewPolicy(c.Policy.Origin, c.Policy.LogKey, []*verify.Registrar{
			{Name: "BKPSDM Mamuju", Agencies: []string{"7601"}, JWK: reg.Public()},
			{Name: "Old", Agencies: []string{"7602"}, JWK: retired.Public(), Until: "2023-01-01T00:00:00+08:00"},
		})
		if err != nil {
			t.Fatal(err)
		}
		c.Policy = p
	})
	p := person(1)
	e.submit(e.request(p, newKey(t)))
	for _, agency := range []string{"9999", "7602"} {
		p.Agency.Code = agency
		if _, err := e.log.Requests().Submit(context.Background(), e.request(p, newKey(t))); !errors.Is(err, ErrForbidden) {
			t.Errorf("agency %s: %v, want ErrForbidden", agency, err)
		}
	}
}

func TestRequestExpiry(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	key := newKey(t)
	// Signed with a clock four minutes ahead: still fresh once the code
	// has expired, so that sending it again is a replay, not a stale one.
	req := e.Request(person(1), key, e.clock.Now().Add(4*time.Minute))
	s := e.submit(req)
	e.clock.Set(s.Expires.Add(-time.Second))
	if got := e.status(s.Code); got != RequestPending {
		t.Fatalf("a second before expiry: %s", got)
	}
	e.clock.Set(s.Expires)
	if got := e.status(s.Code); got != RequestExpired {
		t.Fatalf("at expiry: %s", got)
	}
	if _, err := e.log.Requests().Get(ctx, s.Code); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get of an expired request: %v", err)
	}
	if l, _, _ := e.log.Requests().List(ctx, nil, "", 10); len(l) != 0 {
		t.Fatalf("list shows an expired request: %+v", l)
	}
	if _, err := e.log.Requests().Submit(ctx, req); !errors.Is(err, ErrRequestConflict) {
		t.Fatalf("an expired request sent again: %v, want ErrRequestConflict", err)
	}
	if n := e.log.Requests().Pending(); n != 0 {
		t.Fatalf("pending %d after the purge", n)
	}
	// The same key, signed anew, is a new request.
	if again := e.submit(e.request(person(1), key)); again.Code == s.Code && !again.Created {
		t.Fatalf("re-signed after expiry: %+v", again)
	}
	// A day after the request ended its code is forgotten.
	e.clock.Set(s.Expires.Add(RequestTTL + time.Second))
	e.submit(e.request(person(2), newKey(t))) // purges
	if _, err := e.log.Requests().Status(ctx, s.Code); !errors.Is(err, ErrNotFound) {
		t.Fatalf("status two days on: %v, want ErrNotFound", err)
	}
}

// TestRequestRestart: pending requests, their count and the used nonces
// survive reopening the log.
func TestRequestRestart(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Requests.MaxPending = 2 })
	ctx := context.Background()
	req := e.request(person(1), newKey(t))
	s := e.submit(req)
	exp := e.clock.Now().Add(time.Minute)
	if err := e.log.UseNonce(ctx, "nonce-0123456789abcdef", exp); err != nil {
		t.Fatal(err)
	}
	e.reopen()
	if got := e.status(s.Code); got != RequestPending {
		t.Fatalf("after reopening: %s", got)
	}
	if p, err := e.log.Requests().Get(ctx, s.Code); err != nil || !bytes.Equal(p.JWS, req) {
		t.Fatalf("after reopening: %+v, %v", p, err)
	}
	if err := e.log.UseNonce(ctx, "nonce-0123456789abcdef", exp); !errors.Is(err, ErrReplay) {
		t.Fatalf("a used nonce after reopening: %v, want ErrReplay", err)
	}
	e.submit(e.request(person(2), newKey(t)))
	if _, err := e.log.Requests().Submit(ctx, e.request(person(3), newKey(t))); !errors.Is(err, ErrTooManyRequests) {
		t.Fatalf("past the cap after reopening: %v, want ErrTooManyRequests", err)
	}
	// Pending ones still answer.
	if again := e.submit(req); again.Code != s.Code {
		t.Fatalf("at the cap, a pending key again: %+v", again)
	}
	// Once the token has expired, its nonce is forgotten.
	e.clock.Set(exp.Add(time.Minute))
	if err := e.log.UseNonce(ctx, "nonce-0123456789abcdef", exp.Add(3*time.Minute)); err != nil {
		t.Fatalf("a nonce whose token expired: %v", err)
	}
}

// repeatReader yields the same bytes n times, then reads from rest.
type repeatReader struct {
	b    []byte
	n    int
	rest io.Reader
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		r.n--
		return copy(p, r.b), nil
	}
	return r.rest.Read(p)
}

// TestRequestCodes: codes come from the injected randomness, are unique
// among the requests the log remembers, and List pages through them.
func TestRequestCodes(t *testing.T) {
	seeded := mrand.NewChaCha8([32]byte{1})
	random := &repeatReader{b: []byte{0, 0, 0x30, 0x39}, n: 2, rest: seeded} // 12345, twice
	e := newEnv(t, func(c *Config) { c.Requests.Random = random })
	ctx := context.Background()
	a := e.submit(e.request(person(1), newKey(t)))
	b := e.submit(e.request(person(2), newKey(t)))
	if a.Code != "012-345" || b.Code == a.Code {
		t.Fatalf("codes %s, %s: want 012-345 then another", a.Code, b.Code)
	}
	codes := map[string]bool{a.Code: true, b.Code: true}
	for i := 3; i < 8; i++ {
		codes[e.submit(e.request(person(i), newKey(t))).Code] = true
	}
	if len(codes) != 7 {
		t.Fatalf("%d distinct codes for 7 requests", len(codes))
	}
	var got []string
	after := ""
	for {
		page, more, err := e.log.Requests().List(ctx, nil, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page {
			got = append(got, p.Code)
		}
		if !more {
			break
		}
		after = page[len(page)-1].Code
	}
	if len(got) != 7 {
		t.Fatalf("listed %v, want 7 codes", got)
	}
	for i, c := range got {
		if !codes[c] || (i > 0 && c <= got[i-1]) {
			t.Fatalf("listed %v: not the codes in order", got)
		}
	}
	if l, _, _ := e.log.Requests().List(ctx, func(a string) bool { return a == "7602" }, "", 10); len(l) != 0 {
		t.Fatalf("another agency's list: %+v", l)
	}
	if _, _, err := e.log.Requests().List(ctx, nil, "", 1001); !errors.Is(err, ErrInvalid) {
		t.Fatalf("limit 1001: %v", err)
	}
}
