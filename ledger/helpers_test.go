package ledger

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

const testOrigin = "pakta.test/log"

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// env is a log in a temporary directory with a registrar and a fixed clock
// (the morning of 27 November 2023, WITA).
type env struct {
	t         testing.TB
	dir       string
	signer    note.Signer
	policy    *verify.Policy
	registrar *pledge.PrivateKey
	clock     *clock
	cfg       Config
	log       *Log
	text      string
	seq       int
	mu        sync.Mutex
}

var morning = time.Date(2023, 11, 27, 1, 0, 0, 0, time.UTC) // 09:00 WITA

func seedKey(t testing.TB, name string) *pledge.PrivateKey {
	seed := sha256.Sum256([]byte("pakta ledger test " + name))
	k, err := pledge.NewPrivateKey(ed25519.NewKeyFromSeed(seed[:]), "")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	reg := seedKey(t, "registrar")
	policy, err := verify.NewPolicy(testOrigin, vkey, []*pledge.PublicKey{reg.Public()})
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile("../testdata/templates/netralitas-2024.txt")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: t.TempDir(), signer: signer, policy: policy, registrar: reg, clock: &clock{now: morning}, text: string(text)}
	e.cfg = Config{Signer: signer, Policy: policy, Clock: e.clock.Now}
	if mod != nil {
		mod(&e.cfg)
	}
	e.open()
	t.Cleanup(func() {
		if e.log != nil {
			e.log.Close()
		}
	})
	return e
}

func (e *env) open() {
	e.t.Helper()
	l, err := Open(context.Background(), e.dir, e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.log = l
}

func (e *env) reopen() {
	e.t.Helper()
	if err := e.log.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

// person returns a PNS with a distinct, valid NIP for each n.
func person(n int) pledge.Person {
	return pledge.Person{
		Scheme: pledge.SchemeNIP, ID: fmt.Sprintf("19870315201001%d%03d", 1+n%2, 1+n%999),
		Name: fmt.Sprintf("Pegawai %d", n), Agency: pledge.Agency{Code: "7601", Name: "Pemerintah Kabupaten Mamuju"},
		Employment: pledge.PNS,
	}
}

func (e *env) enrollment(subject pledge.Person, key *pledge.PrivateKey, registrar *pledge.PrivateKey) []byte {
	e.t.Helper()
	jws, err := pledge.Enroll(&pledge.Enrollment{
		Type: pledge.TypeEnrollment, Subject: subject, JWK: key.Public(),
		ValidFrom: "2023-11-01T00:00:00+07:00", ValidUntil: "2024-12-31T23:59:59+07:00",
	}, registrar, key)
	if err != nil {
		e.t.Fatal(err)
	}
	return jws
}

// enroll logs a new key for subject and returns it.
func (e *env) enroll(subject pledge.Person) (*pledge.PrivateKey, uint64) {
	e.t.Helper()
	key, err := pledge.GenerateKey("", rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := e.log.Append(context.Background(), e.enrollment(subject, key, e.registrar))
	if err != nil {
		e.t.Fatal(err)
	}
	return key, res.Index
}

func (e *env) pledgeStatement(signer pledge.Person, election string) *pledge.Pledge {
	e.mu.Lock()
	e.seq++
	id := fmt.Sprintf("pledge-%d", e.seq)
	e.mu.Unlock()
	return &pledge.Pledge{
		Type: pledge.TypePledge, ID: id, Signer: signer,
		Template: pledge.TemplateRef{ID: "netralitas-2024", SHA256: pledge.TextHash(e.text)},
		Text:     e.text, Election: election, Place: "Mamuju",
		Date: "2023-11-27", SignedAt: "2023-11-27T08:15:00+08:00",
	}
}

func (e *env) sign(st pledge.Statement, key *pledge.PrivateKey) []byte {
	e.t.Helper()
	jws, err := pledge.Sign(st, key)
	if err != nil {
		e.t.Fatal(err)
	}
	return jws
}

func (e *env) append(jws []byte) Result {
	e.t.Helper()
	res, err := e.log.Append(context.Background(), jws)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func (e *env) bundle(index uint64) []byte {
	e.t.Helper()
	b, err := e.log.Bundle(context.Background(), index)
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := b.Marshal()
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// copyDir copies a closed log's files, so that each test can damage its own.
func copyDir(t testing.TB, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range entries {
		if de.IsDir() {
			os.MkdirAll(filepath.Join(to, de.Name()), 0o755)
			copyDir(t, filepath.Join(from, de.Name()), filepath.Join(to, de.Name()))
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, de.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
