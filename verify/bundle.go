package verify

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// MaxBundleSize is the largest bundle file ParseBundle reads, and Marshal
// writes: far above a real bundle (two entries of at most 64 KiB and two
// proofs), small enough that reading one is cheap.
const MaxBundleSize = 1 << 20

// ErrNotJSONObject is returned by ParseBundle when the input does not start,
// after optional JSON whitespace, with '{': the input is not a bundle at all
// (a wrong file was given), as opposed to a bundle that fails its checks.
var ErrNotJSONObject = errors.New("verify: bundle: not a JSON object")

// BundleVersion is the bundle format pakta writes and reads: 2, in which a
// pledge's bundle carries its template's entry and proof.
const BundleVersion = 2

// Bundle is the offline evidence for one entry (a .pakta.json file): the entry
// bytes, its tlog-proof@v1 text, the evidence binding the signer's key and,
// for a pledge, the template it was signed under, all proved under the same
// checkpoint.
type Bundle struct {
	Entry    []byte
	Proof    string
	Key      KeyEvidence
	Template *EntryProof // a pledge's template; nil for other statements

	parsed *parsedEntryProof // see EntryProof.parsed
}

func (b *Bundle) main() *EntryProof {
	return &EntryProof{Entry: b.Entry, Proof: b.Proof, parsed: b.parsed}
}

// KeyEvidence binds the signer's key. Enrollment is nil for certificate-backed
// signatures, whose chain travels in the JWS x5c header. A revocation's
// bundle carries the revoked key's enrollment, which shows whose key it was
// and so whether the revoking registrar acted for that person's agency.
type KeyEvidence struct {
	Enrollment *EntryProof
}

// EntryProof is a logged entry with its tlog-proof@v1 text.
type EntryProof struct {
	Entry []byte
	Proof string

	// parsed is what ParseBundle already read from Entry and Proof, so that
	// verification does not parse them twice. It is used only while Entry
	// and Proof still hold the bytes it was read from.
	parsed *parsedEntryProof
}

type parsedEntryProof struct {
	entryBytes []byte
	proofText  string
	entry      Entry
	proof      *Proof
}

// read returns the parsed entry and proof, from ParseBundle's reading when
// the bytes are unchanged since.
func (ep *EntryProof) read() (Entry, *Proof, error) {
	if p := ep.parsed; p != nil && p.proofText == ep.Proof && bytes.Equal(p.entryBytes, ep.Entry) {
		return p.entry, p.proof, nil
	}
	e, err := parseEntry(ep.Entry)
	if err != nil {
		return Entry{}, nil, fmt.Errorf("entry: %w", err)
	}
	pr, err := parseProof([]byte(ep.Proof))
	if err != nil {
		return Entry{}, nil, fmt.Errorf("proof: %w", err)
	}
	return e, pr, nil
}

// The wire form. Pointers tell a missing member from an empty one; member
// order is the order pakta writes.
type (
	bundleJSON struct {
		V        *int            `json:"v"`
		Entry    *string         `json:"entry"`
		Proof    *string         `json:"proof"`
		Key      *keyJSON        `json:"key"`
		Template *entryProofJSON `json:"template,omitzero"`
	}
	keyJSON struct {
		Enrollment *entryProofJSON `json:"enrollment,omitzero"`
	}
	entryProofJSON struct {
		Entry *string `json:"entry"`
		Proof *string `json:"proof"`
	}
)

// ParseBundle parses a bundle. Bundles are passed around and may be
// reformatted, so any JSON whitespace and member order is accepted; anything
// else loose is not: unknown, duplicate or missing members, null, v other than
// 2 (BundleVersion), base64 other than canonical padded standard encoding, invalid UTF-8,
// trailing data, more than MaxBundleSize bytes. The entries and proofs must
// themselves parse (ParseEntry, ParseProof); no signature is checked.
// Errors name the member, as in "verify: bundle: key.enrollment.entry: ...".
// If the input is not a JSON object at all, the error wraps ErrNotJSONObject.
func ParseBundle(b []byte) (*Bundle, error) {
	if i := bytes.IndexFunc(b, func(r rune) bool { return !isJSONSpace(r) }); i < 0 || b[i] != '{' {
		return nil, ErrNotJSONObject
	}
	bundle, err := parseBundle(b)
	if err != nil {
		return nil, fmt.Errorf("verify: bundle: %w", err)
	}
	return bundle, nil
}

func isJSONSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

func parseBundle(b []byte) (*Bundle, error) {
	if len(b) > MaxBundleSize {
		return nil, fmt.Errorf("%d bytes, more than %d", len(b), MaxBundleSize)
	}
	j, err := decodeBundleJSON(b)
	if err != nil {
		return nil, err
	}
	switch {
	case j.V == nil:
		return nil, errors.New("v: missing")
	case *j.V != BundleVersion:
		return nil, fmt.Errorf("v: unsupported version %d, want %d", *j.V, BundleVersion)
	case j.Key == nil:
		return nil, errors.New("key: missing")
	}
	ep, err := decodeEntryProof("", j.Entry, j.Proof)
	if err != nil {
		return nil, err
	}
	bundle := &Bundle{Entry: ep.Entry, Proof: ep.Proof, parsed: ep.parsed}
	if e := j.Key.Enrollment; e != nil {
		ep, err := decodeEntryProof("key.enrollment.", e.Entry, e.Proof)
		if err != nil {
			return nil, err
		}
		bundle.Key.Enrollment = &ep
	}
	if t := j.Template; t != nil {
		ep, err := decodeEntryProof("template.", t.Entry, t.Proof)
		if err != nil {
			return nil, err
		}
		bundle.Template = &ep
	}
	return bundle, nil
}

// decodeBundleJSON decodes the wire form, strictly: as checkJSONSyntax and
// then json.Unmarshal would, with their errors, in that order.
func decodeBundleJSON(b []byte) (bundleJSON, error) {
	// The decoder rejects what checkJSONSyntax does (invalid JSON or
	// UTF-8, duplicate names, trailing data) but null, which reads as a
	// missing member. Reading every token first doubled the cost of a
	// well-formed bundle, so the token pass runs only when it can matter:
	// when decoding fails (its error, if any, comes first, as before), or
	// when null may be in the input.
	var j bundleJSON
	if err := json.Unmarshal(b, &j, json.RejectUnknownMembers(true)); err != nil {
		if serr := checkJSONSyntax(b); serr != nil {
			return bundleJSON{}, serr
		}
		return bundleJSON{}, err
	}
	if bytes.Contains(b, []byte("null")) {
		if err := checkJSONSyntax(b); err != nil {
			return bundleJSON{}, err
		}
	}
	return j, nil
}

// checkJSONSyntax reads every token, which rejects invalid JSON, invalid
// UTF-8, duplicate member names and trailing data, and also null: no member of
// a bundle may be null, and a null would otherwise read as a missing member.
func checkJSONSyntax(b []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.ReadToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if tok.Kind() == 'n' {
			return fmt.Errorf("%s: null is not allowed", memberName(dec.StackPointer()))
		}
	}
}

// memberName turns a JSON pointer such as /key/enrollment into key.enrollment.
func memberName(p jsontext.Pointer) string {
	return abbrev(strings.ReplaceAll(strings.TrimPrefix(string(p), "/"), "/", "."))
}

// decodeEntryProof decodes and checks one entry and its proof; prefix names
// the enclosing member in errors.
func decodeEntryProof(prefix string, entry, proof *string) (EntryProof, error) {
	if entry == nil {
		return EntryProof{}, fmt.Errorf("%sentry: missing", prefix)
	}
	if proof == nil {
		return EntryProof{}, fmt.Errorf("%sproof: missing", prefix)
	}
	b, err := decodeBase64(*entry)
	if err != nil {
		return EntryProof{}, fmt.Errorf("%sentry: %w", prefix, err)
	}
	ep := EntryProof{Entry: b, Proof: *proof}
	e, pr, err := ep.read()
	if err != nil {
		return EntryProof{}, fmt.Errorf("%s%w", prefix, err)
	}
	ep.parsed = &parsedEntryProof{entryBytes: b, proofText: *proof, entry: e, proof: pr}
	return ep, nil
}

// check requires a well-formed entry and proof, naming the member on error.
func (ep EntryProof) check(prefix string) error {
	if _, _, err := ep.read(); err != nil {
		return fmt.Errorf("%s%w", prefix, err)
	}
	return nil
}

// Marshal returns the bundle as pakta writes it: compact JSON, members in the
// order v, entry, proof, key, template. It refuses a bundle ParseBundle would reject, so
// pakta never hands out evidence its own verifier cannot read.
func (b *Bundle) Marshal() ([]byte, error) {
	out, err := b.marshal()
	if err != nil {
		return nil, fmt.Errorf("verify: bundle: %w", err)
	}
	return out, nil
}

func (b *Bundle) marshal() ([]byte, error) {
	if err := b.main().check(""); err != nil {
		return nil, err
	}
	v, entry, proof := BundleVersion, base64.StdEncoding.EncodeToString(b.Entry), b.Proof
	j := bundleJSON{V: &v, Entry: &entry, Proof: &proof, Key: &keyJSON{}}
	if e := b.Key.Enrollment; e != nil {
		if err := e.check("key.enrollment."); err != nil {
			return nil, err
		}
		entry, proof := base64.StdEncoding.EncodeToString(e.Entry), e.Proof
		j.Key.Enrollment = &entryProofJSON{Entry: &entry, Proof: &proof}
	}
	if t := b.Template; t != nil {
		if err := t.check("template."); err != nil {
			return nil, err
		}
		entry, proof := base64.StdEncoding.EncodeToString(t.Entry), t.Proof
		j.Template = &entryProofJSON{Entry: &entry, Proof: &proof}
	}
	out, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	if len(out) > MaxBundleSize {
		return nil, fmt.Errorf("%d bytes, more than %d", len(out), MaxBundleSize)
	}
	return out, nil
}
