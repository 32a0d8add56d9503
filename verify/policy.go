package verify

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/pledge"
)

// DefaultMaxSigningAgeDays is how much earlier than logged_at a pledge's
// signed_at may be, when the policy does not say.
const DefaultMaxSigningAgeDays = 30

// MaxClockSkew is how much later than logged_at a signed_at may be: the
// signer's clock may run a little ahead of the log's.
const MaxClockSkew = 5 * time.Minute

// MaxPolicySize bounds a policy file.
const MaxPolicySize = 1 << 20

// Policy is what a verifier trusts: the log (its origin and checkpoint key),
// the registrars who vouch for keys, optional CA roots for certificate-backed
// keys, the accepted algorithms and the signing-age tolerance. It is
// policy.json, read by the server and by every verifier.
type Policy struct {
	Origin            string              `json:"origin"`
	LogKey            string              `json:"log_key"`
	Registrars        []*pledge.PublicKey `json:"registrars"`
	Roots             string              `json:"roots,omitzero"`
	Algorithms        []string            `json:"algorithms,omitzero"`
	MaxSigningAgeDays int                 `json:"max_signing_age_days,omitzero"`

	verifier   note.Verifier
	registrars *pledge.KeySet
	roots      *x509.CertPool
}

// ParsePolicy reads policy.json strictly: an unknown or duplicate member is
// an error, because a typo in a trust policy must not silently widen trust.
// A missing "algorithms" means every pakta algorithm; a missing
// "max_signing_age_days" means DefaultMaxSigningAgeDays.
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
// checks a file.
func NewPolicy(origin, logKey string, registrars []*pledge.PublicKey) (*Policy, error) {
	p := &Policy{Origin: origin, LogKey: logKey, Registrars: registrars, Algorithms: slices.Clone(pledge.Algorithms), MaxSigningAgeDays: DefaultMaxSigningAgeDays}
	if err := p.init(); err != nil {
		return nil, err
	}
	return p, nil
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
	p.verifier = v
	p.registrars = pledge.NewKeySet()
	for i, r := range p.Registrars {
		if r == nil {
			return fmt.Errorf("verify: policy: registrars[%d] is null", i)
		}
		p.registrars.Add(r)
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
	if p.MaxSigningAgeDays == 0 {
		p.MaxSigningAgeDays = DefaultMaxSigningAgeDays
	}
	if p.MaxSigningAgeDays < 0 || p.MaxSigningAgeDays > 3660 {
		return fmt.Errorf("verify: policy: max_signing_age_days %d is not between 1 and 3660", p.MaxSigningAgeDays)
	}
	if p.Roots != "" {
		p.roots = x509.NewCertPool()
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
			p.roots.AddCert(c)
		}
	}
	return nil
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

// RegistrarKeys is the set of trusted registrar keys.
func (p *Policy) RegistrarKeys() *pledge.KeySet { return p.registrars }

// IsRegistrar reports whether kid is a trusted registrar's key.
func (p *Policy) IsRegistrar(kid string) bool {
	_, ok := p.registrars.Lookup(kid)
	return ok
}

// RootPool is the CA roots for x5c chains, nil when none are trusted.
func (p *Policy) RootPool() *x509.CertPool { return p.roots }

// MaxSigningAge is how much earlier than logged_at a signed_at may be.
func (p *Policy) MaxSigningAge() time.Duration {
	return time.Duration(p.MaxSigningAgeDays) * 24 * time.Hour
}

// CheckSigningTime applies the time rule: signedAt no later than loggedAt
// plus MaxClockSkew, and no earlier than loggedAt minus MaxSigningAge.
// Instants are compared, not calendar dates.
func (p *Policy) CheckSigningTime(signedAt, loggedAt time.Time) error {
	if signedAt.After(loggedAt.Add(MaxClockSkew)) {
		return fmt.Errorf("signed at %s, which is after the log recorded it at %s (by more than the %d minutes allowed for clock differences)",
			signedAt.Format(time.RFC3339), loggedAt.UTC().Format("2006-01-02T15:04:05.000Z"), int(MaxClockSkew.Minutes()))
	}
	if signedAt.Before(loggedAt.Add(-p.MaxSigningAge())) {
		return fmt.Errorf("signed at %s, more than %d days before the log recorded it at %s",
			signedAt.Format(time.RFC3339), p.MaxSigningAgeDays, loggedAt.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	return nil
}
