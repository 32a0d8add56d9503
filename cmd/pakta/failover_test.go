package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pakta-id/pakta/cmd/pakta/internal/loadgen"
	"github.com/pakta-id/pakta/ledger/store/pgstore/pgtest"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// TestFailover runs two `pakta serve` on one PostgreSQL log: the second
// waits for the writer lock. Under load the first is killed (SIGKILL); the
// second takes over, the clients move to it, and then every entry either
// server acknowledged is served with the same bytes, every checkpoint seen
// is consistent with the final tree, and the log audits.
func TestFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("failover test: not in -short")
	}
	store := []string{"--store", pgtest.URL(t), "--store-schema", pgtest.Schema(t)}
	dir := filepath.Join(t.TempDir(), "data")
	if out, err := exec.Command(paktaBin(t), "init", "--dir", dir, "--origin", "pakta.test/failover").CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	policyBytes, _ := os.ReadFile(filepath.Join(dir, "policy.json"))
	policy, err := verify.ParsePolicy(policyBytes)
	if err != nil {
		t.Fatal(err)
	}
	registrar, err := pledge.ReadPrivateKeyFile(filepath.Join(dir, "registrar.jwk"))
	if err != nil {
		t.Fatal(err)
	}

	primary := startServer(t, dir, store...)
	standby := startWaiting(t, dir, store...)
	t.Cleanup(func() { standby.cmd.Process.Kill() }) // on a failure; a no-op after stop
	// The standby is up but waiting for the lock: not serving.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(standby.stderr.String(), "waiting for its lock") {
		if time.Now().After(deadline) {
			t.Fatalf("the standby does not say it waits for the lock\n%s", standby.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}

	var (
		mu          sync.Mutex
		acked       = map[uint64][]byte{}
		checkpoints = map[uint64][]byte{}
		next        atomic.Int64
		target      atomic.Pointer[string] // the URL clients post to
		onStandby   atomic.Int64           // acknowledged by the standby
	)
	target.Store(&primary.url)
	client := &http.Client{Timeout: 10 * time.Second}
	wib := time.FixedZone("WIB", 7*3600)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1))
				k, _ := pledge.GenerateKey("", rand.Reader)
				person := pledge.Person{Scheme: "nip", ID: loadgen.NIP(i), Name: fmt.Sprintf("Pegawai %d", i), Agency: pledge.Agency{Code: "1810", Name: "Pemerintah Kabupaten Mesuji"}, Employment: pledge.PNS}
				enr, _ := pledge.Enroll(&pledge.Enrollment{Type: pledge.TypeEnrollment, Subject: person, JWK: k.Public(), ValidFrom: time.Now().In(wib).Add(-time.Hour).Format(time.RFC3339)}, registrar, k)
				url := *target.Load()
				code, body, err := post(client, url, enr)
				if err != nil || code != http.StatusCreated {
					time.Sleep(10 * time.Millisecond) // the primary is gone: not acknowledged
					continue
				}
				b, err := verify.ParseBundle(body)
				if err != nil {
					t.Errorf("an acknowledged bundle does not parse: %v", err)
					continue
				}
				p, _ := verify.ParseProof([]byte(b.Proof))
				cp, _, err := verify.OpenCheckpoint(p.Checkpoint, policy.Origin, policy.Verifier())
				if err != nil {
					t.Errorf("checkpoint of an acknowledged bundle: %v", err)
					continue
				}
				if url == standby.url {
					onStandby.Add(1)
				}
				mu.Lock()
				acked[p.Index] = b.Entry
				checkpoints[cp.Size] = cp.Root[:]
				mu.Unlock()
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	primary.kill()
	killed := time.Now()
	mu.Lock()
	before := len(acked)
	mu.Unlock()
	// The standby takes the lock once the primary's session ends, then
	// opens the log (recovering a checkpoint if the kill fell between a
	// commit and its checkpoint) and serves.
	for {
		resp, err := http.Get(standby.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-standby.done:
			cancel()
			t.Fatalf("the standby exited: %v\n%s", err, standby.stderr)
		default:
		}
		if time.Since(killed) > 30*time.Second {
			cancel()
			t.Fatalf("the standby did not take over within 30s\n%s", standby.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	takeover := time.Since(killed)
	target.Store(&standby.url)
	time.Sleep(1500 * time.Millisecond)
	cancel()
	wg.Wait()
	if onStandby.Load() == 0 {
		t.Fatalf("no append acknowledged by the standby after the takeover\n%s", standby.stderr)
	}
	checkRecovered(t, client, standby.url, policy, registrar, acked, checkpoints)
	out, err := exec.Command(paktaBin(t), "audit", "--server", standby.url, "--policy", filepath.Join(dir, "policy.json"), "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("audit after the failover: %v\n%s", err, out)
	}
	t.Logf("%d entries acknowledged by the primary before its kill, %d by the standby; serving again %v after the kill; %d checkpoints consistent; %s",
		before, onStandby.Load(), takeover.Round(time.Millisecond), len(checkpoints), bytes.TrimSpace(out))
	standby.stop(t)
}

// startWaiting starts pakta serve without waiting for it to be healthy: a
// standby waiting for the writer lock.
func startWaiting(t *testing.T, dir string, flags ...string) *server {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(paktaBin(t), append([]string{"serve", "--dir", dir, "--listen", addr, "--log-format", "json"}, flags...)...)
	s := &server{cmd: cmd, url: "http://" + addr, stderr: new(syncBuffer), done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	return s
}
