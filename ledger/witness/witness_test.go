package witness

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/pakta-id/pakta/verify"
)

// otherLog is a log pakta did not write: a tree built with x/mod's tlog,
// its checkpoints signed with a plain note key.
type otherLog struct {
	t      *testing.T
	origin string
	signer note.Signer
	vkey   string
	hashes map[int64]tlog.Hash
	size   int64
	salt   string
}

func newOtherLog(t *testing.T, origin, salt string, signer note.Signer, vkey string) *otherLog {
	return &otherLog{t: t, origin: origin, signer: signer, vkey: vkey, hashes: map[int64]tlog.Hash{}, salt: salt}
}

func (l *otherLog) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = l.hashes[x]
	}
	return out, nil
}

func (l *otherLog) grow(n int) {
	for range n {
		sum := sha256.Sum256([]byte(l.salt + string(rune('a'+l.size))))
		hs, err := tlog.StoredHashes(l.size, sum[:], l)
		if err != nil {
			l.t.Fatal(err)
		}
		for i, h := range hs {
			l.hashes[tlog.StoredHashIndex(0, l.size)+int64(i)] = h
		}
		l.size++
	}
}

func (l *otherLog) checkpoint() []byte {
	root, err := tlog.TreeHash(l.size, l)
	if err != nil {
		l.t.Fatal(err)
	}
	c := verify.Checkpoint{Origin: l.origin, Size: uint64(l.size), Root: root}
	signed, err := verify.SignCheckpoint(c, l.signer)
	if err != nil {
		l.t.Fatal(err)
	}
	return signed
}

func (l *otherLog) proof(from int64) [][]byte {
	if from == 0 || from == l.size {
		return nil
	}
	p, err := tlog.ProveTree(l.size, from, l)
	if err != nil {
		l.t.Fatal(err)
	}
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = p[i][:]
	}
	return out
}

func newWitness(t *testing.T, dir string, logs ...string) (*Witness, *verify.CosignatureSigner) {
	t.Helper()
	skey, _, err := verify.GenerateWitnessKey("witness.test/w", nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := verify.NewCosignatureSigner(skey, func() time.Time { return time.Unix(1700000000, 0) })
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(Config{Signer: s, Logs: logs, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return w, s
}

func TestWitnessOtherLog(t *testing.T) {
	skey, vkey, _ := note.GenerateKey(rand.Reader, "example.test/other-log")
	signer, _ := note.NewSigner(skey)
	l := newOtherLog(t, "example.test/other-log", "one", signer, vkey)
	dir := t.TempDir()
	w, ws := newWitness(t, dir, vkey)
	srv := httptest.NewServer(w)
	defer srv.Close()
	c := &Client{URL: srv.URL}
	ctx := context.Background()

	l.grow(3)
	lines, err := c.AddCheckpoint(ctx, 0, nil, l.checkpoint())
	if err != nil {
		t.Fatal(err)
	}
	cosigned, err := verify.AddSignatures(l.checkpoint(), lines)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(cosigned, note.VerifierList(ws.Verifier())); err != nil {
		t.Fatalf("the cosignature does not verify: %v", err)
	}
	l.grow(4)
	if _, err := c.AddCheckpoint(ctx, 3, l.proof(3), l.checkpoint()); err != nil {
		t.Fatal(err)
	}
	// A stale old size: 409 with the witness's size.
	var conflict *ConflictError
	if _, err := c.AddCheckpoint(ctx, 3, l.proof(3), l.checkpoint()); !errors.As(err, &conflict) || conflict.Size != 7 {
		t.Fatalf("stale old size: %v", err)
	}
	// The same checkpoint again: cosigned again.
	if _, err := c.AddCheckpoint(ctx, 7, nil, l.checkpoint()); err != nil {
		t.Fatal(err)
	}

	// A rollback: an older, smaller checkpoint.
	old := newOtherLog(t, l.origin, "one", signer, vkey)
	old.grow(5)
	if _, err := c.AddCheckpoint(ctx, 7, nil, old.checkpoint()); err == nil {
		t.Fatal("a rollback to size 5 was cosigned")
	}
	if _, err := c.AddCheckpoint(ctx, 5, nil, old.checkpoint()); !errors.As(err, &conflict) || conflict.Size != 7 {
		t.Fatalf("rollback with old 5: %v", err)
	}

	// A fork: another history of the same log, same size, and larger.
	fork := newOtherLog(t, l.origin, "two", signer, vkey)
	fork.grow(7)
	// Over HTTP a fork at the size cosigned is a 409 naming that very
	// size: the old size was right, the root was not.
	if _, err := c.AddCheckpoint(ctx, 7, nil, fork.checkpoint()); !errors.As(err, &conflict) || conflict.Size != 7 {
		t.Fatalf("fork at the same size: %v", err)
	}
	if _, err := w.AddCheckpoint(ctx, append([]byte("old 7\n\n"), fork.checkpoint()...)); !errors.As(err, &conflict) || !conflict.Fork {
		t.Fatalf("fork at the same size, in process: %v", err)
	}
	fork.grow(2)
	var status *StatusError
	if _, err := c.AddCheckpoint(ctx, 7, fork.proof(7), fork.checkpoint()); !errors.As(err, &status) || status.Code != 422 {
		t.Fatalf("fork with a proof from its own history: %v", err)
	}

	// Not the log's key, an unknown log, malformed bodies.
	impostorKey, _, _ := note.GenerateKey(rand.Reader, l.origin)
	impostor, _ := note.NewSigner(impostorKey)
	bad := newOtherLog(t, l.origin, "one", impostor, "")
	bad.grow(8)
	if _, err := c.AddCheckpoint(ctx, 7, nil, bad.checkpoint()); !errors.As(err, &status) || status.Code != 403 {
		t.Fatalf("impostor: %v", err)
	}
	unknownKey, _, _ := note.GenerateKey(rand.Reader, "example.test/unknown")
	unknown, _ := note.NewSigner(unknownKey)
	u := newOtherLog(t, "example.test/unknown", "x", unknown, "")
	u.grow(1)
	if _, err := c.AddCheckpoint(ctx, 0, nil, u.checkpoint()); !errors.As(err, &status) || status.Code != 404 {
		t.Fatalf("unknown log: %v", err)
	}
	for _, body := range []string{"", "old 01\n\n", "old x\n\n", "old 0\nnot-a-hash\n\n" + string(l.checkpoint())} {
		if _, err := w.AddCheckpoint(ctx, []byte(body)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v", body, err)
		}
	}

	// The state is durable: a new witness on the same directory remembers.
	w2, _ := newWitness(t, dir, vkey)
	if n := w2.Size(l.origin); n != 7 {
		t.Fatalf("after reopening, size %d", n)
	}
}
