package loadgen

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

func TestNIPsAreValidAndDistinct(t *testing.T) {
	var zeroTime time.Time
	seen := map[string]bool{}
	for _, i := range []int{0, 1, 998, 999, 1997, 1998, 5000, 123456, 1998*36500 - 1} {
		n := NIP(i)
		if err := pledge.ValidateNIP(n, pledge.PNS, zeroTime); err != nil {
			t.Fatalf("NIP(%d) = %s: %v", i, n, err)
		}
		if seen[n] {
			t.Fatalf("NIP(%d) = %s repeats", i, n)
		}
		seen[n] = true
	}
}

func TestRunInProcess(t *testing.T) {
	ctx := context.Background()
	skey, vkey, _ := note.GenerateKey(rand.Reader, "bench.test/log")
	signer, _ := note.NewSigner(skey)
	reg, _ := pledge.GenerateKey("", rand.Reader)
	policy, err := verify.NewPolicy("bench.test/log", vkey, []*verify.Registrar{verify.NationalRegistrar("Registrar Uji", reg.Public())})
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(ctx, t.TempDir(), ledger.Config{Signer: signer, Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	res, err := Run(ctx, Local{l}, Config{Employees: 60, Clients: 8, LogReads: 50, Registrar: reg, Kind: LocalKind})
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]Phase{"enroll": res.Enroll, "append": res.Append, "reads": res.Reads, "queries": res.Queries} {
		if p.Count != 60 || len(p.Errors) != 0 || p.PerSecond <= 0 {
			t.Fatalf("%s: %+v", name, p)
		}
	}
	if res.LogReads == nil || res.LogReads.Count != 50 || len(res.LogReads.Errors) != 0 || res.LogSize != 121 { // and the template
		t.Fatalf("log reads: %+v of %d", res.LogReads, res.LogSize)
	}
	if _, size := l.Checkpoint(); size != 121 {
		t.Fatalf("tree size %d, want 121", size)
	}
}

// TestSoakOpenLoop: a soak offers Rate×Duration pledges open loop, the
// employees pledging again for new elections, and measures each window.
func TestSoakOpenLoop(t *testing.T) {
	ctx := context.Background()
	skey, vkey, _ := note.GenerateKey(rand.Reader, "bench.test/log")
	signer, _ := note.NewSigner(skey)
	reg, _ := pledge.GenerateKey("", rand.Reader)
	policy, err := verify.NewPolicy("bench.test/log", vkey, []*verify.Registrar{verify.NationalRegistrar("Registrar Uji", reg.Public())})
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(ctx, t.TempDir(), ledger.Config{Signer: signer, Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	start := time.Now()
	res, err := Run(ctx, Local{l}, Config{Employees: 50, Rate: 300, Duration: 1500 * time.Millisecond, Window: 500 * time.Millisecond,
		Reads: 10, Registrar: reg, Kind: LocalKind})
	if err != nil {
		t.Fatal(err)
	}
	if res.Append.Count != 450 || len(res.Append.Errors) != 0 || len(res.Windows) != 3 {
		t.Fatalf("append %+v, %d windows", res.Append, len(res.Windows))
	}
	for i, w := range res.Windows {
		if w.Count != 150 || w.Start != float64(i)*0.5 || w.P99 <= 0 || len(w.Errors) != 0 {
			t.Fatalf("window %d: %+v", i, w)
		}
	}
	if _, size := l.Checkpoint(); size != 509 {
		t.Fatalf("tree size %d, want 50 enrollments, 450 pledges and 9 templates (one a round)", size)
	}
	if time.Since(start) < 1500*time.Millisecond {
		t.Fatal("the soak did not last its duration")
	}
}
