package ledger

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/transparency-dev/merkle/proof"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/pakta-id/pakta/ledger/store/pebblestore"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// fill appends n pledges (with their enrollments) from concurrent callers,
// in random bursts, and returns the checkpoints seen along the way.
func fill(t *testing.T, e *env, n int, seed uint64) map[uint64][]byte {
	t.Helper()
	rnd := rand.New(rand.NewPCG(seed, 7))
	cps := map[uint64][]byte{}
	for done := 0; done < n; {
		burst := min(1+rnd.IntN(40), n-done)
		var wg sync.WaitGroup
		for i := range burst {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := person(int(seed)*300 + done + i) // distinct across calls with different seeds
				k, _ := e.enroll(p)
				e.append(e.sign(e.pledgeStatement(p, "Pemilu 2024"), k))
			}()
		}
		wg.Wait()
		done += burst
		signed, size := e.log.Checkpoint()
		cps[size] = signed
	}
	return cps
}

// TestProofsAgainstCheckpoints: every bundle verifies, every inclusion proof
// checks with transparency-dev/merkle and with sumdb/tlog, every checkpoint
// opens with note.Open, and every pair of checkpoints is consistent.
func TestProofsAgainstCheckpoints(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBatch = 37 })
	cps := fill(t, e, 150, 1)
	ctx := context.Background()
	roots := map[uint64][]byte{}
	for size, signed := range cps {
		n, err := note.Open(signed, note.VerifierList(e.Policy.Verifier()))
		if err != nil {
			t.Fatal(err)
		}
		cp, err := verify.ParseCheckpoint([]byte(n.Text))
		if err != nil || cp.Size != size {
			t.Fatalf("checkpoint %d: %v", size, err)
		}
		roots[size] = cp.Root[:]
	}
	_, size := e.log.Checkpoint()
	for i := range size {
		entry, err := e.log.Entry(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		leaf := verify.LeafHash(entry)
		for s, root := range roots {
			if i >= s {
				continue
			}
			path, err := e.log.InclusionProof(ctx, i, s)
			if err != nil {
				t.Fatal(err)
			}
			if err := proof.VerifyInclusion(hasher, i, s, leaf[:], path, root); err != nil {
				t.Fatalf("inclusion %d in %d: %v", i, s, err)
			}
			if err := tlog.CheckRecord(tlog.RecordProof(toTlog(path)), int64(s), tlog.Hash(root), int64(i), tlog.Hash(leaf)); err != nil {
				t.Fatal(err)
			}
		}
		if i%7 == 0 {
			r, _ := verify.VerifyBytes(e.bundle(i), e.Policy, nil)
			if !r.Passed() {
				t.Fatalf("bundle %d:\n%s", i, r.Text())
			}
		}
	}
	for s1, r1 := range roots {
		for s2, r2 := range roots {
			if s1 == 0 || s1 > s2 {
				continue
			}
			p, err := e.log.ConsistencyProof(ctx, s1, s2)
			if err != nil {
				t.Fatal(err)
			}
			if err := proof.VerifyConsistency(hasher, s1, s2, p, r1, r2); err != nil {
				t.Fatalf("consistency %d→%d: %v", s1, s2, err)
			}
		}
	}
	for _, bad := range [][2]uint64{{0, 1}, {2, 1}, {1, size + 1}} {
		if _, err := e.log.ConsistencyProof(ctx, bad[0], bad[1]); !errors.Is(err, ErrInvalid) {
			t.Errorf("consistency %v: %v", bad, err)
		}
	}
}

func TestAuditAgreesAndRefusesHeldLog(t *testing.T) {
	pebbleOnly(t)
	e := newEnv(t, func(c *Config) { c.MaxBatch = 16 })
	fill(t, e, 120, 2)
	e.publish("Pilkada 2024")
	revoked := person(9000)
	k, _ := e.enroll(revoked)
	e.append(e.sign(&pledge.Revocation{Type: pledge.TypeRevocation, KID: k.KeyID(), Reason: "keluar"}, e.Registrar))
	ctx := context.Background()
	if _, err := Audit(ctx, e.dir, e.Policy, AuditOptions{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("audit of a held log: %v", err)
	}
	_, size := e.log.Checkpoint()
	e.log.Close()
	var last uint64
	sum, err := Audit(ctx, e.dir, e.Policy, AuditOptions{Progress: func(done, total uint64) { last = done }})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Size != size || last != size || sum.Checkpoints < 2 || sum.Types["pledge"] != 120 || sum.Types["revocation"] != 1 || sum.Types["template"] != 2 {
		t.Fatalf("summary %+v, progress %d", sum, last)
	}
	// Stopped by its user (Ctrl-C) midway, an audit says so and accuses
	// the log of nothing.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, err = Audit(cctx, e.dir, e.Policy, AuditOptions{Progress: func(done, total uint64) {
		if done > 0 {
			cancel()
		}
	}})
	var ae *AuditError
	if !errors.Is(err, context.Canceled) || errors.As(err, &ae) {
		t.Fatalf("audit canceled midway: %v (an AuditError: %v)", err, errors.As(err, &ae))
	}
	e.log = nil
}

// TestAuditFindsTampering: flip one byte of an entry, of a tile, of an
// index row, directly in Pebble; the audit names the place.
func TestAuditFindsTampering(t *testing.T) {
	pebbleOnly(t)
	e := newEnv(t, func(c *Config) { c.MaxBatch = 64 })
	fill(t, e, 200, 3)
	e.log.Close()
	e.log = nil
	ctx := context.Background()
	tests := []struct {
		name string
		key  []byte
		want string
		idx  uint64
	}{
		{"entry byte", pebblestore.EntryKey(123), "", 123},
		{"level-0 tile", pebblestore.TileKey(0, 1), "tile/0/001", 256 + 5},
		{"internal row", pebblestore.TileKey(3, 0), "internal hash row at tree level 3", 5 << 3},
		{"level-8 tile", pebblestore.TileKey(8, 0), "tile/1/000.p/1", 0},
		{"dedup row", pebblestore.RowKey(nil), "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, e.dir, dir)
			db, err := pebble.Open(dir, &pebble.Options{})
			if err != nil {
				t.Fatal(err)
			}
			key := tt.key
			if tt.name == "dedup row" {
				// The first pledge-dedup row, whatever its hash.
				it, _ := db.NewIter(&pebble.IterOptions{LowerBound: pebblestore.RowKey([]byte{rowDedupPayload}), UpperBound: pebblestore.RowKey([]byte{rowDedupPayload + 1})})
				it.First()
				key = bytes.Clone(it.Key())
				it.Close()
			}
			v, closer, err := db.Get(key)
			if err != nil {
				t.Fatal(err)
			}
			v = bytes.Clone(v)
			closer.Close()
			pos := len(v) / 2
			if tt.name == "level-0 tile" || tt.name == "internal row" {
				pos = 5*32 + 3
			}
			if tt.name == "dedup row" {
				pos = 7
			}
			v[pos] ^= 0x01
			if err := db.Set(key, v, pebble.Sync); err != nil {
				t.Fatal(err)
			}
			db.Close()
			_, err = Audit(ctx, dir, e.Policy, AuditOptions{})
			var ae *AuditError
			if !errors.As(err, &ae) {
				t.Fatalf("audit did not find the tampering: %v", err)
			}
			if tt.name != "dedup row" && ae.Index != tt.idx {
				t.Fatalf("audit names entry %d, want %d: %v", ae.Index, tt.idx, err)
			}
			if !strings.Contains(ae.Tile, tt.want) {
				t.Fatalf("audit names %q, want %q: %v", ae.Tile, tt.want, err)
			}
			t.Log(err)
		})
	}
}

// TestAuditTiles audits a log through its tiles, as a mirror does, and
// catches a checkpoint from a forked history.
func TestAuditTiles(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBatch = 16 })
	fill(t, e, 150, 4)
	early, earlySize := e.log.Checkpoint()
	fill(t, e, 140, 5)
	ctx := context.Background()
	var last uint64
	sum, err := AuditTiles(ctx, e.log.Tiles(), e.Policy, [][]byte{early}, AuditOptions{Progress: func(d, _ uint64) { last = d }})
	if err != nil {
		t.Fatal(err)
	}
	if _, size := e.log.Checkpoint(); sum.Size != size || last != size || sum.Checkpoints != 2 {
		t.Fatalf("summary %+v", sum)
	}
	// A checkpoint the same key signed for another history at that size.
	forged := verify.Checkpoint{Origin: testOrigin, Size: earlySize}
	forged.Root[0] = 1
	signed, err := verify.SignCheckpoint(forged, e.Signer)
	if err != nil {
		t.Fatal(err)
	}
	_, err = AuditTiles(ctx, e.log.Tiles(), e.Policy, [][]byte{signed}, AuditOptions{})
	var ae *AuditError
	if !errors.As(err, &ae) || ae.Index != earlySize {
		t.Fatalf("forked history: %v", err)
	}
}
