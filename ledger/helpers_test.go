package ledger

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pakta-id/pakta/ledger/internal/logtest"
	"github.com/pakta-id/pakta/ledger/store/pgstore"
	"github.com/pakta-id/pakta/ledger/store/pgstore/pgtest"
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
	*logtest.Fixture
	t   testing.TB
	dir string
	// schema is the log's PostgreSQL schema when the tests run on pgstore
	// (PAKTA_TEST_ENGINE=postgres), else "".
	schema string
	clock  *clock
	cfg    Config
	log    *Log

	mu        sync.Mutex
	published map[string]bool // elections whose template is logged
}

// seedPrefix makes the ledger tests' deterministic keys. It is not
// httpapi's, so that the keys stay the ones these tests have always used.
const seedPrefix = "pakta ledger test "

// seedKey is a deterministic key: the same name gives the same key.
func seedKey(t testing.TB, name string) *pledge.PrivateKey {
	t.Helper()
	k, _ := logtest.SeedKey(t, seedPrefix+name)
	return k
}

func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	return newEnvOf(t, logtest.New(t, testOrigin, seedPrefix), mod)
}

// newEnvOf is newEnv with a given fixture: logs that share a key.
func newEnvOf(t testing.TB, f *logtest.Fixture, mod func(*Config)) *env {
	t.Helper()
	e := &env{Fixture: f, t: t, dir: t.TempDir(), clock: &clock{now: logtest.Morning}, published: map[string]bool{}}
	if onPostgres() {
		pgtest.URL(t) // skips or fails first, if there is no server
		e.schema = pgtest.Schema(t)
	}
	e.cfg = Config{Signer: f.Signer, Policy: f.Policy, Clock: e.clock.Now}
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
	l, err := e.tryOpen(e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.log = l
}

// tryOpen opens e's log with cfg, on e's engine.
func (e *env) tryOpen(cfg Config) (*Log, error) {
	if e.schema == "" {
		return Open(context.Background(), e.dir, cfg)
	}
	st, err := pgstore.Open(context.Background(), pgtest.URL(e.t), pgstore.Options{Schema: e.schema})
	if err != nil {
		return nil, err
	}
	return New(context.Background(), st, cfg)
}

// audit audits e's log, which must be closed, on e's engine.
func (e *env) audit(ctx context.Context, policy *verify.Policy) (*AuditSummary, error) {
	if e.schema == "" {
		return Audit(ctx, e.dir, policy, AuditOptions{})
	}
	st, err := pgstore.Open(ctx, pgtest.URL(e.t), pgstore.Options{Schema: e.schema, ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return AuditStore(ctx, st, policy, AuditOptions{})
}

// onPostgres reports whether the ledger's tests run on PostgreSQL
// (PAKTA_TEST_ENGINE=postgres) rather than on Pebble in a directory.
func onPostgres() bool { return os.Getenv("PAKTA_TEST_ENGINE") == "postgres" }

// pebbleOnly skips a test that reads or writes the Pebble directory itself
// when the tests run on PostgreSQL.
func pebbleOnly(t testing.TB) {
	t.Helper()
	if onPostgres() {
		t.Skip("about the Pebble directory: not on PostgreSQL")
	}
}

func (e *env) reopen() {
	e.t.Helper()
	if err := e.log.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

// person, enrollment, pledgeStatement and sign keep the tests' call sites
// as they were; logtest has the code.

// person returns a PNS with a distinct, valid NIP for each n < 1998.
func person(n int) pledge.Person { return logtest.Person(n) }

func (e *env) enrollment(subject pledge.Person, key, registrar *pledge.PrivateKey) []byte {
	e.t.Helper()
	return e.Enrollment(subject, key, registrar)
}

// enroll logs a new key for subject and returns it.
func (e *env) enroll(subject pledge.Person) (*pledge.PrivateKey, uint64) {
	e.t.Helper()
	key, err := pledge.GenerateKey("", rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := e.log.Append(context.Background(), e.enrollment(subject, key, e.Registrar))
	if err != nil {
		e.t.Fatal(err)
	}
	return key, res.Index
}

// pledgeStatement is signer's pledge for election, whose template it
// publishes first if no test step has yet.
func (e *env) pledgeStatement(signer pledge.Person, election string) *pledge.Pledge {
	e.t.Helper()
	e.publish(election)
	return e.PledgeStatement(signer, election)
}

// publish logs the fixture's template for election, once.
func (e *env) publish(election string) {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.published[election] {
		return
	}
	e.append(e.Template(election))
	e.published[election] = true
}

func (e *env) sign(st pledge.Statement, key *pledge.PrivateKey) []byte {
	e.t.Helper()
	return e.Sign(st, key)
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
	return e.marshal(e.log.Bundle(context.Background(), index))
}

// marshal is b as JSON, failing the test on err or a bundle that does not
// marshal.
func (e *env) marshal(b *verify.Bundle, err error) []byte {
	e.t.Helper()
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

// x5cKey is the test vectors' certificate-backed signer (Budi Santoso,
// agency 7601), and the PEM of its root for a policy, trusted for agencies
// (its Agencies: header).
func x5cKey(t *testing.T, agencies string) (*pledge.PrivateKey, string) {
	t.Helper()
	read := func(name, typ string) []byte { return readPEM(t, filepath.Join(vectorsKeyDir, name), typ) }
	k, err := x509.ParsePKCS8PrivateKey(read("vectors-x5c-signer.key.pem", "PRIVATE KEY"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := pledge.NewPrivateKey(k.(*rsa.PrivateKey), pledge.PS256)
	if err != nil {
		t.Fatal(err)
	}
	if key, err = key.WithCertificates([][]byte{read("vectors-x5c-signer.pem", "CERTIFICATE")}); err != nil {
		t.Fatal(err)
	}
	root := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Headers: map[string]string{"Agencies": agencies}, Bytes: read("vectors-ca.pem", "CERTIFICATE")})
	return key, string(root)
}

// withRoots sets the policy's certificate roots (PEM).
func withRoots(t testing.TB, roots string) func(*Config) {
	return func(c *Config) {
		p := *c.Policy
		p.Roots = roots
		j, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if c.Policy, err = verify.ParsePolicy(j); err != nil {
			t.Fatal(err)
		}
	}
}

// readPEM is the bytes of the one PEM block of type typ in the file at path.
func readPEM(t testing.TB, path, typ string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != typ {
		t.Fatalf("%s: no PEM %s", path, typ)
	}
	return block.Bytes
}
