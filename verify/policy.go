package verify

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/pledge"
)

// Policy defaults, for members a policy leaves out.
const (
	// DefaultMaxSigningAgeDays is how much earlier than logged_at a
	// pledge's signed_at may be: an assembly's pledges signed offline reach
	// the log within days, not weeks.
	DefaultMaxSigningAgeDays = 3
	// DefaultMaxCorrections is how many times a signer may correct
	// ("supersedes") a pledge under one template and election.
	DefaultMaxCorrections = 3
)

// DefaultTimeZones are the offsets a signed_at may carry: WIB, WITA, WIT.
var DefaultTimeZones = []string{"+07:00", "+08:00", "+09:00"}

// MaxClockSkew is how much later than logged_at a signed_at may be: the
// signer's clock may run a little ahead of the log's.
const MaxClockSkew = 5 * time.Minute

// MaxPolicySize bounds a policy file.
const MaxPolicySize = 1 << 20

// Reader roles: who may read everything a log holds (private reads).
const (
	RoleAuditor    = "auditor"
	RoleSupervisor = "supervisor"
)

// Policy is what a verifier trusts: the log (its origin and checkpoint key),
// the registrars who vouch for keys and publish templates (each for its
// agencies), the readers, optional CA roots for certificate-backed keys,
// the accepted algorithms and time zones, and the time and correction
// tolerances. It is policy.json, read by the server and by every verifier.
type Policy struct {
	Origin            string       `json:"origin"`
	LogKey            string       `json:"log_key"`
	Registrars        []*Registrar `json:"registrars"`
	Readers           []*Reader    `json:"readers,omitzero"`
	Roots             string       `json:"roots,omitzero"`
	Algorithms        []string     `json:"algorithms,omitzero"`
	TimeZones         []string     `json:"time_zones,omitzero"`
	MaxSigningAgeDays int          `json:"max_signing_age_days,omitzero"`
	MaxCorrections    int          `json:"max_corrections,omitzero"`
	// Witnesses cosign the log's checkpoints (C2SP tlog-witness); with
	// any listed, a bundle verifies only under a checkpoint that a quorum
	// of them cosigned.
	Witnesses []*Witness `json:"witnesses,omitzero"`
	// WitnessQuorum is how many of Witnesses must cosign; absent means
	// all of them.
	WitnessQuorum *int `json:"witness_quorum,omitzero"`

	verifier   note.Verifier
	registrars map[string]*Registrar // by kid
	readers    map[string]*Reader    // by kid
	roots      *x509.CertPool
	rootScope  map[[32]byte][]string // a root's sha256 → its agencies
}

// Registrar is an agency official (HR) whose key the policy trusts to
// enroll, revoke and publish templates for the agencies of its scope, until
// it is retired.
type Registrar struct {
	Name string `json:"name"`
	// Agencies is the registrar's scope: agency codes, or ["*"] for a
	// national registrar.
	Agencies []string          `json:"agencies"`
	JWK      *pledge.PublicKey `json:"jwk"`
	// Until, optional, retires the registrar: what it signed and the log
	// recorded after Until is refused; what came before stays valid.
	Until string `json:"until,omitzero"`

	until time.Time
}

// Witness is an independent party that cosigns the log's checkpoints
// (C2SP tlog-witness): it checks each one is consistent with every
// checkpoint of the log it saw before, and stamps it with its own clock.
type Witness struct {
	// Name is what reports call the witness (often the agency running it).
	Name string `json:"name"`
	// Key is the witness's verifier key, a C2SP cosignature/v1 vkey:
	// <key name>+<hash>+<base64(0x04 || Ed25519 key)>.
	Key string `json:"key"`
	// URL, optional, is the witness's tlog-witness submission prefix: the
	// log sends its checkpoints to URL/add-checkpoint. Verifiers do not
	// need it.
	URL string `json:"url,omitzero"`

	verifier *CosignatureVerifier
}

// Verifier checks the witness's cosignatures.
func (w *Witness) Verifier() *CosignatureVerifier { return w.verifier }

// Reader is a key the policy lets read every record of the log (an
// auditor, or the supervising authority, whose key also signs rulings).
type Reader struct {
	Name string            `json:"name"`
	Role string            `json:"role"`
	JWK  *pledge.PublicKey `json:"jwk"`
}

// ParsePolicy reads policy.json strictly: an unknown or duplicate member is
// an error, because a typo in a trust policy must not silently widen trust.
// Missing members take the documented defaults: every pakta algorithm,
// DefaultTimeZones, DefaultMaxSigningAgeDays, DefaultMaxCorrections.
func ParsePolicy(b []byte) (*Policy, error) {
	if len(b) > MaxPolicySize {
		return nil, fmt.Errorf("verify: policy of %d bytes is over the %d-byte limit", len(b), MaxPolicySize)
	}
	var p Policy
	if err := json.Unmarshal(b, &p, json.RejectUnknownMembers(true)); err != nil {
		return nil, fmt.Errorf("verify: policy: %w", err)
	}
	if err := p.init(); err != nil {
		return nil, err
	}
	return &p, nil
}

// NewPolicy builds a policy in code (pakta init does), checked as ParsePolicy
// checks a file, with every default written out.
func NewPolicy(origin, logKey string, registrars []*Registrar, readers ...*Reader) (*Policy, error) {
	p := &Policy{
		Origin: origin, LogKey: logKey, Registrars: registrars, Readers: readers,
		Algorithms: slices.Clone(pledge.Algorithms), TimeZones: slices.Clone(DefaultTimeZones),
		MaxSigningAgeDays: DefaultMaxSigningAgeDays, MaxCorrections: DefaultMaxCorrections,
	}
	if err := p.init(); err != nil {
		return nil, err
	}
	return p, nil
}

// NationalRegistrar is a registrar trusted for every agency ("*"), as
// pakta init writes its first one: narrow it for a real agency.
func NationalRegistrar(name string, key *pledge.PublicKey) *Registrar {
	return &Registrar{Name: name, Agencies: []string{pledge.AllAgencies}, JWK: key}
}

func (p *Policy) init() error {
	if p.Origin == "" {
		return errors.New(`verify: policy: missing "origin"`)
	}
	if p.LogKey == "" {
		return errors.New(`verify: policy: missing "log_key"`)
	}
	v, err := note.NewVerifier(p.LogKey)
	if err != nil {
		return fmt.Errorf("verify: policy: log_key: %w", err)
	}
	if v.Name() != p.Origin {
		return fmt.Errorf("verify: policy: log_key is named %q but origin is %q: the log's key name is its origin", v.Name(), p.Origin)
	}
	if err := p.initWitnesses(); err != nil {
		return err
	}
	p.verifier = v
	p.registrars = make(map[string]*Registrar, len(p.Registrars))
	names := map[string]bool{}
	for i, r := range p.Registrars {
		if err := r.init(); err != nil {
			return fmt.Errorf("verify: policy: registrars[%d]: %w", i, err)
		}
		if names[r.Name] {
			return fmt.Errorf("verify: policy: registrars[%d]: the name %q is used twice: reports name registrars by it", i, r.Name)
		}
		names[r.Name] = true
		if _, dup := p.registrars[r.JWK.KeyID()]; dup {
			return fmt.Errorf("verify: policy: registrars[%d]: key %s is listed twice", i, r.JWK.KeyID())
		}
		p.registrars[r.JWK.KeyID()] = r
	}
	p.readers = make(map[string]*Reader, len(p.Readers))
	for i, r := range p.Readers {
		switch {
		case r == nil:
			return fmt.Errorf("verify: policy: readers[%d] is null", i)
		case r.Name == "":
			return fmt.Errorf("verify: policy: readers[%d]: missing \"name\"", i)
		case r.Role != RoleAuditor && r.Role != RoleSupervisor:
			return fmt.Errorf("verify: policy: readers[%d]: role %q is not %q or %q", i, r.Role, RoleAuditor, RoleSupervisor)
		case r.JWK == nil:
			return fmt.Errorf("verify: policy: readers[%d]: missing \"jwk\"", i)
		}
		if _, dup := p.registrars[r.JWK.KeyID()]; dup {
			return fmt.Errorf("verify: policy: readers[%d]: key %s is also a registrar's: give each role its own key", i, r.JWK.KeyID())
		}
		p.readers[r.JWK.KeyID()] = r
	}
	if p.Algorithms == nil {
		p.Algorithms = slices.Clone(pledge.Algorithms)
	}
	if len(p.Algorithms) == 0 {
		return errors.New("verify: policy: algorithms is empty: nothing could ever verify")
	}
	for _, a := range p.Algorithms {
		if !slices.Contains(pledge.Algorithms, a) {
			return fmt.Errorf("verify: policy: algorithm %q is not one pakta accepts (%v)", a, pledge.Algorithms)
		}
	}
	if p.TimeZones == nil {
		p.TimeZones = slices.Clone(DefaultTimeZones)
	}
	if len(p.TimeZones) == 0 {
		return errors.New("verify: policy: time_zones is empty: no pledge could ever be accepted")
	}
	for _, z := range p.TimeZones {
		if _, ok := parseOffset(z); !ok {
			return fmt.Errorf("verify: policy: time zone %q is not an offset such as +08:00", z)
		}
	}
	if p.MaxSigningAgeDays == 0 {
		p.MaxSigningAgeDays = DefaultMaxSigningAgeDays
	}
	if p.MaxSigningAgeDays < 0 || p.MaxSigningAgeDays > 3660 {
		return fmt.Errorf("verify: policy: max_signing_age_days %d is not between 1 and 3660", p.MaxSigningAgeDays)
	}
	if p.MaxCorrections == 0 {
		p.MaxCorrections = DefaultMaxCorrections
	}
	if p.MaxCorrections < 0 || p.MaxCorrections > 1000 {
		return fmt.Errorf("verify: policy: max_corrections %d is not between 1 and 1000", p.MaxCorrections)
	}
	if p.Roots != "" {
		p.roots = x509.NewCertPool()
		p.rootScope = map[[32]byte][]string{}
		rest := []byte(p.Roots)
		for n := 0; ; n++ {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				if n == 0 {
					return errors.New("verify: policy: roots holds no PEM certificate")
				}
				break
			}
			if block.Type != "CERTIFICATE" {
				return fmt.Errorf("verify: policy: roots: PEM block %d is %q, not CERTIFICATE", n, block.Type)
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return fmt.Errorf("verify: policy: roots: certificate %d: %w", n, err)
			}
			scope, err := rootAgencies(block)
			if err != nil {
				return fmt.Errorf("verify: policy: roots: certificate %d: %w", n, err)
			}
			p.roots.AddCert(c)
			p.rootScope[sha256.Sum256(c.Raw)] = scope
		}
	}
	return nil
}

func (r *Registrar) init() error {
	switch {
	case r == nil:
		return errors.New("null")
	case r.Name == "":
		return errors.New(`missing "name": reports name a registrar by it`)
	case r.JWK == nil:
		return fmt.Errorf("%q: missing \"jwk\"", r.Name)
	case len(r.Agencies) == 0:
		return fmt.Errorf("%q: missing \"agencies\": list its agency codes, or [\"*\"] for every agency", r.Name)
	}
	for _, a := range r.Agencies {
		if a == "" {
			return fmt.Errorf("%q: an empty agency code", r.Name)
		}
		if a == pledge.AllAgencies && len(r.Agencies) > 1 {
			return fmt.Errorf("%q: \"*\" (every agency) stands alone in agencies", r.Name)
		}
	}
	if r.Until != "" {
		t, err := time.Parse(time.RFC3339, r.Until)
		if err != nil {
			return fmt.Errorf("%q: until %q is not an RFC 3339 time such as 2030-12-31T23:59:59+08:00", r.Name, r.Until)
		}
		r.until = t
	}
	return nil
}

// Covers reports whether agency is in the registrar's scope.
func (r *Registrar) Covers(agency string) bool {
	for _, a := range r.Agencies {
		if a == pledge.AllAgencies || a == agency {
			return true
		}
	}
	return false
}

// National reports whether the registrar's scope is every agency.
func (r *Registrar) National() bool {
	return len(r.Agencies) == 1 && r.Agencies[0] == pledge.AllAgencies
}

// ActiveAt reports whether the registrar was not yet retired at t (the
// time the log recorded something it signed).
func (r *Registrar) ActiveAt(t time.Time) bool {
	return r.until.IsZero() || !t.After(r.until)
}

func (p *Policy) initWitnesses() error {
	if len(p.Witnesses) == 0 {
		if p.WitnessQuorum != nil {
			return errors.New(`verify: policy: "witness_quorum" without "witnesses"`)
		}
		return nil
	}
	if len(p.Witnesses) > maxNoteSignatures-1 {
		return fmt.Errorf("verify: policy: %d witnesses, more than the %d a checkpoint note can carry", len(p.Witnesses), maxNoteSignatures-1)
	}
	names, keys := map[string]bool{}, map[string]bool{}
	for i, w := range p.Witnesses {
		switch {
		case w == nil:
			return fmt.Errorf("verify: policy: witnesses[%d] is null", i)
		case w.Name == "":
			return fmt.Errorf(`verify: policy: witnesses[%d]: missing "name": reports name a witness by it`, i)
		case names[w.Name]:
			return fmt.Errorf("verify: policy: witnesses[%d]: the name %q is used twice", i, w.Name)
		}
		v, err := NewCosignatureVerifier(w.Key)
		if err != nil {
			return fmt.Errorf("verify: policy: witnesses[%d] %q: %w", i, w.Name, err)
		}
		id := string(v.key)
		if keys[id] || v.Name() == p.Origin {
			return fmt.Errorf("verify: policy: witnesses[%d] %q: its key is listed twice, or named as the log", i, w.Name)
		}
		if w.URL != "" {
			u, err := url.Parse(w.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("verify: policy: witnesses[%d] %q: url %q is not an http(s) URL", i, w.Name, w.URL)
			}
		}
		names[w.Name], keys[id] = true, true
		w.verifier = v
	}
	if p.WitnessQuorum == nil {
		n := len(p.Witnesses)
		p.WitnessQuorum = &n
	}
	if q := *p.WitnessQuorum; q < 1 || q > len(p.Witnesses) {
		return fmt.Errorf("verify: policy: witness_quorum %d is not between 1 and the %d witnesses listed", q, len(p.Witnesses))
	}
	return nil
}

// Quorum is how many witnesses must cosign a checkpoint: 0 when the policy
// names none.
func (p *Policy) Quorum() int {
	if p.WitnessQuorum == nil {
		return 0
	}
	return *p.WitnessQuorum
}

// Witnessed reports whether a signed checkpoint carries valid cosignatures
// of a quorum of the policy's witnesses (true when it names none). It does
// not check the log's own signature: OpenCheckpoint does.
func (p *Policy) Witnessed(signed []byte) bool {
	if len(p.Witnesses) == 0 {
		return true
	}
	n, err := note.Open(signed, note.VerifierList(p.verifier))
	if err != nil {
		return false
	}
	valid, invalid := p.Cosignatures(n)
	return len(invalid) == 0 && len(valid) >= p.Quorum()
}

// Marshal writes the policy as indented JSON for people to read.
func (p *Policy) Marshal() ([]byte, error) {
	b, err := json.Marshal(p, jsontext.WithIndent("  "))
	if err != nil {
		return nil, fmt.Errorf("verify: encoding policy: %w", err)
	}
	return append(b, '\n'), nil
}

// Verifier checks checkpoint signatures with the log's key.
func (p *Policy) Verifier() note.Verifier { return p.verifier }

// Registrar returns the registrar whose key is kid.
func (p *Policy) Registrar(kid string) (*Registrar, bool) {
	r, ok := p.registrars[kid]
	return r, ok
}

// Reader returns the policy reader whose key is kid.
func (p *Policy) Reader(kid string) (*Reader, bool) {
	r, ok := p.readers[kid]
	return r, ok
}

// ResolveKey implements pledge.KeyResolver over the keys the policy names:
// its registrars' and its readers' (whose role the rules then check).
func (p *Policy) ResolveKey(kid string) (*pledge.PublicKey, error) {
	if r, ok := p.registrars[kid]; ok {
		return r.JWK, nil
	}
	if r, ok := p.readers[kid]; ok {
		return r.JWK, nil
	}
	return nil, fmt.Errorf("key %s is not a registrar's in the trust policy: %w", kid, pledge.ErrUnknownKey)
}

// rootAgencies reads a root's scope from its PEM block's "Agencies"
// header (comma-separated agency codes, or "*"), as the registrars' scope
// is written: a root without one is trusted for every agency, as roots
// were before scopes.
func rootAgencies(block *pem.Block) ([]string, error) {
	for k := range block.Headers {
		if k != "Agencies" {
			return nil, fmt.Errorf("PEM header %q is not one pakta reads (only Agencies)", k)
		}
	}
	h, ok := block.Headers["Agencies"]
	if !ok {
		return []string{pledge.AllAgencies}, nil
	}
	var out []string
	for _, a := range strings.Split(h, ",") {
		if a = strings.TrimSpace(a); a == "" {
			return nil, fmt.Errorf("Agencies header %q lists an empty code", h)
		}
		out = append(out, a)
	}
	if slices.Contains(out, pledge.AllAgencies) && len(out) > 1 {
		return nil, errors.New(`"*" (every agency) stands alone in an Agencies header`)
	}
	return out, nil
}

// RootPool is the CA roots for x5c chains, nil when none are trusted.
func (p *Policy) RootPool() *x509.CertPool { return p.roots }

// MaxSigningAge is how much earlier than logged_at a signed_at may be.
func (p *Policy) MaxSigningAge() time.Duration {
	return time.Duration(p.MaxSigningAgeDays) * 24 * time.Hour
}

// VerifyOptions is how statements are checked under the policy: its
// algorithms and roots, with keys resolved by keys.
func (p *Policy) VerifyOptions(keys pledge.KeyResolver) pledge.VerifyOptions {
	return pledge.VerifyOptions{Keys: keys, Algorithms: p.Algorithms, Roots: p.roots}
}

// parseOffset reads "+08:00" as seconds east of UTC.
func parseOffset(z string) (int, bool) {
	if len(z) != 6 || (z[0] != '+' && z[0] != '-') || z[3] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(z[1:3])
	m, err2 := strconv.Atoi(z[4:6])
	if err1 != nil || err2 != nil || h > 14 || m > 59 {
		return 0, false
	}
	s := h*3600 + m*60
	if z[0] == '-' {
		s = -s
	}
	return s, true
}

// offsetOf writes t's UTC offset as "+08:00".
func offsetOf(t time.Time) string { return t.Format("-07:00") }
