package verify

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// cosignatureAlg is the signed-note signature type of a C2SP
// tlog-cosignature cosignature/v1 (Ed25519 over a timestamped message).
// golang.org/x/mod/sumdb/note knows only type 0x01, so pakta verifies
// these itself.
const cosignatureAlg = 0x04

// cosignatureSize is a cosignature's bytes after the key hash: a big-endian
// uint64 timestamp and an Ed25519 signature.
const cosignatureSize = 8 + ed25519.SignatureSize

// CosignatureVerifier checks C2SP cosignature/v1 signatures of one witness.
// It is a note.Verifier: note.Open hands it the checkpoint text and the
// signature without its key hash.
type CosignatureVerifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

// NewCosignatureVerifier reads a witness's verifier key,
// <name>+<hex key hash>+<base64(0x04 || 32-byte Ed25519 key)>, and checks
// that the key hash is the one tlog-cosignature defines.
func NewCosignatureVerifier(vkey string) (*CosignatureVerifier, error) {
	name, rest, ok1 := strings.Cut(vkey, "+")
	h, b64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 || !validKeyName(name) || len(h) != 8 {
		return nil, fmt.Errorf("verify: witness key %q is not name+hash+key", abbrev(vkey))
	}
	hash, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return nil, fmt.Errorf("verify: witness key %q: key hash %q is not 8 hex digits", abbrev(vkey), h)
	}
	data, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(data) != 1+ed25519.PublicKeySize || data[0] != cosignatureAlg {
		return nil, fmt.Errorf("verify: witness key %q is not a cosignature/v1 key (type 0x04 and 32 bytes of Ed25519)", abbrev(vkey))
	}
	if cosignatureKeyHash(name, data[1:]) != uint32(hash) {
		return nil, fmt.Errorf("verify: witness key %q: key hash %s does not match the name and key", abbrev(vkey), h)
	}
	return &CosignatureVerifier{name: name, hash: uint32(hash), key: ed25519.PublicKey(data[1:])}, nil
}

// Name is the witness's key name.
func (v *CosignatureVerifier) Name() string { return v.name }

// KeyHash is the witness key's id: SHA-256(name || "\n" || 0x04 || key)[:4].
func (v *CosignatureVerifier) KeyHash() uint32 { return v.hash }

// Verify checks a cosignature (timestamp || Ed25519 signature) over a
// checkpoint text.
func (v *CosignatureVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != cosignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	if t > math.MaxInt64 {
		return false
	}
	m, err := cosignedMessage(t, msg)
	if err != nil {
		return false
	}
	return ed25519.Verify(v.key, m, sig[8:])
}

// String is the verifier key, as NewCosignatureVerifier reads it.
func (v *CosignatureVerifier) String() string {
	return fmt.Sprintf("%s+%08x+%s", v.name, v.hash, base64.StdEncoding.EncodeToString(append([]byte{cosignatureAlg}, v.key...)))
}

// cosignedMessage is what a cosignature/v1 signs: a header line, a time
// line and the checkpoint text. Only a checkpoint is ever cosigned: a text
// that is not one is refused, so that a witness key cannot be made to sign
// anything else.
func cosignedMessage(t uint64, text []byte) ([]byte, error) {
	if _, err := parseCheckpoint(text); err != nil {
		return nil, err
	}
	return fmt.Appendf(nil, "cosignature/v1\ntime %d\n%s", t, text), nil
}

func cosignatureKeyHash(name string, key []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', cosignatureAlg})
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

func validKeyName(name string) bool {
	return name != "" && utf8.ValidString(name) && !strings.Contains(name, "+") && strings.IndexFunc(name, unicode.IsSpace) < 0
}

// CosignatureSigner makes cosignature/v1 signatures with a witness's key,
// stamped with its clock. It is a note.Signer.
type CosignatureSigner struct {
	v     CosignatureVerifier
	priv  ed25519.PrivateKey
	clock func() time.Time
}

// witnessKeyPrefix marks a witness's private key file, so that it can never
// be mistaken for a verifier key or a log's note key.
const witnessKeyPrefix = "PRIVATE+KEY+"

// GenerateWitnessKey makes a witness key named name (a schema-less URL
// such as witness.bkpsdm.example/w1) with randomness from random (nil
// means crypto/rand).
// It returns the private key text, PRIVATE+KEY+<name>+<hash>+<base64(0x04 ||
// seed)>, and the verifier key for policies.
func GenerateWitnessKey(name string, random io.Reader) (skey, vkey string, err error) {
	if !validKeyName(name) {
		return "", "", fmt.Errorf("verify: witness name %q is empty or holds a space or a plus", name)
	}
	seed := make([]byte, ed25519.SeedSize)
	if random == nil {
		random = rand.Reader
	}
	if _, err := io.ReadFull(random, seed); err != nil {
		return "", "", fmt.Errorf("verify: generating a witness key: %w", err)
	}
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	hash := cosignatureKeyHash(name, pub)
	skey = fmt.Sprintf("%s%s+%08x+%s", witnessKeyPrefix, name, hash, base64.StdEncoding.EncodeToString(append([]byte{cosignatureAlg}, seed...)))
	v := CosignatureVerifier{name: name, hash: hash, key: pub}
	return skey, v.String(), nil
}

// NewCosignatureSigner reads a private key GenerateWitnessKey wrote. The
// clock stamps each cosignature (nil means time.Now): the witness's own
// time, which is the point of a cosignature.
func NewCosignatureSigner(skey string, clock func() time.Time) (*CosignatureSigner, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(skey), witnessKeyPrefix)
	if !ok {
		return nil, errors.New("verify: witness private key does not start with PRIVATE+KEY+")
	}
	name, rest, ok1 := strings.Cut(rest, "+")
	h, b64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 || !validKeyName(name) {
		return nil, errors.New("verify: witness private key is not PRIVATE+KEY+name+hash+key")
	}
	data, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(data) != 1+ed25519.SeedSize || data[0] != cosignatureAlg {
		return nil, errors.New("verify: witness private key is not a cosignature/v1 key (type 0x04 and a 32-byte seed)")
	}
	priv := ed25519.NewKeyFromSeed(data[1:])
	pub := priv.Public().(ed25519.PublicKey)
	hash := cosignatureKeyHash(name, pub)
	if fmt.Sprintf("%08x", hash) != h {
		return nil, fmt.Errorf("verify: witness private key: key hash %s does not match the name and key", h)
	}
	if clock == nil {
		clock = time.Now
	}
	return &CosignatureSigner{v: CosignatureVerifier{name: name, hash: hash, key: pub}, priv: priv, clock: clock}, nil
}

// Name is the witness's key name.
func (s *CosignatureSigner) Name() string { return s.v.name }

// KeyHash is the witness key's id.
func (s *CosignatureSigner) KeyHash() uint32 { return s.v.hash }

// Verifier is the witness's verifier, for policies.
func (s *CosignatureSigner) Verifier() *CosignatureVerifier { return &s.v }

// Sign cosigns a checkpoint text at the signer's clock's time (whole
// seconds, as tlog-cosignature fixes).
func (s *CosignatureSigner) Sign(msg []byte) ([]byte, error) {
	t := s.clock().Unix()
	if t < 0 {
		return nil, fmt.Errorf("verify: cosigning: the clock says %d, before 1970", t)
	}
	m, err := cosignedMessage(uint64(t), msg)
	if err != nil {
		return nil, fmt.Errorf("verify: cosigning: not a checkpoint: %w", err)
	}
	sig := binary.BigEndian.AppendUint64(make([]byte, 0, cosignatureSize), uint64(t))
	return append(sig, ed25519.Sign(s.priv, m)...), nil
}

// Cosignature is a valid cosignature of a policy witness on a checkpoint:
// the witness had seen the checkpoint, consistent with everything it saw
// of the log before, at Time (by the witness's clock, not the log's).
type Cosignature struct {
	Witness *Witness
	Time    time.Time
}

// cosignatureTime reads the timestamp of a signature line's bytes (key
// hash, timestamp, signature).
func cosignatureTime(sig []byte) (time.Time, bool) {
	if len(sig) != 4+cosignatureSize {
		return time.Time{}, false
	}
	t := binary.BigEndian.Uint64(sig[4:])
	if t > math.MaxInt64 {
		return time.Time{}, false
	}
	return time.Unix(int64(t), 0).UTC(), true
}

// Cosignatures checks the signature lines of an opened checkpoint note
// (OpenCheckpoint leaves them in UnverifiedSigs) against the policy's
// witnesses. It returns the valid cosignatures, one per witness (the
// earliest, when a witness signed twice), in policy order, and the
// witnesses with a signature line under their key that does not verify: a
// witness that lied, or a checkpoint or cosignature altered afterwards.
// Lines by keys the policy does not name are ignored, as signed-note says.
func (p *Policy) Cosignatures(n *note.Note) (valid []Cosignature, invalid []*Witness) {
	for _, w := range p.Witnesses {
		var best *Cosignature
		bad := false
		for _, s := range append(n.Sigs, n.UnverifiedSigs...) {
			if s.Name != w.verifier.Name() || s.Hash != w.verifier.KeyHash() {
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(s.Base64)
			if err != nil || len(raw) < 4 || !w.verifier.Verify([]byte(n.Text), raw[4:]) {
				bad = true
				continue
			}
			t, ok := cosignatureTime(raw)
			if !ok {
				bad = true
				continue
			}
			if best == nil || t.Before(best.Time) {
				best = &Cosignature{Witness: w, Time: t}
			}
		}
		if bad {
			invalid = append(invalid, w)
		} else if best != nil {
			valid = append(valid, *best)
		}
	}
	return valid, invalid
}

// AddSignatures returns the signed checkpoint note with the signature
// lines of lines (each "— <name> <base64>\n", as a tlog-witness answers)
// appended, skipping lines it already holds. The body and its earlier
// signatures stay byte for byte: a cosigned checkpoint is the same
// checkpoint with more signature lines.
func AddSignatures(signed, lines []byte) ([]byte, error) {
	if _, err := splitNote(signed); err != nil {
		return nil, fmt.Errorf("verify: adding signatures: %w", err)
	}
	if len(lines) == 0 || lines[len(lines)-1] != '\n' {
		return nil, errors.New("verify: adding signatures: signature lines do not end with a newline")
	}
	have := map[string]bool{}
	split := strings.LastIndex(string(signed), "\n\n")
	for _, l := range strings.SplitAfter(string(signed[split+2:]), "\n") {
		have[l] = true
	}
	out := append([]byte(nil), signed...)
	for _, l := range strings.SplitAfter(string(lines[:len(lines)-1]), "\n") {
		if !strings.HasSuffix(l, "\n") {
			l += "\n"
		}
		if err := checkSignatureLine(strings.TrimSuffix(l, "\n")); err != nil {
			return nil, fmt.Errorf("verify: adding signatures: %w", err)
		}
		if !have[l] {
			out = append(out, l...)
			have[l] = true
		}
	}
	if _, err := splitNote(out); err != nil {
		return nil, fmt.Errorf("verify: adding signatures: %w", err)
	}
	return out, nil
}

// Cosign returns the signature line a witness adds to a signed checkpoint
// note ("— <name> <base64>\n"), after checking the note's shape (not its
// signatures: the witness checks those against the log keys it trusts).
func Cosign(signed []byte, s note.Signer) ([]byte, error) {
	text, err := splitNote(signed)
	if err != nil {
		return nil, fmt.Errorf("verify: cosigning: %w", err)
	}
	out, err := note.Sign(&note.Note{Text: string(text)}, s)
	if err != nil {
		return nil, fmt.Errorf("verify: cosigning: %w", err)
	}
	return out[len(text)+1:], nil
}
