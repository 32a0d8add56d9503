// Package logtest is shared test fixtures for the ledger and its HTTP API:
// the keys, people, template text and statements that both packages' tests
// build their logs from, written once so that the two cannot drift apart.
// It is not for production use.
package logtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// Morning is 09:00 WITA on 27 November 2023, the log's clock in tests: the
// statements below are dated that day, so a log at this time accepts them.
var Morning = time.Date(2023, 11, 27, 1, 0, 0, 0, time.UTC)

// SeedKey is a deterministic Ed25519 key, as a pakta key and a raw one: the
// same seed string gives the same key, so that signatures (and the golden
// vectors made from them) come out byte for byte the same on every run.
func SeedKey(t testing.TB, seed string) (*pledge.PrivateKey, ed25519.PrivateKey) {
	t.Helper()
	sum := sha256.Sum256([]byte(seed))
	raw := ed25519.NewKeyFromSeed(sum[:])
	k, err := pledge.NewPrivateKey(raw, "")
	if err != nil {
		t.Fatal(err)
	}
	return k, raw
}

// Person is a PNS with a distinct, valid NIP for each n < 1998.
func Person(n int) pledge.Person {
	return pledge.Person{
		Scheme: pledge.SchemeNIP, ID: fmt.Sprintf("19870315201001%d%03d", 1+n%2, 1+n%999),
		Name: fmt.Sprintf("Pegawai %d", n), Agency: pledge.Agency{Code: "7601", Name: "Pemerintah Kabupaten Mamuju"},
		Employment: pledge.PNS,
	}
}

// TemplateText is the text of the netralitas-2024 template in the module's
// testdata.
func TemplateText(t testing.TB) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "testdata", "templates", "netralitas-2024.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// moduleRoot is the module's root directory, found from this file's path so
// that it does not depend on which package's tests are running. Under
// -trimpath that path is not a real one, and the working directory (go test
// runs in the package's directory, inside the module) is searched upward
// for go.mod instead.
func moduleRoot() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		return filepath.Join(filepath.Dir(file), "..", "..", ".."), nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("logtest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Sign signs st with key, failing the test on an error.
func Sign(t testing.TB, st pledge.Statement, key *pledge.PrivateKey) []byte {
	t.Helper()
	jws, err := pledge.Sign(st, key)
	if err != nil {
		t.Fatal(err)
	}
	return jws
}

// Fixture is what a test log is made from: a checkpoint key for an origin,
// a registrar with a deterministic key, the policy trusting both, and the
// template text. It is safe for concurrent use.
type Fixture struct {
	Origin    string
	Signer    note.Signer
	VKey      string // the verifier key of Signer
	Policy    *verify.Policy
	Registrar *pledge.PrivateKey
	// Supervisor is the policy reader with the role supervisor: the
	// supervising authority, who signs rulings.
	Supervisor *pledge.PrivateKey
	Text       string // the netralitas-2024 template

	t   testing.TB
	mu  sync.Mutex
	seq int // numbers the pledges, so that each has its own ID
}

// New makes a fixture for a log named origin, with a fresh checkpoint key.
// The registrar's key is SeedKey(seedPrefix + "registrar"): each package
// keeps its own prefix, so that its keys stay what they always were.
func New(t testing.TB, origin, seedPrefix string) *Fixture {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := SeedKey(t, seedPrefix+"registrar")
	sup, _ := SeedKey(t, seedPrefix+"supervisor")
	policy, err := verify.NewPolicy(origin, vkey, []*verify.Registrar{verify.NationalRegistrar(RegistrarName, reg.Public())},
		&verify.Reader{Name: SupervisorName, Role: verify.RoleSupervisor, JWK: sup.Public()})
	if err != nil {
		t.Fatal(err)
	}
	return &Fixture{
		Origin: origin, Signer: signer, VKey: vkey, Policy: policy, Registrar: reg, Supervisor: sup,
		Text: TemplateText(t), t: t,
	}
}

// Enrollment is subject's enrollment of key, countersigned by registrar
// (not necessarily f.Registrar: tests also try the wrong ones).
func (f *Fixture) Enrollment(subject pledge.Person, key, registrar *pledge.PrivateKey) []byte {
	f.t.Helper()
	jws, err := pledge.Enroll(&pledge.Enrollment{
		Type: pledge.TypeEnrollment, Subject: subject, JWK: key.Public(),
		ValidFrom: "2023-11-01T00:00:00+07:00", ValidUntil: "2024-12-31T23:59:59+07:00",
	}, registrar, key)
	if err != nil {
		f.t.Fatal(err)
	}
	return jws
}

// SupervisorName is the fixture's supervising authority in its policy.
const SupervisorName = "BKN Pengawasan Netralitas"

// RegistrarName is the fixture's registrar in its policy: a national one
// (scope "*"), so that tests may enroll anyone.
const RegistrarName = "BKN Test Registrar"

// Election is the election of the fixture's usual template and pledges,
// and TemplateID that template's id.
const (
	Election   = "Pemilu 2024"
	TemplateID = "netralitas-2024"
	// Deadline of the fixture's templates: three days after Morning.
	Deadline = "2023-11-30T23:59:59+08:00"
)

// TemplateIDFor is the id of the fixture's template for election:
// TemplateID for Election, else "netralitas-" and the election in lower
// case with dashes ("Pilkada 2024" → "netralitas-pilkada-2024").
func TemplateIDFor(election string) string {
	if election == Election {
		return TemplateID
	}
	return "netralitas-" + strings.ToLower(strings.ReplaceAll(election, " ", "-"))
}

// TemplateStatement is the template of the netralitas text for election,
// for agency 7601 (every Person's), due by Deadline.
func (f *Fixture) TemplateStatement(election string) *pledge.Template {
	return &pledge.Template{
		Type: pledge.TypeTemplate, ID: TemplateIDFor(election), Lang: "id", Election: election,
		Agencies: []string{"7601"}, Text: f.Text, SHA256: pledge.TextHash(f.Text), Deadline: Deadline,
	}
}

// Template is TemplateStatement(election) signed by the fixture's
// registrar: publish it before the pledges for that election.
func (f *Fixture) Template(election string) []byte {
	f.t.Helper()
	return f.Sign(f.TemplateStatement(election), f.Registrar)
}

// PledgeStatement is signer's pledge for election under the template
// TemplateIDFor(election), signed at 08:15 WITA, shortly before Morning,
// with an ID of its own.
func (f *Fixture) PledgeStatement(signer pledge.Person, election string) *pledge.Pledge {
	f.mu.Lock()
	f.seq++
	id := fmt.Sprintf("pledge-%d", f.seq)
	f.mu.Unlock()
	return &pledge.Pledge{
		Type: pledge.TypePledge, ID: id, Signer: signer,
		Template: pledge.TemplateRef{ID: TemplateIDFor(election), SHA256: pledge.TextHash(f.Text)},
		Text:     f.Text, Election: election, Place: "Mamuju",
		Date: "2023-11-27", SignedAt: "2023-11-27T08:15:00+08:00",
	}
}

// Sign signs st with key, failing the fixture's test on an error.
func (f *Fixture) Sign(st pledge.Statement, key *pledge.PrivateKey) []byte {
	f.t.Helper()
	return Sign(f.t, st, key)
}

// WithWitnesses is p with witnesses (name, key and url each) and a quorum
// added, read back as a policy file is.
func WithWitnesses(t testing.TB, p *verify.Policy, quorum int, ws ...*verify.Witness) *verify.Policy {
	t.Helper()
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	for _, w := range ws {
		list = append(list, fmt.Sprintf(`{"name": %q, "key": %q, "url": %q}`, w.Name, w.Key, w.URL))
	}
	add := fmt.Sprintf(`"witnesses": [%s], "witness_quorum": %d, "algorithms"`, strings.Join(list, ", "), quorum)
	wp, err := verify.ParsePolicy([]byte(strings.Replace(string(b), `"algorithms"`, add, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return wp
}
