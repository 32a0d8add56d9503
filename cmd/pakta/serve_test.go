package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/pakta-id/pakta/cmd/pakta/internal/loadgen"
	paktaclient "github.com/pakta-id/pakta/ledger/client"
	"github.com/pakta-id/pakta/ledger/store/pgstore/pgtest"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// buildPakta builds the real binary once per test run.
var buildPakta = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "pakta-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "pakta")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// paktaBin is the binary under test: the one built from this tree, or
// $PAKTA_BIN (to measure another build with the same tests).
func paktaBin(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("PAKTA_BIN"); bin != "" {
		return bin
	}
	bin, err := buildPakta()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// server is a running `pakta serve` process.
type server struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
	done   chan error
}

// syncBuffer is the server's stderr: written by os/exec's copier while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startServer(t *testing.T, dir string, flags ...string) *server {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(paktaBin(t), append([]string{"serve", "--dir", dir, "--listen", addr, "--log-format", "json"}, flags...)...)
	s := &server{cmd: cmd, url: "http://" + addr, stderr: new(syncBuffer), done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case err := <-s.done:
			t.Fatalf("pakta serve exited: %v\n%s", err, s.stderr)
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("pakta serve did not become healthy\n%s", s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("pakta serve after SIGTERM: %v\n%s", err, s.stderr)
		}
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		t.Fatal("pakta serve did not stop on SIGTERM")
	}
}

func (s *server) kill() {
	s.cmd.Process.Kill() // SIGKILL: no shutdown, no flush
	<-s.done
}

// post submits a JWS and returns the status and body.
func post(c *http.Client, url string, jws []byte) (int, []byte, error) {
	ct := "application/jose"
	if jws[0] == '{' {
		ct = "application/jose+json"
	}
	resp, err := c.Post(url+"/v1/entries", ct, bytes.NewReader(jws))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// TestServeBinary: the real binary creates a log on first run, serves it,
// and stops cleanly (exit 0) on SIGTERM.
func TestServeBinary(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, dir)
	if !strings.Contains(s.stderr.String(), "no log here yet: created one") {
		t.Fatalf("serve did not say it created a log:\n%s", s.stderr)
	}
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "pakta_log_tree_size") {
		t.Fatalf("metrics:\n%s", b)
	}
	s.stop(t)
	if !strings.Contains(s.stderr.String(), "stopped") {
		t.Fatalf("no stop line:\n%s", s.stderr)
	}
}

// ack is an entry the server acknowledged, with its bundle.
type ack struct {
	index uint64
	entry []byte
}

// TestCrashRecovery runs the real server under load and kills it (SIGKILL)
// at random moments, round after round. After every restart: every
// acknowledged entry is present with identical bytes, the new checkpoint is
// consistent with every checkpoint seen before, and at the end `pakta audit`
// passes. PAKTA_CRASH_ROUNDS sets the rounds (default 3; -short skips).
// TestCrashRecoveryPostgres runs the same loop on PostgreSQL.
func TestCrashRecovery(t *testing.T) { crashLoop(t, nil) }

// TestCrashRecoveryPostgres is the crash loop with the log in PostgreSQL
// (serve --store): every kill ends the writer's session, and with it its
// lock, mid-transaction.
func TestCrashRecoveryPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: not in -short")
	}
	crashLoop(t, []string{"--store", pgtest.URL(t), "--store-schema", pgtest.Schema(t)})
}

// crashLoop is the crash test with storeFlags given to every serve: none
// for Pebble in --dir.
func crashLoop(t *testing.T, storeFlags []string) {
	if testing.Short() {
		t.Skip("crash test: not in -short")
	}
	rounds := 3
	if v := os.Getenv("PAKTA_CRASH_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		rounds = n
	}
	// As root, the log lives on a tmpfs of its own, and every third round
	// fills that disk while appends run: the reserve must refuse them
	// (507) before Pebble's WAL fails, and nothing acknowledged may be
	// lost. PAKTA_CRASH_DISKFULL=0 turns it off.
	base, fill := t.TempDir(), false
	// (Pebble only: PostgreSQL's disk is the database team's.)
	if os.Geteuid() == 0 && os.Getenv("PAKTA_CRASH_DISKFULL") != "0" && storeFlags == nil {
		mnt := filepath.Join(base, "mnt")
		os.Mkdir(mnt, 0o755)
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512m", "tmpfs", mnt).CombinedOutput(); err != nil {
			t.Logf("no tmpfs (%v: %s): no disk-full rounds", err, bytes.TrimSpace(out))
		} else {
			t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
			base, fill = mnt, true
		}
	}
	dir := filepath.Join(base, "data")
	if out, err := exec.Command(paktaBin(t), "init", "--dir", dir, "--origin", "pakta.test/crash").CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	// The pledges' template, published before the first round.
	tmplPath := filepath.Join(t.TempDir(), "netral.txt")
	os.WriteFile(tmplPath, []byte("netral"), 0o644)
	tmplJWS := filepath.Join(t.TempDir(), "template.jws")
	if out, err := exec.Command(paktaBin(t), "sign", "template", "--key", filepath.Join(dir, "registrar.jwk"), "--id", "netralitas", "--election", "Pemilu 2029", "--agency", "1810", "--text", tmplPath, "--out", tmplJWS).CombinedOutput(); err != nil {
		t.Fatalf("sign template: %v\n%s", err, out)
	}
	if storeFlags == nil {
		if out, err := exec.Command(paktaBin(t), "submit", "--dir", dir, "--out", t.TempDir(), tmplJWS).CombinedOutput(); err != nil {
			t.Fatalf("submit template: %v\n%s", err, out)
		}
	} else {
		s := startServer(t, dir, storeFlags...)
		if out, err := exec.Command(paktaBin(t), "submit", "--server", s.url, "--out", t.TempDir(), tmplJWS).CombinedOutput(); err != nil {
			t.Fatalf("submit template: %v\n%s", err, out)
		}
		s.stop(t)
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
	var (
		mu          sync.Mutex
		acked       = map[uint64][]byte{}
		checkpoints = map[uint64][]byte{} // size → root
		next        int
	)
	record := func(body []byte) {
		b, err := verify.ParseBundle(body)
		if err != nil {
			t.Errorf("an acknowledged bundle does not parse: %v", err)
			return
		}
		p, _ := verify.ParseProof([]byte(b.Proof))
		cp, _, err := verify.OpenCheckpoint(p.Checkpoint, policy.Origin, policy.Verifier())
		if err != nil {
			t.Errorf("checkpoint: %v", err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if prev, ok := acked[p.Index]; ok && !bytes.Equal(prev, b.Entry) {
			t.Errorf("index %d acknowledged twice with different entries", p.Index)
		}
		acked[p.Index] = b.Entry
		checkpoints[cp.Size] = cp.Root[:]
	}
	client := &http.Client{Timeout: 10 * time.Second}
	wib := time.FixedZone("WIB", 7*3600)
	total := 0
	refusedFull := 0
	for round := range rounds {
		s := startServer(t, dir, append([]string{"--disk-reserve", "16"}, storeFlags...)...)
		checkRecovered(t, client, s.url, policy, registrar, acked, checkpoints)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					mu.Lock()
					i := next
					next++
					mu.Unlock()
					k, _ := pledge.GenerateKey("", rand.Reader)
					person := pledge.Person{Scheme: "nip", ID: loadgen.NIP(i), Name: fmt.Sprintf("Pegawai %d", i), Agency: pledge.Agency{Code: "1810", Name: "Pemerintah Kabupaten Mesuji"}, Employment: pledge.PNS}
					now := time.Now().In(wib)
					enr, _ := pledge.Enroll(&pledge.Enrollment{Type: pledge.TypeEnrollment, Subject: person, JWK: k.Public(), ValidFrom: now.Add(-time.Hour).Format(time.RFC3339)}, registrar, k)
					code, body, err := post(client, s.url, enr)
					if err != nil || (code != 201 && code != 200) {
						continue // killed mid-request, or refused: not acknowledged
					}
					record(body)
					pl, _ := pledge.Sign(&pledge.Pledge{Type: pledge.TypePledge, ID: fmt.Sprintf("crash-%d", i), Signer: person,
						Template: pledge.TemplateRef{ID: "netralitas", SHA256: pledge.TextHash("netral")}, Text: "netral",
						Election: "Pemilu 2029", Place: "Mesuji", Date: now.Format("2006-01-02"), SignedAt: now.Format(time.RFC3339)}, k)
					if code, body, err := post(client, s.url, pl); err == nil && (code == 201 || code == 200) {
						record(body)
					}
				}
			}()
		}
		wait, _ := rand.Int(rand.Reader, big.NewInt(600))
		full := fill && round%3 == 1
		var filler string
		if full {
			time.Sleep(100 * time.Millisecond)
			filler = fillUp(t, base)
			// With the disk full, appends are refused with 507 (once the
			// log has looked at the disk again) and the server keeps
			// serving.
			time.Sleep(300 * time.Millisecond)
			k, _ := pledge.GenerateKey("", rand.Reader)
			probe, _ := pledge.Enroll(&pledge.Enrollment{Type: pledge.TypeEnrollment, Subject: pledge.Person{Scheme: "nip", ID: loadgen.NIP(1_000_000 + round),
				Name: "Probe", Agency: pledge.Agency{Code: "1810", Name: "Mesuji"}, Employment: pledge.PNS}, JWK: k.Public(), ValidFrom: time.Now().In(wib).Add(-time.Hour).Format(time.RFC3339)}, registrar, k)
			if code, body, err := post(client, s.url, probe); err == nil && code == http.StatusInsufficientStorage {
				refusedFull++
			} else {
				t.Logf("round %d: with the disk full, an enrollment got %d %s %v", round+1, code, body, err)
			}
		}
		time.Sleep(time.Duration(150+wait.Int64()) * time.Millisecond)
		s.kill()
		cancel()
		wg.Wait()
		if filler != "" {
			os.Remove(filler)
		}
		mu.Lock()
		t.Logf("round %d: killed after %d ms%s; %d entries acknowledged so far", round+1, 150+wait.Int64(), map[bool]string{true: " with the disk full", false: ""}[full], len(acked))
		total = len(acked)
		mu.Unlock()
	}
	if fill && rounds > 1 && refusedFull == 0 {
		t.Errorf("no disk-full round answered 507")
	}
	s := startServer(t, dir, storeFlags...)
	checkRecovered(t, client, s.url, policy, registrar, acked, checkpoints)
	auditArgs := []string{"audit", "--dir", dir, "-q"}
	if storeFlags != nil {
		// The log is in the database: audited through the server's tiles
		// (public reads: checkpoints and every hash tile).
		auditArgs = []string{"audit", "--server", s.url, "--policy", filepath.Join(dir, "policy.json"), "-q"}
		out, err := exec.Command(paktaBin(t), auditArgs...).CombinedOutput()
		s.stop(t)
		if err != nil {
			t.Fatalf("audit after %d crashes: %v\n%s", rounds, err, out)
		}
		t.Logf("%d rounds, %d acknowledged entries, none lost; %s", rounds, total, bytes.TrimSpace(out))
		return
	}
	s.stop(t)
	out, err := exec.Command(paktaBin(t), auditArgs...).CombinedOutput()
	if err != nil {
		t.Fatalf("audit after %d crashes: %v\n%s", rounds, err, out)
	}
	t.Logf("%d rounds, %d acknowledged entries, none lost; %s", rounds, total, bytes.TrimSpace(out))
}

// checkRecovered: every acknowledged entry is served with identical bytes,
// and the current checkpoint is consistent with every one seen before.
func checkRecovered(t *testing.T, c *http.Client, url string, policy *verify.Policy, reader *pledge.PrivateKey, acked map[uint64][]byte, checkpoints map[uint64][]byte) {
	t.Helper()
	// Bundles are restricted reads: the registrar reads them.
	api, err := paktaclient.New(url, paktaclient.Config{HTTP: c, Key: reader, Origin: policy.Origin})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(url + "/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	signed, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cp, _, err := verify.OpenCheckpoint(signed, policy.Origin, policy.Verifier())
	if err != nil {
		t.Fatal(err)
	}
	for i, entry := range acked {
		if i >= cp.Size {
			t.Fatalf("acknowledged entry %d is past the recovered tree of %d", i, cp.Size)
		}
		body, err := api.Bundle(context.Background(), i)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		b, err := verify.ParseBundle(body)
		if err != nil {
			t.Fatalf("entry %d: %v (%s)", i, err, body)
		}
		if !bytes.Equal(b.Entry, entry) {
			t.Fatalf("acknowledged entry %d changed after a crash", i)
		}
	}
	for size, root := range checkpoints {
		if size == 0 || size > cp.Size {
			continue
		}
		resp, err := c.Get(fmt.Sprintf("%s/v1/proof/consistency?from=%d&to=%d", url, size, cp.Size))
		if err != nil {
			t.Fatal(err)
		}
		var p struct{ Proof []string }
		json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		hashes := make([][]byte, len(p.Proof))
		for i, h := range p.Proof {
			hashes[i], _ = base64.StdEncoding.DecodeString(h)
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, size, cp.Size, hashes, root, cp.Root[:]); err != nil {
			t.Fatalf("checkpoint %d is not consistent with the recovered %d: %v", size, cp.Size, err)
		}
	}
}
