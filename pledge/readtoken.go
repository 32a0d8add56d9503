package pledge

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
)

// Read tokens (DESIGN.md, "Private reads"): a reader signs each restricted
// HTTP request with its key and sends the compact JWS as
// "Authorization: PaktaSig <token>". The token names the one request it
// authorizes (the log, the method, the path, a hash of the query), is short
// lived, and carries a nonce that the server refuses a second time. This
// file holds the format, for signers and checkers alike; who may read what,
// and the nonces already used, are the server's.

// TypeRead is the "type" of a read token's payload; its typ header is
// HeaderType(TypeRead), "pakta-read+jws".
const TypeRead = "read"

// Limits of a read token.
const (
	// MaxReadLifetime is the most exp may be after iat.
	MaxReadLifetime = 300 * time.Second
	// MaxReadClockSkew is how far in the future iat may be: the reader's
	// clock may run ahead of the server's.
	MaxReadClockSkew = 5 * time.Minute
	// MaxReadTokenSize bounds a token; real ones are under 1 KiB.
	MaxReadTokenSize = 8 << 10
	// minNonce and maxNonce bound the nonce, in base64url characters.
	minNonce, maxNonce = 16, 64
)

// ReadScheme is the Authorization scheme of a read token.
const ReadScheme = "PaktaSig"

// ReadClaims is the payload of a read token, member for member.
type ReadClaims struct {
	Type string `json:"type"` // TypeRead
	// Aud is the log the token is for: its origin (the checkpoint's first
	// line), which does not change with the URL a proxy serves it under.
	Aud    string `json:"aud"`
	Method string `json:"method"`
	// Path is the request's path as sent, escaped (url.URL.EscapedPath).
	Path string `json:"path"`
	// QuerySHA256 is QueryHash of the raw query.
	QuerySHA256 string `json:"query_sha256"`
	IAT         int64  `json:"iat"` // Unix seconds
	EXP         int64  `json:"exp"` // Unix seconds
	Nonce       string `json:"nonce"`
}

// ReadTarget is the request a token is made for, or checked against.
type ReadTarget struct {
	Aud      string // the log's origin
	Method   string // "GET"
	Path     string // escaped, as sent
	RawQuery string // after '?', as sent; "" when none
}

// QueryHash is the lowercase hex SHA-256 of a raw query string (that of the
// empty string when there is none).
func QueryHash(rawQuery string) string {
	h := sha256.Sum256([]byte(rawQuery))
	return hex.EncodeToString(h[:])
}

// NewReadClaims returns the claims for target, issued at now and valid for
// lifetime (at most MaxReadLifetime; 0 means 60 seconds), with a fresh
// 32-character nonce from rand (crypto/rand.Reader in production).
func NewReadClaims(target ReadTarget, now time.Time, lifetime time.Duration, rand io.Reader) (*ReadClaims, error) {
	if lifetime == 0 {
		lifetime = time.Minute
	}
	if lifetime < time.Second || lifetime > MaxReadLifetime {
		return nil, fmt.Errorf("pledge: read token lifetime %s is not between 1s and %s", lifetime, MaxReadLifetime)
	}
	var n [24]byte
	if _, err := io.ReadFull(rand, n[:]); err != nil {
		return nil, fmt.Errorf("pledge: read token nonce: %w", err)
	}
	c := &ReadClaims{
		Type: TypeRead, Aud: target.Aud, Method: target.Method, Path: target.Path,
		QuerySHA256: QueryHash(target.RawQuery),
		IAT:         now.Unix(), EXP: now.Add(lifetime).Unix(),
		Nonce: rawURL.EncodeToString(n[:]),
	}
	return c, c.validate()
}

// validate checks the claims' form (not their time, not their target).
func (c *ReadClaims) validate() error {
	switch {
	case c.Type != TypeRead:
		return fmt.Errorf("pledge: read token: type %q, want %q", c.Type, TypeRead)
	case c.Aud == "" || len(c.Aud) > maxShort:
		return errors.New("pledge: read token: aud must name the log (its origin), 1 to 256 bytes")
	case c.Method == "" || len(c.Method) > 16 || strings.ToUpper(c.Method) != c.Method:
		return fmt.Errorf("pledge: read token: method %q is not an HTTP method in capitals", c.Method)
	case !strings.HasPrefix(c.Path, "/") || len(c.Path) > 2048:
		return fmt.Errorf("pledge: read token: path %q does not begin with / (or is over 2048 bytes)", c.Path)
	case checkHash(TypeRead, "query_sha256", c.QuerySHA256) != nil:
		return checkHash(TypeRead, "query_sha256", c.QuerySHA256)
	case c.EXP <= c.IAT:
		return fmt.Errorf("pledge: read token: exp %d is not after iat %d", c.EXP, c.IAT)
	case c.EXP-c.IAT > int64(MaxReadLifetime/time.Second):
		return fmt.Errorf("pledge: read token: exp − iat is %d seconds, more than the %d allowed", c.EXP-c.IAT, int64(MaxReadLifetime/time.Second))
	case len(c.Nonce) < minNonce || len(c.Nonce) > maxNonce || !isBase64URL(c.Nonce):
		return fmt.Errorf("pledge: read token: nonce %q is not %d to %d base64url characters", c.Nonce, minNonce, maxNonce)
	}
	return nil
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// SignRead signs c with key as a compact JWS, typ pakta-read+jws.
func SignRead(c *ReadClaims, key *PrivateKey) ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	payload, err := json.Marshal(c, json.Deterministic(true))
	if err != nil {
		return nil, fmt.Errorf("pledge: encoding a read token: %w", err)
	}
	s, err := signPayload(payload, TypeRead, key)
	if err != nil {
		return nil, err
	}
	return []byte(s.Protected + "." + rawURL.EncodeToString(payload) + "." + s.Signature), nil
}

// ReadToken is a parsed read token whose signature is not yet checked.
type ReadToken struct {
	Header Header
	Claims ReadClaims
	input  []byte // the signing input, header.payload as received
	sig    []byte // the decoded signature
}

// ParseReadToken reads a read token strictly: a compact JWS with canonical
// base64url, a protected header of alg (a pakta algorithm), kid and typ
// pakta-read+jws only, and an I-JSON payload of exactly the ReadClaims
// members, well formed (type "read", exp after iat by at most
// MaxReadLifetime, a 16 to 64 character base64url nonce). It checks
// neither the signature (Verify) nor the time and target (Check).
func ParseReadToken(data []byte) (*ReadToken, error) {
	if len(data) > MaxReadTokenSize {
		return nil, fmt.Errorf("pledge: read token of %d bytes is over the %d-byte limit", len(data), MaxReadTokenSize)
	}
	parts := strings.Split(string(data), ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("pledge: a read token is a compact JWS (header.payload.signature); this one has %d parts", len(parts))
	}
	h, err := parseHeader(parts[0])
	if err != nil {
		return nil, fmt.Errorf("pledge: read token: %w", err)
	}
	if want := HeaderType(TypeRead); h.Type != want {
		return nil, fmt.Errorf("pledge: read token: typ %q, want %q", h.Type, want)
	}
	if h.Chain != nil {
		return nil, errors.New("pledge: read token: x5c is not accepted: a reader signs with its registered key")
	}
	payload, err := rawURL.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("pledge: read token: payload is not canonical base64url: %w", err)
	}
	t := &ReadToken{Header: h}
	if err := unmarshalStrict(payload, &t.Claims); err != nil {
		return nil, fmt.Errorf("pledge: read token payload (only type, aud, method, path, query_sha256, iat, exp, nonce): %w", err)
	}
	if err := t.Claims.validate(); err != nil {
		return nil, err
	}
	if t.sig, err = rawURL.DecodeString(parts[2]); err != nil || len(t.sig) == 0 {
		return nil, errors.New("pledge: read token: signature is not canonical base64url")
	}
	// This reading is the only one: Verify checks the signature on it, as
	// JWS.Verify does (see verifySignature).
	t.input = signingInput(parts[0], parts[1])
	return t, nil
}

// Check checks the token's target and time at now: aud, method, path and
// query hash equal want's, iat no more than MaxReadClockSkew after now, and
// now before exp.
func (t *ReadToken) Check(want ReadTarget, now time.Time) error {
	c := &t.Claims
	switch {
	case c.Aud != want.Aud:
		return fmt.Errorf("pledge: read token is for log %q, not %q", c.Aud, want.Aud)
	case c.Method != want.Method:
		return fmt.Errorf("pledge: read token is for method %s, not %s", c.Method, want.Method)
	case c.Path != want.Path:
		return fmt.Errorf("pledge: read token is for path %q, not %q", c.Path, want.Path)
	case c.QuerySHA256 != QueryHash(want.RawQuery):
		return fmt.Errorf("pledge: read token is for another query string than %q (query_sha256 %s)", want.RawQuery, c.QuerySHA256)
	case time.Unix(c.IAT, 0).After(now.Add(MaxReadClockSkew)):
		return fmt.Errorf("pledge: read token issued at %s, more than %s after the server's time %s", unixUTC(c.IAT), MaxReadClockSkew, now.UTC().Format(time.RFC3339))
	case !now.Before(time.Unix(c.EXP, 0)):
		return fmt.Errorf("pledge: read token expired at %s (server time %s): sign a new one for each request", unixUTC(c.EXP), now.UTC().Format(time.RFC3339))
	}
	return nil
}

func unixUTC(s int64) string { return time.Unix(s, 0).UTC().Format(time.RFC3339) }

// Expires is when the token stops being accepted: its nonce must be
// remembered until then.
func (t *ReadToken) Expires() time.Time { return time.Unix(t.Claims.EXP, 0) }

// Verify checks the signature with key, which must be the key the header's
// kid names, and an algorithm in algorithms (nil means Algorithms).
func (t *ReadToken) Verify(key *PublicKey, algorithms []string) error {
	if algorithms == nil {
		algorithms = Algorithms
	}
	h := t.Header
	switch {
	case key.KeyID() != h.KeyID:
		return fmt.Errorf("pledge: read token: kid %s does not name key %s", h.KeyID, key.KeyID())
	case !slices.Contains(algorithms, h.Algorithm):
		return fmt.Errorf("pledge: read token: algorithm %s is not allowed here (allowed: %s)", h.Algorithm, strings.Join(algorithms, ", "))
	case !key.accepts(h.Algorithm):
		return fmt.Errorf("pledge: read token: key %s does not sign with %s", h.KeyID, h.Algorithm)
	}
	if !verifySignature(key.Key(), h.Algorithm, t.input, t.sig) {
		return fmt.Errorf("pledge: read token: the signature by key %s is not valid", h.KeyID)
	}
	return nil
}
