package pledge

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The signature algorithms pakta accepts. Nothing else is accepted, ever: no
// "none", no HMAC.
const (
	EdDSA = "EdDSA" // Ed25519, the default
	ES256 = "ES256" // ECDSA P-256 with SHA-256
	PS256 = "PS256" // RSASSA-PSS with SHA-256, for certificate-backed keys
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, for certificate-backed keys
)

// Algorithms is every algorithm pakta accepts, in order of preference.
var Algorithms = []string{EdDSA, ES256, PS256, RS256}

// MinRSABits is the smallest RSA modulus accepted.
const MinRSABits = 2048

// MaxKeySize bounds a JWK document; real keys are far smaller (RSA-4096
// private keys are about 3.2 KiB).
const MaxKeySize = 16 << 10

// PublicKey is a public JWK whose type and size pakta accepts. Its KeyID is
// always the RFC 7638 thumbprint.
type PublicKey struct {
	jwk jose.JSONWebKey // public part only, KeyID set to the thumbprint
}

// PrivateKey is a signing key. It never prints or logs its secret: String,
// GoString, Format and LogValue show only the kid, and the JWK comes out only
// through MarshalPrivateJWK.
type PrivateKey struct {
	jwk   jose.JSONWebKey // private, KeyID set to the thumbprint
	alg   string
	certs [][]byte // optional x5c chain (DER), leaf first
	pub   *PublicKey
}

// GenerateKey makes a new key for alg (EdDSA or ES256; "" means EdDSA) from
// the randomness source rand (crypto/rand.Reader in production).
func GenerateKey(alg string, rand io.Reader) (*PrivateKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case "", EdDSA:
		alg = EdDSA
		_, priv, err = ed25519.GenerateKey(rand)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand)
	default:
		return nil, fmt.Errorf("pledge: cannot generate a %q key: choose %s or %s (RSA keys come with certificates and are loaded, not generated)", alg, EdDSA, ES256)
	}
	if err != nil {
		return nil, fmt.Errorf("pledge: generating %s key: %w", alg, err)
	}
	return newPrivateKey(priv, alg)
}

// NewPrivateKey wraps an existing crypto.Signer: an ed25519.PrivateKey, an
// *ecdsa.PrivateKey on P-256, or an *rsa.PrivateKey of at least 2048 bits.
// For RSA, alg chooses PS256 (the default) or RS256.
func NewPrivateKey(key crypto.Signer, alg string) (*PrivateKey, error) {
	want, err := algorithmFor(key.Public(), alg)
	if err != nil {
		return nil, err
	}
	return newPrivateKey(key, want)
}

func newPrivateKey(key crypto.Signer, alg string) (*PrivateKey, error) {
	pub, err := newPublicKey(key.Public(), alg)
	if err != nil {
		return nil, err
	}
	jwk := jose.JSONWebKey{Key: key, KeyID: pub.KeyID(), Algorithm: pub.jwk.Algorithm}
	return &PrivateKey{jwk: jwk, alg: alg, pub: pub}, nil
}

// algorithmFor checks that pub is a key type and size pakta accepts and
// returns the algorithm it signs with. alg may be "" (the key type's default)
// or must agree with the key type.
func algorithmFor(pub crypto.PublicKey, alg string) (string, error) {
	var allowed []string
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return "", fmt.Errorf("pledge: Ed25519 public key has %d bytes, want %d", len(k), ed25519.PublicKeySize)
		}
		allowed = []string{EdDSA}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", fmt.Errorf("pledge: ECDSA key on curve %s is not accepted: only P-256 (ES256)", k.Curve.Params().Name)
		}
		allowed = []string{ES256}
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < MinRSABits {
			return "", fmt.Errorf("pledge: RSA key of %d bits is too small: at least %d", bits, MinRSABits)
		}
		allowed = []string{PS256, RS256}
	default:
		return "", fmt.Errorf("pledge: key type %T is not accepted: use Ed25519, P-256 or RSA", pub)
	}
	if alg == "" {
		return allowed[0], nil
	}
	if !slices.Contains(allowed, alg) {
		return "", fmt.Errorf("pledge: algorithm %q does not fit this key type (want one of %v)", alg, allowed)
	}
	return alg, nil
}

// newPublicKey validates pub and computes its kid. A non-empty alg is
// recorded in the JWK only for RSA, where the key type alone does not say
// PS256 or RS256.
func newPublicKey(pub crypto.PublicKey, alg string) (*PublicKey, error) {
	if _, err := algorithmFor(pub, alg); err != nil {
		return nil, err
	}
	jwk := jose.JSONWebKey{Key: pub}
	if _, ok := pub.(*rsa.PublicKey); ok {
		jwk.Algorithm = alg // "" leaves both PS256 and RS256 open
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("pledge: computing key thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	return &PublicKey{jwk: jwk}, nil
}

// NewPublicKey wraps a crypto.PublicKey (Ed25519, P-256, or RSA ≥ 2048 bits).
func NewPublicKey(pub crypto.PublicKey) (*PublicKey, error) {
	return newPublicKey(pub, "")
}

// jwkMembers is every JWK member pakta reads. Anything else (x5c, key_ops,
// oth, a typo) is an error: a key document must have one reading.
type jwkMembers struct {
	Kty string  `json:"kty"`
	Crv string  `json:"crv,omitzero"`
	X   string  `json:"x,omitzero"`
	Y   string  `json:"y,omitzero"`
	N   string  `json:"n,omitzero"`
	E   string  `json:"e,omitzero"`
	Kid string  `json:"kid,omitzero"`
	Alg string  `json:"alg,omitzero"`
	Use string  `json:"use,omitzero"`
	K   *string `json:"k,omitzero"` // read only to refuse symmetric keys by name
	// private members
	D  *string `json:"d,omitzero"`
	P  *string `json:"p,omitzero"`
	Q  *string `json:"q,omitzero"`
	DP *string `json:"dp,omitzero"`
	DQ *string `json:"dq,omitzero"`
	QI *string `json:"qi,omitzero"`
}

func (m *jwkMembers) private() bool {
	return m.D != nil || m.P != nil || m.Q != nil || m.DP != nil || m.DQ != nil || m.QI != nil
}

// parseJWK strictly decodes a JWK document and returns go-jose's reading of
// it with our own checks on top.
func parseJWK(data []byte, wantPrivate bool) (*jose.JSONWebKey, *jwkMembers, error) {
	if len(data) > MaxKeySize {
		return nil, nil, fmt.Errorf("pledge: key document of %d bytes is over the %d-byte limit", len(data), MaxKeySize)
	}
	var m jwkMembers
	if err := unmarshalStrict(data, &m); err != nil {
		return nil, nil, fmt.Errorf("pledge: key: %w", err)
	}
	switch {
	case m.Kty == "":
		return nil, nil, errors.New(`pledge: key: missing "kty"`)
	case m.Kty == "oct":
		return nil, nil, errors.New(`pledge: key: symmetric ("oct") keys are never accepted`)
	case wantPrivate && !m.private():
		return nil, nil, errors.New(`pledge: key: this is a public key; a private key (with "d") is needed`)
	case !wantPrivate && m.private():
		return nil, nil, errors.New(`pledge: key: this is a private key; only a public key is accepted here (remove "d" and the other private members)`)
	}
	if m.Use != "" && m.Use != "sig" {
		return nil, nil, fmt.Errorf(`pledge: key: "use" is %q, want "sig"`, m.Use)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(data); err != nil {
		return nil, nil, fmt.Errorf("pledge: key: %w", err)
	}
	return &jwk, &m, nil
}

// ParsePublicKey reads a public JWK. A private member ("d", …), an unknown
// member, a key type or size pakta does not accept, or a "kid" that is not
// the key's RFC 7638 thumbprint is an error.
func ParsePublicKey(data []byte) (*PublicKey, error) {
	jwk, m, err := parseJWK(data, false)
	if err != nil {
		return nil, err
	}
	pub, err := newPublicKey(jwk.Key, m.Alg)
	if err != nil {
		return nil, err
	}
	if m.Kid != "" && m.Kid != pub.KeyID() {
		return nil, fmt.Errorf("pledge: key: kid %q is not the key's thumbprint %q", m.Kid, pub.KeyID())
	}
	return pub, nil
}

// ParsePrivateKey reads a private JWK, as written by MarshalPrivateJWK.
func ParsePrivateKey(data []byte) (*PrivateKey, error) {
	jwk, m, err := parseJWK(data, true)
	if err != nil {
		return nil, err
	}
	signer, ok := jwk.Key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("pledge: key: %T cannot sign", jwk.Key)
	}
	alg, err := algorithmFor(signer.Public(), m.Alg)
	if err != nil {
		return nil, err
	}
	k, err := newPrivateKey(signer, alg)
	if err != nil {
		return nil, err
	}
	if m.Kid != "" && m.Kid != k.KeyID() {
		return nil, fmt.Errorf("pledge: key: kid %q is not the key's thumbprint %q", m.Kid, k.KeyID())
	}
	return k, nil
}

// KeyID is the RFC 7638 SHA-256 thumbprint, base64url without padding.
func (k *PublicKey) KeyID() string { return k.jwk.KeyID }

// Algorithm is the JWS algorithm this key verifies: EdDSA, ES256, or for RSA
// the JWK's "alg" (PS256 when it had none; RS256 is then also accepted).
func (k *PublicKey) Algorithm() string {
	alg, _ := algorithmFor(k.jwk.Key, k.jwk.Algorithm)
	return alg
}

// accepts reports whether a signature made with alg can be checked with k.
func (k *PublicKey) accepts(alg string) bool {
	if k.jwk.Algorithm != "" {
		return alg == k.jwk.Algorithm
	}
	_, err := algorithmFor(k.jwk.Key, alg)
	return err == nil
}

// Key returns the crypto.PublicKey.
func (k *PublicKey) Key() crypto.PublicKey { return k.jwk.Key }

// Equal reports whether k and o are the same key.
func (k *PublicKey) Equal(o *PublicKey) bool {
	return k != nil && o != nil && k.KeyID() == o.KeyID()
}

// MarshalJSON writes the public JWK, with its kid.
func (k *PublicKey) MarshalJSON() ([]byte, error) { return k.jwk.MarshalJSON() }

// UnmarshalJSON reads a public JWK strictly (see ParsePublicKey).
func (k *PublicKey) UnmarshalJSON(data []byte) error {
	p, err := ParsePublicKey(data)
	if err != nil {
		return err
	}
	*k = *p
	return nil
}

func (k *PublicKey) String() string { return "pledge.PublicKey(" + k.KeyID() + ")" }

// KeyID is the thumbprint of the public key.
func (k *PrivateKey) KeyID() string { return k.jwk.KeyID }

// Algorithm is the JWS algorithm this key signs with.
func (k *PrivateKey) Algorithm() string { return k.alg }

// Public returns the public half.
func (k *PrivateKey) Public() *PublicKey { return k.pub }

// WithCertificates returns a copy of k that puts chain (DER, leaf first) in
// the x5c header of every signature it makes. The leaf must hold k's public
// key.
func (k *PrivateKey) WithCertificates(chain [][]byte) (*PrivateKey, error) {
	if len(chain) == 0 {
		return nil, errors.New("pledge: empty certificate chain")
	}
	certs, err := parseChain(chain)
	if err != nil {
		return nil, err
	}
	leaf, err := NewPublicKey(certs[0].PublicKey)
	if err != nil {
		return nil, fmt.Errorf("pledge: leaf certificate: %w", err)
	}
	if !leaf.Equal(k.pub) {
		return nil, fmt.Errorf("pledge: leaf certificate holds key %s, not the signing key %s", leaf.KeyID(), k.KeyID())
	}
	c := *k
	c.certs = slices.Clone(chain)
	return &c, nil
}

// MarshalPrivateJWK writes the private JWK, secret included. Write it only to
// a file of mode 0600 (WritePrivateKeyFile does).
func (k *PrivateKey) MarshalPrivateJWK() ([]byte, error) {
	b, err := k.jwk.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("pledge: encoding private key: %w", err)
	}
	return b, nil
}

func (k *PrivateKey) String() string   { return "pledge.PrivateKey(" + k.KeyID() + ")" }
func (k *PrivateKey) GoString() string { return k.String() }

// Format keeps %v, %+v, %#v and %s from ever printing the secret.
func (k *PrivateKey) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// LogValue keeps slog from ever logging the secret.
func (k *PrivateKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// WritePrivateKeyFile writes k as a JWK to path with mode 0600. It refuses to
// overwrite an existing file.
func WritePrivateKeyFile(path string, k *PrivateKey) error {
	b, err := k.MarshalPrivateJWK()
	if err != nil {
		return err
	}
	return writeNewFile(path, append(b, '\n'), 0o600)
}

// WritePublicKeyFile writes k as a public JWK to path (mode 0644), refusing
// to overwrite.
func WritePublicKeyFile(path string, k *PublicKey) error {
	b, err := k.MarshalJSON()
	if err != nil {
		return fmt.Errorf("pledge: encoding public key: %w", err)
	}
	return writeNewFile(path, append(b, '\n'), 0o644)
}

func writeNewFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("pledge: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("pledge: writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("pledge: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("pledge: writing %s: %w", path, err)
	}
	return nil
}

// ReadPrivateKeyFile reads a private JWK file. A file readable by group or
// others is refused, as ssh does: the secret may already be exposed.
func ReadPrivateKeyFile(path string) (*PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("pledge: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("pledge: private key file %s has mode %#o: it must be readable by its owner only (chmod 600)", path, st.Mode().Perm())
	}
	b, err := readLimited(path, MaxKeySize)
	if err != nil {
		return nil, err
	}
	k, err := ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return k, nil
}

// ReadPublicKeyFile reads a public JWK file.
func ReadPublicKeyFile(path string) (*PublicKey, error) {
	b, err := readLimited(path, MaxKeySize)
	if err != nil {
		return nil, err
	}
	k, err := ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return k, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pledge: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("pledge: reading %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("pledge: %s is over the %d-byte limit", path, limit)
	}
	return b, nil
}

// KeyResolver finds the public key a signature names by its kid. It returns
// an error wrapping ErrUnknownKey when it has no such key.
type KeyResolver interface {
	ResolveKey(kid string) (*PublicKey, error)
}

// ErrUnknownKey is returned (wrapped) when a signature names a key that the
// resolver does not know: the caller should answer "not enrolled" (HTTP 403),
// not "malformed".
var ErrUnknownKey = errors.New("unknown key")

// KeySet is a KeyResolver over a fixed set of keys, such as the registrars of
// a trust policy. The zero value is an empty set.
type KeySet struct {
	keys map[string]*PublicKey
}

// NewKeySet returns a set holding keys.
func NewKeySet(keys ...*PublicKey) *KeySet {
	s := &KeySet{}
	for _, k := range keys {
		s.Add(k)
	}
	return s
}

// Add puts k in the set.
func (s *KeySet) Add(k *PublicKey) {
	if s.keys == nil {
		s.keys = make(map[string]*PublicKey)
	}
	s.keys[k.KeyID()] = k
}

// Lookup returns the key with that kid.
func (s *KeySet) Lookup(kid string) (*PublicKey, bool) {
	if s == nil {
		return nil, false
	}
	k, ok := s.keys[kid]
	return k, ok
}

// Len is the number of keys.
func (s *KeySet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.keys)
}

// Keys returns the keys ordered by kid.
func (s *KeySet) Keys() []*PublicKey {
	if s == nil {
		return nil
	}
	out := make([]*PublicKey, 0, len(s.keys))
	for _, k := range s.keys {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b *PublicKey) int { return strings.Compare(a.KeyID(), b.KeyID()) })
	return out
}

// ResolveKey implements KeyResolver.
func (s *KeySet) ResolveKey(kid string) (*PublicKey, error) {
	if k, ok := s.Lookup(kid); ok {
		return k, nil
	}
	return nil, fmt.Errorf("pledge: key %s: %w", kid, ErrUnknownKey)
}

// unmarshalStrict decodes I-JSON strictly: no duplicate or unknown members,
// no invalid UTF-8, no trailing data, member names matched exactly.
func unmarshalStrict(data []byte, v any) error {
	return json.Unmarshal(data, v, json.RejectUnknownMembers(true), jsontext.AllowDuplicateNames(false), jsontext.AllowInvalidUTF8(false))
}
