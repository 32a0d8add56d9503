package verify

import (
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"
)

const testOrigin = "example.org/log"

// newTestKey generates a real Ed25519 note key named name.
func newTestKey(t testing.TB, name string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// testLog is a small real log: canonical entries in an RFC 6962 tree built by
// transparency-dev/merkle's reference implementation.
type testLog struct {
	entries [][]byte
	tree    *testonly.Tree
}

func newTestLog(t testing.TB, n int) *testLog {
	t.Helper()
	l := &testLog{tree: testonly.New(rfc6962.DefaultHasher)}
	start := time.Date(2023, 11, 27, 0, 15, 1, 123_000_000, time.UTC)
	for i := range n {
		e, err := MarshalEntry(Entry{
			LoggedAt: start.Add(time.Duration(i) * time.Second),
			JWS:      fmt.Appendf(nil, "eyJhbGciOiJFZERTQSJ9.eyJuIjo%dfQ.c2ln", i),
		})
		if err != nil {
			t.Fatal(err)
		}
		l.entries = append(l.entries, e)
		l.tree.AppendData(e)
	}
	return l
}

// checkpoint returns the checkpoint of the whole tree.
func (l *testLog) checkpoint() Checkpoint {
	c := Checkpoint{Origin: testOrigin, Size: l.tree.Size()}
	copy(c.Root[:], l.tree.Hash())
	return c
}

// signedCheckpoint signs the checkpoint of the whole tree with s.
func (l *testLog) signedCheckpoint(t testing.TB, s note.Signer) []byte {
	t.Helper()
	signed, err := SignCheckpoint(l.checkpoint(), s)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// proof returns the inclusion proof of entry index in the whole tree, under
// the given signed checkpoint.
func (l *testLog) proof(t testing.TB, index uint64, signed []byte) *Proof {
	t.Helper()
	path, err := l.tree.InclusionProof(index, l.tree.Size())
	if err != nil {
		t.Fatal(err)
	}
	p := &Proof{Index: index, Checkpoint: signed}
	for _, h := range path {
		p.Hashes = append(p.Hashes, [32]byte(h))
	}
	return p
}
