package verify

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// ErrInclusion marks a proof that does not place the entry in the checkpointed
// tree: index not below the tree size, wrong number of hashes, or a root that
// does not match. Callers use it to name the failing check ("inclusion").
var ErrInclusion = errors.New("verify: inclusion check failed")

const (
	proofHeader = "c2sp.org/tlog-proof@v1"

	// MaxProofHashes bounds the audit path: a tree of at most 2^64 leaves
	// needs at most 64 hashes.
	MaxProofHashes = 64

	// maxProofSize bounds the whole proof text, so a hostile input cannot
	// make the parser work on megabytes.
	maxProofSize = 1 << 20
)

// Proof is a C2SP tlog-proof@v1: an inclusion proof for the entry at Index,
// under the signed checkpoint carried verbatim in Checkpoint.
type Proof struct {
	// Extra is the optional, unauthenticated extra data; nil (or empty) means
	// no extra line. pakta does not use it.
	Extra []byte
	Index uint64
	// Hashes is the audit path, leaf side first (RFC 6962).
	Hashes [][32]byte
	// Checkpoint is the signed checkpoint note, verbatim, signature lines
	// included.
	Checkpoint []byte
}

// ParseProof parses a tlog-proof@v1 text. It accepts only the text Marshal
// writes for the result: LF line endings, an index without leading zeros,
// canonical base64 (32-byte hashes, non-empty extra data), at most
// MaxProofHashes hashes, and a well-formed signed checkpoint note with nothing
// after its last signature line. It checks no signature: see Verify.
func ParseProof(b []byte) (*Proof, error) {
	p, err := parseProof(b)
	if err != nil {
		return nil, fmt.Errorf("verify: proof: %w", err)
	}
	return p, nil
}

func parseProof(b []byte) (*Proof, error) {
	if len(b) > maxProofSize {
		return nil, fmt.Errorf("proof is %d bytes, more than %d", len(b), maxProofSize)
	}
	s := string(b)
	next := func() (string, bool) {
		line, rest, ok := strings.Cut(s, "\n")
		s = rest
		return line, ok
	}
	line, ok := next()
	if !ok || line != proofHeader {
		return nil, fmt.Errorf("first line %q, want %q", abbrev(line), proofHeader)
	}
	p := &Proof{}
	line, ok = next()
	if data, found := strings.CutPrefix(line, "extra "); found {
		if data == "" {
			return nil, errors.New("empty extra line")
		}
		extra, err := decodeBase64(data)
		if err != nil {
			return nil, fmt.Errorf("extra: %w", err)
		}
		p.Extra = extra
		line, ok = next()
	}
	idx, found := strings.CutPrefix(line, "index ")
	if !ok || !found {
		return nil, fmt.Errorf("line %q, want %q", abbrev(line), "index <decimal>")
	}
	index, err := parseDecimal(idx)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	p.Index = index
	for {
		line, ok = next()
		if !ok {
			return nil, errors.New("no blank line before the checkpoint")
		}
		if line == "" {
			break
		}
		if len(p.Hashes) == MaxProofHashes {
			return nil, fmt.Errorf("more than %d hashes", MaxProofHashes)
		}
		h, err := decodeHash(line)
		if err != nil {
			return nil, fmt.Errorf("hash %d: %w", len(p.Hashes)+1, err)
		}
		p.Hashes = append(p.Hashes, h)
	}
	if _, err := splitNote([]byte(s)); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	p.Checkpoint = []byte(s)
	return p, nil
}

// Marshal returns the tlog-proof@v1 text. For a proof returned by ParseProof it
// returns the parsed bytes exactly.
func (p *Proof) Marshal() []byte {
	var b strings.Builder
	b.WriteString(proofHeader + "\n")
	if len(p.Extra) > 0 {
		b.WriteString("extra " + base64.StdEncoding.EncodeToString(p.Extra) + "\n")
	}
	b.WriteString("index " + strconv.FormatUint(p.Index, 10) + "\n")
	for _, h := range p.Hashes {
		b.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
	}
	b.WriteString("\n")
	b.Write(p.Checkpoint)
	return []byte(b.String())
}

// Verify checks that the checkpoint is signed by v for origin, then that the
// proof places the entry bytes (hashed with LeafHash) at Index in the tree of
// the checkpoint's size and root. It returns the checkpoint on success.
// Checkpoint failures wrap ErrCheckpoint; inclusion failures wrap ErrInclusion
// (and *proof.RootMismatchError when the computed root differs).
func (p *Proof) Verify(entry []byte, origin string, v note.Verifier) (Checkpoint, error) {
	c, _, err := OpenCheckpoint(p.Checkpoint, origin, v)
	if err != nil {
		return Checkpoint{}, err
	}
	if err := p.verifyInclusion(entry, c); err != nil {
		return Checkpoint{}, tagged(ErrInclusion, fmt.Errorf("verify: inclusion: %w", err))
	}
	return c, nil
}

func (p *Proof) verifyInclusion(entry []byte, c Checkpoint) error {
	if p.Index >= c.Size {
		return fmt.Errorf("index %d is not below tree size %d", p.Index, c.Size)
	}
	path := make([][]byte, len(p.Hashes))
	for i := range p.Hashes {
		path[i] = p.Hashes[i][:]
	}
	leaf := LeafHash(entry)
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, p.Index, c.Size, leaf[:], path, c.Root[:]); err != nil {
		return fmt.Errorf("entry at index %d in tree of size %d: %w", p.Index, c.Size, err)
	}
	return nil
}

// explainInclusion words an inclusion failure for the report.
func explainInclusion(err error) any {
	var mismatch proof.RootMismatchError
	if errors.As(err, &mismatch) && len(mismatch.CalculatedRoot) >= 8 && len(mismatch.ExpectedRoot) >= 8 {
		return msgf("hashing the entry with the proof gives the root %x…, but the checkpoint's root is %x…: the entry or the proof was changed, or the entry is not in this log",
			mismatch.CalculatedRoot[:8], mismatch.ExpectedRoot[:8])
	}
	return plain(err)
}
