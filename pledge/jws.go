package pledge

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// MaxJWSSize is the largest JWS accepted, in bytes. A log entry that wraps
// it must stay under 64 KiB.
const MaxJWSSize = 60 << 10

// MaxSignatures is the most signatures one JWS may carry.
const MaxSignatures = 8

// ErrTooLarge is returned (wrapped) when a JWS or its payload is over the
// size limit, so that a server can answer 413 rather than 400.
var ErrTooLarge = errors.New("too large")

// strictB64 is a base64 alphabet read strictly: canonical padding bits and,
// unlike encoding/base64 alone, no line breaks, which it would skip silently
// and so let two different byte strings carry one JWS.
type strictB64 struct{ enc *base64.Encoding }

func (s strictB64) DecodeString(v string) ([]byte, error) {
	if i := strings.IndexAny(v, "\r\n"); i >= 0 {
		return nil, fmt.Errorf("line break at offset %d", i)
	}
	return s.enc.DecodeString(v)
}

func (s strictB64) EncodeToString(b []byte) string { return s.enc.EncodeToString(b) }

var (
	rawURL = strictB64{base64.RawURLEncoding.Strict()}
	stdB64 = strictB64{base64.StdEncoding.Strict()}
)

// Header is what pakta reads from a signature's protected header. Other
// members, an unprotected header, and any "crit" are refused at parse time.
type Header struct {
	Algorithm string   // "alg"
	KeyID     string   // "kid"
	Type      string   // "typ"
	Chain     [][]byte // "x5c": DER certificates, leaf first; nil if absent
}

// headerJSON is the strict reading of a protected header.
type headerJSON struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	X5C  []string        `json:"x5c,omitzero"`
	Crit *jsontext.Value `json:"crit,omitzero"`
}

type rawSignature struct {
	Protected string `json:"protected"`
	Signature string `json:"signature"`
}

type generalJSON struct {
	Payload    string         `json:"payload"`
	Signatures []rawSignature `json:"signatures"`
}

// JWS is a parsed, well-formed pakta JWS whose signatures are not yet
// checked. Raw is the JWS exactly as given: it is what gets logged.
type JWS struct {
	Raw       []byte
	Compact   bool      // compact serialization (else JSON general)
	Payload   []byte    // decoded payload, the signed statement bytes
	Statement Statement // the decoded, validated statement
	Headers   []Header  // one per signature, in order

	payloadB64 string
	sigs       []rawSignature // as received
	sigBytes   [][]byte       // decoded signatures, one per sigs
}

// signingInput is what signature i signs: ASCII(protected || "." ||
// payload), from the base64url strings as received (the compact form's
// first two parts, the JSON form's member values), never re-encoded. It is
// built from those strings, not from Raw, which a caller could change.
func (j *JWS) signingInput(i int) []byte {
	return signingInput(j.sigs[i].Protected, j.payloadB64)
}

func signingInput(protected, payload string) []byte {
	b := make([]byte, 0, len(protected)+1+len(payload))
	b = append(b, protected...)
	b = append(b, '.')
	return append(b, payload...)
}

// Parse reads a JWS in compact or JSON general serialization, strictly:
// canonical base64url, I-JSON headers and payload with no unknown members, an
// accepted "alg", a "kid", a "typ" that matches the payload's "type", no
// "crit", no unprotected header, at most MaxSignatures signatures, and a
// statement that validates. It checks no signature: call Verify.
//
// data is the JWS itself, without surrounding whitespace.
func Parse(data []byte) (*JWS, error) {
	j, err := ParseUnvalidated(data)
	if err != nil {
		return nil, err
	}
	if err := j.Statement.Validate(); err != nil {
		return nil, err
	}
	return j, nil
}

// ParseUnvalidated reads a JWS exactly as strictly as Parse, except that it
// does not apply the statement's own rules (Statement.Validate: identifier
// form, date of signed_at, template hash, …); the payload must still be a
// strict I-JSON statement of a known type. A verifier uses it to check the
// signatures first and then report an invalid statement as such, rather than
// as a malformed JWS. The caller must call Statement.Validate before relying
// on the statement; Verify (the function) and Parse do.
//
// This reading is the only one: no other JOSE library parses the JWS again,
// and its signatures are checked on the strings read here (see
// verifySignature).
func ParseUnvalidated(data []byte) (*JWS, error) {
	if len(data) > MaxJWSSize {
		return nil, fmt.Errorf("pledge: JWS of %d bytes is over the %d-byte limit: %w", len(data), MaxJWSSize, ErrTooLarge)
	}
	if len(data) == 0 {
		return nil, errors.New("pledge: empty JWS")
	}
	j := &JWS{Raw: bytes.Clone(data)}
	if data[0] == '{' {
		var g generalJSON
		if err := unmarshalStrict(data, &g); err != nil {
			return nil, fmt.Errorf("pledge: JWS JSON serialization (general form with \"payload\" and \"signatures\" only): %w", err)
		}
		if len(g.Signatures) == 0 {
			return nil, errors.New("pledge: JWS has no signatures")
		}
		j.payloadB64, j.sigs = g.Payload, g.Signatures
	} else {
		parts := strings.Split(string(data), ".")
		if len(parts) != 3 {
			return nil, fmt.Errorf("pledge: compact JWS has %d parts, want 3 (header.payload.signature)", len(parts))
		}
		j.Compact = true
		j.payloadB64 = parts[1]
		j.sigs = []rawSignature{{Protected: parts[0], Signature: parts[2]}}
	}
	if len(j.sigs) > MaxSignatures {
		return nil, fmt.Errorf("pledge: JWS has %d signatures, at most %d are accepted", len(j.sigs), MaxSignatures)
	}
	payload, err := rawURL.DecodeString(j.payloadB64)
	if err != nil {
		return nil, fmt.Errorf("pledge: JWS payload is not canonical base64url: %w", err)
	}
	j.Payload = payload
	st, err := decodeStatement(payload)
	if err != nil {
		return nil, err
	}
	j.Statement = st
	wantTyp := HeaderType(st.StatementType())
	for i, s := range j.sigs {
		h, err := parseHeader(s.Protected)
		if err != nil {
			return nil, fmt.Errorf("pledge: signature %d: %w", i, err)
		}
		if h.Type != wantTyp {
			return nil, fmt.Errorf("pledge: signature %d: typ %q does not match the payload's type %q (want typ %q)", i, h.Type, st.StatementType(), wantTyp)
		}
		sig, err := rawURL.DecodeString(s.Signature)
		if err != nil || len(sig) == 0 {
			return nil, fmt.Errorf("pledge: signature %d: signature is not canonical base64url", i)
		}
		j.Headers = append(j.Headers, h)
		j.sigBytes = append(j.sigBytes, sig)
	}
	// This reading is the only one: the signatures are checked on it
	// (verifySignature says why go-jose does not parse the JWS again).
	return j, nil
}

func parseHeader(b64 string) (Header, error) {
	raw, err := rawURL.DecodeString(b64)
	if err != nil {
		return Header{}, fmt.Errorf("protected header is not canonical base64url: %w", err)
	}
	var h headerJSON
	if err := unmarshalStrict(raw, &h); err != nil {
		return Header{}, fmt.Errorf("protected header (only alg, kid, typ, x5c): %w", err)
	}
	if h.Crit != nil {
		return Header{}, errors.New(`protected header has "crit": no critical extension is understood`)
	}
	if h.Alg == "" {
		return Header{}, errors.New(`protected header has no "alg"`)
	}
	if !slices.Contains(Algorithms, h.Alg) {
		return Header{}, fmt.Errorf("algorithm %q is not accepted (only %s)", h.Alg, strings.Join(Algorithms, ", "))
	}
	if h.Kid == "" {
		return Header{}, errors.New(`protected header has no "kid"`)
	}
	if err := checkKeyID("header", "kid", h.Kid); err != nil {
		return Header{}, err
	}
	out := Header{Algorithm: h.Alg, KeyID: h.Kid, Type: h.Typ}
	if h.X5C != nil {
		if len(h.X5C) == 0 || len(h.X5C) > 8 {
			return Header{}, fmt.Errorf("x5c has %d certificates, want 1 to 8", len(h.X5C))
		}
		for i, c := range h.X5C {
			der, err := stdB64.DecodeString(c)
			if err != nil {
				return Header{}, fmt.Errorf("x5c[%d] is not base64: %w", i, err)
			}
			// go-jose refused a JWS whose x5c does not parse when it read
			// every JWS too; the strict reading keeps that rule.
			if _, err := x509.ParseCertificate(der); err != nil {
				return Header{}, fmt.Errorf("x5c[%d] is not a certificate: %w", i, err)
			}
			out.Chain = append(out.Chain, der)
		}
	}
	return out, nil
}

// VerifyOptions says which keys and algorithms a verification trusts. The
// zero value accepts every pakta algorithm, knows no keys and refuses x5c.
type VerifyOptions struct {
	// Keys resolves the kid of a signature without x5c. An enrollment's own
	// key (its proof of possession) is found in the statement itself.
	Keys KeyResolver
	// Algorithms allowed; nil means Algorithms.
	Algorithms []string
	// Roots anchor x5c certificate chains; nil refuses x5c signatures.
	Roots *x509.CertPool
	// Time at which an x5c chain must be valid. Zero means the statement's
	// own time: a pledge's signed_at, an enrollment's valid_from.
	Time time.Time
}

// Signer is a verified signature: the key that made it and, for
// certificate-backed keys, the verified chain (leaf first).
type Signer struct {
	Header Header
	Key    *PublicKey
	Chain  []*x509.Certificate
}

// Verified is a JWS whose every signature is valid.
type Verified struct {
	*JWS
	Signers []Signer // one per signature, in order
}

// Verify parses data and checks every signature (see JWS.Verify).
func Verify(data []byte, opts VerifyOptions) (*Verified, error) {
	j, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return j.Verify(opts)
}

// Verify checks every signature against the key its kid names (or its x5c
// chain) and returns the signers. It fails, with one definite error, if any
// signature is not valid, names an unknown key (wrapping ErrUnknownKey), uses
// an algorithm outside opts.Algorithms, or if an enrollment lacks the
// enrolled key's own signature or a second signer.
func (j *JWS) Verify(opts VerifyOptions) (*Verified, error) {
	v, seen, err := j.verifySignatures(opts)
	if err != nil {
		return nil, err
	}
	if e, ok := j.Statement.(*Enrollment); ok {
		if !seen[e.JWK.KeyID()] {
			return nil, fmt.Errorf("pledge: enrollment is not signed by the enrolled key %s (proof of possession)", e.JWK.KeyID())
		}
		if len(seen) < 2 {
			return nil, errors.New("pledge: enrollment has only the enrolled key's signature: a registrar must sign it too")
		}
	}
	return v, nil
}

// verifySignatures checks every signature and returns the signers and the
// set of kids that signed; the rules on who must sign are the caller's.
func (j *JWS) verifySignatures(opts VerifyOptions) (*Verified, map[string]bool, error) {
	algs := opts.Algorithms
	if algs == nil {
		algs = Algorithms
	}
	v := &Verified{JWS: j}
	if e, ok := j.Statement.(*Enrollment); ok && e.JWK == nil {
		// Only possible after ParseUnvalidated: there is no key to check.
		return nil, nil, errors.New(`pledge: enrollment has no "jwk"`)
	}
	seen := make(map[string]bool)
	for i, h := range j.Headers {
		if !slices.Contains(algs, h.Algorithm) {
			return nil, nil, fmt.Errorf("pledge: signature %d: algorithm %s is not allowed here (allowed: %s)", i, h.Algorithm, strings.Join(algs, ", "))
		}
		s, err := j.resolve(h, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("pledge: signature %d: %w", i, err)
		}
		if s.Key.KeyID() != h.KeyID {
			return nil, nil, fmt.Errorf("pledge: signature %d: kid %s does not name the signing key %s", i, h.KeyID, s.Key.KeyID())
		}
		if !s.Key.accepts(h.Algorithm) {
			return nil, nil, fmt.Errorf("pledge: signature %d: key %s does not sign with %s", i, h.KeyID, h.Algorithm)
		}
		if seen[h.KeyID] {
			return nil, nil, fmt.Errorf("pledge: signature %d: key %s signed twice", i, h.KeyID)
		}
		seen[h.KeyID] = true
		if !verifySignature(s.Key.Key(), h.Algorithm, j.signingInput(i), j.sigBytes[i]) {
			return nil, nil, fmt.Errorf("pledge: signature %d by key %s is not valid: it does not match the signed content", i, h.KeyID)
		}
		v.Signers = append(v.Signers, s)
	}
	return v, seen, nil
}

// resolve finds the key for one signature.
func (j *JWS) resolve(h Header, opts VerifyOptions) (Signer, error) {
	if h.Chain != nil {
		return j.resolveChain(h, opts)
	}
	if e, ok := j.Statement.(*Enrollment); ok && e.JWK != nil && e.JWK.KeyID() == h.KeyID {
		return Signer{Header: h, Key: e.JWK}, nil
	}
	if opts.Keys == nil {
		return Signer{}, fmt.Errorf("key %s: %w", h.KeyID, ErrUnknownKey)
	}
	k, err := opts.Keys.ResolveKey(h.KeyID)
	if err != nil {
		return Signer{}, err
	}
	return Signer{Header: h, Key: k}, nil
}

func (j *JWS) resolveChain(h Header, opts VerifyOptions) (Signer, error) {
	if opts.Roots == nil {
		return Signer{}, errors.New("certificate-backed (x5c) signatures are not accepted here: no roots are trusted")
	}
	at := opts.Time
	if at.IsZero() {
		var err error
		if at, err = statementTime(j.Statement); err != nil {
			return Signer{}, err
		}
	}
	chain, err := VerifyChain(h.Chain, opts.Roots, at)
	if err != nil {
		return Signer{}, err
	}
	key, err := NewPublicKey(chain[0].PublicKey)
	if err != nil {
		return Signer{}, fmt.Errorf("leaf certificate: %w", err)
	}
	if p, ok := j.Statement.(*Pledge); ok {
		if sn := chain[0].Subject.SerialNumber; sn != p.Signer.ID {
			return Signer{}, fmt.Errorf("leaf certificate names serialNumber %q, not the signer's id %q", sn, p.Signer.ID)
		}
	}
	return Signer{Header: h, Key: key, Chain: chain}, nil
}

func statementTime(st Statement) (time.Time, error) {
	switch s := st.(type) {
	case *Pledge:
		return s.SignedAtTime()
	case *Enrollment:
		return s.ValidFromTime()
	}
	return time.Time{}, fmt.Errorf("a %s has no time of its own to check its certificate at", st.StatementType())
}

func parseChain(der [][]byte) ([]*x509.Certificate, error) {
	certs := make([]*x509.Certificate, len(der))
	for i, d := range der {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			return nil, fmt.Errorf("pledge: certificate %d: %w", i, err)
		}
		certs[i] = c
	}
	return certs, nil
}

// VerifyChain checks a DER chain (leaf first) up to one of roots at time at,
// and returns the verified path, leaf first.
func VerifyChain(der [][]byte, roots *x509.CertPool, at time.Time) ([]*x509.Certificate, error) {
	certs, err := parseChain(der)
	if err != nil {
		return nil, err
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	chains, err := certs[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return nil, fmt.Errorf("certificate chain of %q at %s: %w", certs[0].Subject.String(), at.UTC().Format(time.RFC3339), err)
	}
	return chains[0], nil
}

// Sign signs st with key as a compact JWS. st must validate.
func Sign(st Statement, key *PrivateKey) ([]byte, error) {
	payload, err := marshalStatement(st)
	if err != nil {
		return nil, err
	}
	s, err := signPayload(payload, st.StatementType(), key)
	if err != nil {
		return nil, err
	}
	return []byte(s.Protected + "." + rawURL.EncodeToString(payload) + "." + s.Signature), nil
}

// SignJSON signs st with every key, each signature over the same payload
// with its own protected header, as a JWS JSON general serialization.
func SignJSON(st Statement, keys ...*PrivateKey) ([]byte, error) {
	if len(keys) == 0 || len(keys) > MaxSignatures {
		return nil, fmt.Errorf("pledge: %d signing keys: want 1 to %d", len(keys), MaxSignatures)
	}
	payload, err := marshalStatement(st)
	if err != nil {
		return nil, err
	}
	g := generalJSON{Payload: rawURL.EncodeToString(payload)}
	for _, k := range keys {
		s, err := signPayload(payload, st.StatementType(), k)
		if err != nil {
			return nil, err
		}
		g.Signatures = append(g.Signatures, s)
	}
	return marshalGeneral(g)
}

// Enroll signs an enrollment with the registrar's key and the subject's own
// key (proof of possession). subject must hold the key e.JWK names.
func Enroll(e *Enrollment, registrar, subject *PrivateKey) ([]byte, error) {
	if e.JWK == nil || !e.JWK.Equal(subject.Public()) {
		return nil, errors.New("pledge: enrollment jwk is not the subject's signing key")
	}
	return SignJSON(e, registrar, subject)
}

// Countersign adds key's signature over the same payload to a JWS (a
// witness to a pledge, say), returning a JSON general serialization. The
// existing signatures and the payload are kept byte for byte; none is
// checked here.
func Countersign(data []byte, key *PrivateKey) ([]byte, error) {
	j, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if len(j.sigs) >= MaxSignatures {
		return nil, fmt.Errorf("pledge: JWS already has %d signatures", len(j.sigs))
	}
	s, err := signPayload(j.Payload, j.Statement.StatementType(), key)
	if err != nil {
		return nil, err
	}
	return marshalGeneral(generalJSON{Payload: j.payloadB64, Signatures: append(slices.Clone(j.sigs), s)})
}

func marshalGeneral(g generalJSON) ([]byte, error) {
	b, err := json.Marshal(g, json.Deterministic(true))
	if err != nil {
		return nil, fmt.Errorf("pledge: encoding JWS: %w", err)
	}
	return b, nil
}

func marshalStatement(st Statement) ([]byte, error) {
	if err := st.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(st, json.Deterministic(true))
	if err != nil {
		return nil, fmt.Errorf("pledge: encoding %s: %w", st.StatementType(), err)
	}
	if len(b) > MaxPayloadSize {
		return nil, fmt.Errorf("pledge: %s of %d bytes is over the %d-byte limit: %w", st.StatementType(), len(b), MaxPayloadSize, ErrTooLarge)
	}
	return b, nil
}

// signPayload makes one signature with go-jose; the protected header is
// alg, kid, typ and, for a certificate-backed key, x5c.
func signPayload(payload []byte, statementType string, key *PrivateKey) (rawSignature, error) {
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(HeaderType(statementType)))
	if key.certs != nil {
		x5c := make([]string, len(key.certs))
		for i, c := range key.certs {
			x5c[i] = base64.StdEncoding.EncodeToString(c)
		}
		opts = opts.WithHeader("x5c", x5c)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.alg), Key: key.jwk}, opts)
	if err != nil {
		return rawSignature{}, fmt.Errorf("pledge: signer for key %s: %w", key.KeyID(), err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return rawSignature{}, fmt.Errorf("pledge: signing with key %s: %w", key.KeyID(), err)
	}
	compact, err := obj.CompactSerialize()
	if err != nil {
		return rawSignature{}, fmt.Errorf("pledge: signing with key %s: %w", key.KeyID(), err)
	}
	parts := strings.Split(compact, ".")
	return rawSignature{Protected: parts[0], Signature: parts[2]}, nil
}
