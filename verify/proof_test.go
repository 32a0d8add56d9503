package verify

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// tlogTree is the same log kept by golang.org/x/mod/sumdb/tlog, an independent
// implementation used to cross-check the proofs this package formats.
type tlogTree struct {
	hashes []tlog.Hash
}

func newTlogTree(t *testing.T, entries [][]byte) *tlogTree {
	t.Helper()
	tt := &tlogTree{}
	for i, e := range entries {
		hs, err := tlog.StoredHashes(int64(i), e, tt)
		if err != nil {
			t.Fatal(err)
		}
		tt.hashes = append(tt.hashes, hs...)
	}
	return tt
}

func (tt *tlogTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(tt.hashes)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = tt.hashes[x]
	}
	return out, nil
}

func TestProofVerifiesAndAgreesWithTlog(t *testing.T) {
	signer, verifier := newTestKey(t, testOrigin)
	for _, size := range []int{1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 64, 100} {
		l := newTestLog(t, size)
		signed := l.signedCheckpoint(t, signer)
		tt := newTlogTree(t, l.entries)
		root, err := tlog.TreeHash(int64(size), tt)
		if err != nil {
			t.Fatal(err)
		}
		if [32]byte(root) != l.checkpoint().Root {
			t.Fatalf("size %d: tlog root %x, merkle root %x", size, root, l.checkpoint().Root)
		}
		for i := range size {
			p := l.proof(t, uint64(i), signed)
			text := p.Marshal()
			parsed, err := ParseProof(text)
			if err != nil {
				t.Fatalf("size %d index %d: ParseProof(Marshal): %v\n%s", size, i, err, text)
			}
			if got := parsed.Marshal(); !bytes.Equal(got, text) {
				t.Fatalf("size %d index %d: round trip\n%s\nwant\n%s", size, i, got, text)
			}
			c, err := parsed.Verify(l.entries[i], testOrigin, verifier)
			if err != nil {
				t.Fatalf("size %d index %d: Verify: %v", size, i, err)
			}
			if c.Size != uint64(size) {
				t.Fatalf("size %d index %d: Verify returned size %d", size, i, c.Size)
			}

			// tlog must accept our path and produce the same one.
			var rp tlog.RecordProof
			for _, h := range parsed.Hashes {
				rp = append(rp, tlog.Hash(h))
			}
			leaf := LeafHash(l.entries[i])
			if tlog.RecordHash(l.entries[i]) != tlog.Hash(leaf) {
				t.Fatalf("tlog.RecordHash differs from LeafHash")
			}
			if err := tlog.CheckRecord(rp, int64(size), root, int64(i), tlog.Hash(leaf)); err != nil {
				t.Fatalf("size %d index %d: tlog.CheckRecord rejects our proof: %v", size, i, err)
			}
			want, err := tlog.ProveRecord(int64(size), int64(i), tt)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(want) != fmt.Sprint(rp) {
				t.Fatalf("size %d index %d: tlog.ProveRecord %v, ours %v", size, i, want, rp)
			}
		}
	}
}

func TestProofExample(t *testing.T) {
	// The example of c2sp.org/tlog-proof, with a real signature: extra line,
	// five hashes, witness cosignatures by unknown keys.
	signer, verifier := newTestKey(t, testOrigin)
	w1, _ := newTestKey(t, "witness1.example")
	l := newTestLog(t, 32)
	cosigned, err := note.Sign(&note.Note{Text: string(l.checkpoint().Marshal())}, signer, w1)
	if err != nil {
		t.Fatal(err)
	}
	p := l.proof(t, 19, cosigned)
	p.Extra = []byte("age-v1.2.1-darwin-arm64.tar.gz")
	text := p.Marshal()
	wantPrefix := "c2sp.org/tlog-proof@v1\nextra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6\nindex 19\n"
	if !strings.HasPrefix(string(text), wantPrefix) || !bytes.HasSuffix(text, cosigned) {
		t.Fatalf("Marshal =\n%s", text)
	}
	parsed, err := ParseProof(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(parsed.Hashes) != 5 || string(parsed.Extra) != string(p.Extra) || !bytes.Equal(parsed.Marshal(), text) {
		t.Fatalf("ParseProof = %+v", parsed)
	}
	if _, err := parsed.Verify(l.entries[19], testOrigin, verifier); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

// TestProofTampered checks named mutations of a valid proof. Each must fail in
// ParseProof (wantParse) or in Verify with the named sentinel.
func TestProofTampered(t *testing.T) {
	signer, verifier := newTestKey(t, testOrigin)
	other, _ := newTestKey(t, testOrigin)
	l := newTestLog(t, 13)
	const index = 5
	signed := l.signedCheckpoint(t, signer)
	good := l.proof(t, index, signed)
	goodText := string(good.Marshal())
	hashLine := func(i int) string { return base64.StdEncoding.EncodeToString(good.Hashes[i][:]) + "\n" }
	withProof := func(f func(p *Proof)) string {
		p := *good
		p.Hashes = append([][32]byte(nil), good.Hashes...)
		f(&p)
		return string(p.Marshal())
	}
	wrongOrigin, err := SignCheckpoint(Checkpoint{Origin: "example.org/other", Size: 13, Root: l.checkpoint().Root}, signer)
	if err != nil {
		t.Fatal(err)
	}
	smaller := newTestLog(t, 5)

	tests := []struct {
		name      string
		text      string
		entry     []byte // nil means the entry at index
		wantParse string // error ParseProof must return, containing this
		wantErr   error  // else, sentinel Verify must return
	}{
		{name: "valid", text: goodText},
		{name: "flipped bit in a hash", text: withProof(func(p *Proof) { p.Hashes[1][7] ^= 0x10 }), wantErr: ErrInclusion},
		{name: "wrong index", text: withProof(func(p *Proof) { p.Index = index + 1 }), wantErr: ErrInclusion},
		{name: "index equal to size", text: withProof(func(p *Proof) { p.Index = 13 }), wantErr: ErrInclusion},
		{name: "index beyond size", text: withProof(func(p *Proof) { p.Index = 1 << 40 }), wantErr: ErrInclusion},
		{name: "missing hash line", text: withProof(func(p *Proof) { p.Hashes = p.Hashes[:len(p.Hashes)-1] }), wantErr: ErrInclusion},
		{name: "extra hash line", text: withProof(func(p *Proof) { p.Hashes = append(p.Hashes, p.Hashes[0]) }), wantErr: ErrInclusion},
		{name: "hashes swapped", text: withProof(func(p *Proof) { p.Hashes[0], p.Hashes[1] = p.Hashes[1], p.Hashes[0] }), wantErr: ErrInclusion},
		{name: "other entry", text: goodText, entry: l.entries[index+1], wantErr: ErrInclusion},
		{name: "entry with trailing newline", text: goodText, entry: append(bytes.Clone(l.entries[index]), '\n'), wantErr: ErrInclusion},
		{name: "checkpoint of another tree", text: withProof(func(p *Proof) { p.Checkpoint = smaller.signedCheckpoint(t, signer) }), wantErr: ErrInclusion},
		{name: "wrong origin", text: withProof(func(p *Proof) { p.Checkpoint = wrongOrigin }), wantErr: ErrCheckpoint},
		{name: "signature by another key", text: withProof(func(p *Proof) { p.Checkpoint = l.signedCheckpoint(t, other) }), wantErr: ErrCheckpoint},
		{name: "flipped bit in signature", text: withProof(func(p *Proof) { p.Checkpoint = flipSignatureBit(t, signed) }), wantErr: ErrCheckpoint},
		{name: "trailing garbage", text: goodText + "garbage", wantParse: "checkpoint"},
		{name: "trailing line", text: goodText + "garbage\n", wantParse: "checkpoint"},
		{name: "trailing newline", text: goodText + "\n", wantParse: "checkpoint"},
		{name: "leading zero in index", text: strings.Replace(goodText, "\nindex 5\n", "\nindex 05\n", 1), wantParse: "leading zero"},
		{name: "plus sign in index", text: strings.Replace(goodText, "\nindex 5\n", "\nindex +5\n", 1), wantParse: "unsigned decimal"},
		{name: "two spaces after index", text: strings.Replace(goodText, "\nindex 5\n", "\nindex  5\n", 1), wantParse: "unsigned decimal"},
		{name: "index overflows uint64", text: strings.Replace(goodText, "\nindex 5\n", "\nindex 18446744073709551616\n", 1), wantParse: "64 bits"},
		{name: "CRLF line endings", text: strings.ReplaceAll(goodText, "\n", "\r\n"), wantParse: "first line"},
		{name: "CRLF in hash lines", text: strings.Replace(goodText, hashLine(0), strings.TrimSuffix(hashLine(0), "\n")+"\r\n", 1), wantParse: "hash 1"},
		{name: "empty hash line", text: strings.Replace(goodText, hashLine(1), "\n"+hashLine(1), 1), wantParse: "checkpoint"},
		{name: "hash without padding", text: strings.Replace(goodText, hashLine(0), strings.TrimSuffix(hashLine(0), "=\n")+"\n", 1), wantParse: "hash 1"},
		{name: "hash of 31 bytes", text: strings.Replace(goodText, hashLine(0), base64.StdEncoding.EncodeToString(good.Hashes[0][:31])+"\n", 1), wantParse: "31 bytes"},
		{name: "no blank line before checkpoint", text: strings.Replace(goodText, hashLine(len(good.Hashes)-1)+"\n", hashLine(len(good.Hashes)-1), 1), wantParse: "hash"},
		{name: "no checkpoint", text: strings.TrimSuffix(goodText, string(signed)), wantParse: "checkpoint"},
		{name: "unsigned checkpoint", text: strings.TrimSuffix(goodText, string(signed)) + string(l.checkpoint().Marshal()), wantParse: "checkpoint"},
		{name: "truncated", text: goodText[:len(goodText)-10], wantParse: "checkpoint"},
		{name: "wrong header", text: strings.Replace(goodText, "tlog-proof@v1", "tlog-proof@v2", 1), wantParse: "first line"},
		{name: "leading blank line", text: "\n" + goodText, wantParse: "first line"},
		{name: "extra after index", text: strings.Replace(goodText, "\nindex 5\n", "\nindex 5\nextra AA==\n", 1), wantParse: "hash 1"},
		{name: "empty extra", text: strings.Replace(goodText, "@v1\n", "@v1\nextra \n", 1), wantParse: "empty extra"},
		{name: "extra not base64", text: strings.Replace(goodText, "@v1\n", "@v1\nextra !!\n", 1), wantParse: "extra"},
		{name: "missing index", text: strings.Replace(goodText, "index 5\n", "", 1), wantParse: "index"},
		{name: "too many hashes", text: strings.Replace(goodText, hashLine(0), strings.Repeat(hashLine(0), MaxProofHashes+1), 1), wantParse: "more than 64 hashes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseProof([]byte(tt.text))
			if tt.wantParse != "" {
				if err == nil {
					t.Fatalf("ParseProof succeeded, want error containing %q\n%s", tt.wantParse, tt.text)
				}
				if !strings.HasPrefix(err.Error(), "verify: proof: ") || !strings.Contains(err.Error(), tt.wantParse) {
					t.Fatalf("ParseProof error %q, want one containing %q", err, tt.wantParse)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseProof: %v", err)
			}
			if got := p.Marshal(); string(got) != tt.text {
				t.Fatalf("Marshal does not round-trip")
			}
			entry := tt.entry
			if entry == nil {
				entry = l.entries[index]
			}
			_, err = p.Verify(entry, testOrigin, verifier)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify error %v, want %v", err, tt.wantErr)
			}
			other := ErrInclusion
			if tt.wantErr == ErrInclusion {
				other = ErrCheckpoint
			}
			if errors.Is(err, other) {
				t.Fatalf("Verify error %v is both %v and %v", err, tt.wantErr, other)
			}
		})
	}
}

func TestProofVerifyRootMismatchIsTyped(t *testing.T) {
	signer, verifier := newTestKey(t, testOrigin)
	l := newTestLog(t, 6)
	p := l.proof(t, 2, l.signedCheckpoint(t, signer))
	p.Hashes[0][0] ^= 1
	_, err := p.Verify(l.entries[2], testOrigin, verifier)
	var mismatch proof.RootMismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("Verify error %v does not carry proof.RootMismatchError", err)
	}
	if !strings.HasPrefix(err.Error(), "verify: inclusion: ") {
		t.Fatalf("Verify error %q lacks prefix", err)
	}
}
