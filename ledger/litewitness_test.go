package ledger

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/torchwood"
	"golang.org/x/crypto/ssh"
	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/ledger/internal/logtest"
	"github.com/pakta-id/pakta/verify"
)

// torchwoodVersion is the torchwood release whose litewitness the
// interoperability test builds (later ones need a newer Go).
const torchwoodVersion = "v0.6.1"

// litewitness is torchwood's witness, built from the module proxy and run
// as its README says: a dedicated ssh-agent holds its key, witnessctl adds
// the log, and it listens on loopback.
type litewitness struct {
	url    string
	vkey   string
	signer *torchwood.CosignatureSigner // the same key, for torchwood's verifier
}

func startLitewitness(t *testing.T, name, logVKey string) *litewitness {
	t.Helper()
	if testing.Short() {
		t.Skip("builds torchwood's litewitness from the module proxy")
	}
	for _, tool := range []string{"go", "ssh-agent", "ssh-add"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("litewitness needs %s: %v", tool, err)
		}
	}
	bin := t.TempDir()
	build := exec.Command("go", "install",
		"filippo.io/torchwood/cmd/litewitness@"+torchwoodVersion, "filippo.io/torchwood/cmd/witnessctl@"+torchwoodVersion)
	build.Dir = bin // outside this module: pkg@version builds torchwood's own go.mod
	build.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building litewitness %s: %v\n%s", torchwoodVersion, err, out)
	}

	// The witness key, written as OpenSSH writes it, for ssh-add.
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	// A socket path must stay short (108 bytes): not under t.TempDir().
	sockDir, err := os.MkdirTemp("", "lw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	keyFile, sock := filepath.Join(sockDir, "key"), filepath.Join(sockDir, "s")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	waitFor(t, func() bool { _, err := os.Stat(sock); return err == nil })
	add := exec.Command("ssh-add", keyFile)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}

	db := filepath.Join(t.TempDir(), "litewitness.db")
	origin, _, _ := strings.Cut(logVKey, "+")
	for _, args := range [][]string{
		{"add-log", "-db", db, "-origin", origin},
		{"add-key", "-db", db, "-origin", origin, "-key", logVKey},
	} {
		if out, err := exec.Command(filepath.Join(bin, "witnessctl"), args...).CombinedOutput(); err != nil {
			t.Fatalf("witnessctl %s: %v\n%s", args[0], err, out)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	fp := sha256.Sum256(pub)
	lw := exec.Command(filepath.Join(bin, "litewitness"), "-db", db, "-name", name,
		"-key", hex.EncodeToString(fp[:]), "-ssh-agent", sock, "-listen", addr)
	var logs strings.Builder
	lw.Stderr = &logs
	if err := lw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		lw.Process.Signal(os.Interrupt)
		lw.Wait()
		if t.Failed() {
			t.Logf("litewitness:\n%s", logs.String())
		}
	})
	waitFor(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	s, err := torchwood.NewCosignatureSigner(name, priv)
	if err != nil {
		t.Fatal(err)
	}
	return &litewitness{url: "http://" + addr, vkey: s.Verifier().String(), signer: s}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLitewitnessInterop: a log with two witnesses, torchwood's litewitness
// and pakta's own, produces bundles whose report names both with their
// times; torchwood's cosignature verifier agrees with pakta's; verify fails
// when the quorum is not met; and litewitness refuses a forked history.
func TestLitewitnessInterop(t *testing.T) {
	f := logtest.New(t, testOrigin, seedPrefix)
	lw := startLitewitness(t, "litewitness.test/w", f.VKey)
	pw := startWitness(t, "pakta.test/witness", f.VKey)
	witnesses := []*verify.Witness{
		{Name: "Saksi litewitness", Key: lw.vkey, URL: lw.url},
		pw.policy(),
	}
	e := newEnvOf(t, f, func(c *Config) {
		c.Policy = logtest.WithWitnesses(t, c.Policy, 2, witnesses...)
		c.Witnesses = WitnessConfig{Retry: 50 * time.Millisecond}
	})
	i := e.pledgeOf(1)
	waitWitnessed(t, e.log, i+1)
	j := e.pledgeOf(2) // and again, with a consistency proof
	waitWitnessed(t, e.log, j+1)

	bundle := e.bundle(i)
	r, err := verify.VerifyBytes(bundle, e.cfg.Policy, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Passed() {
		t.Fatal(r.Text())
	}
	c := r.Checks[len(r.Checks)-1]
	if c.ID != verify.CheckWitness || !strings.Contains(c.Reason, `witness "Saksi litewitness" had seen this entry by`) ||
		!strings.Contains(c.Reason, `witness "Saksi pakta.test/witness" had seen this entry by 27 November 2023 at 01:14:00 UTC (09:14 WITA)`) {
		t.Fatalf("[%s] %s", c.ID, c.Reason)
	}
	t.Logf("[%s] %s", c.ID, c.Reason)

	// torchwood's own code checks the same cosignatures on the bundle's
	// checkpoint, and reads the same times.
	b, err := verify.ParseBundle(bundle)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := verify.ParseProof([]byte(b.Proof))
	if err != nil {
		t.Fatal(err)
	}
	logV, _ := note.NewVerifier(f.VKey)
	n, err := note.Open(pr.Checkpoint, note.VerifierList(logV, lw.signer.Verifier()))
	if err != nil {
		t.Fatalf("torchwood's verifier: %v", err)
	}
	var lwTime int64
	for _, s := range n.Sigs {
		if s.Name == "litewitness.test/w" {
			if lwTime, err = torchwood.CosignatureTimestamp(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	if lwTime == 0 || r.Entry.Witnesses[0].Time != time.Unix(lwTime, 0).UTC().Format(time.RFC3339) {
		t.Fatalf("litewitness's time: torchwood reads %d, pakta %+v", lwTime, r.Entry.Witnesses)
	}
	if _, err := torchwood.ParseCheckpoint(n.Text); err != nil {
		t.Fatalf("torchwood does not read the checkpoint: %v", err)
	}

	// A quorum the checkpoint does not meet: verify fails.
	_, third, _ := verify.GenerateWitnessKey("third.test/w", nil)
	strict := logtest.WithWitnesses(t, f.Policy, 3, append(witnesses, &verify.Witness{Name: "Saksi ketiga", Key: third})...)
	if r, _ := verify.VerifyBytes(bundle, strict, nil); r.Passed() || r.Failed().ID != verify.CheckWitness {
		t.Fatalf("quorum of 3 with 2 cosignatures:\n%s", r.Text())
	}

	// The log forks: another history under the same key, shown to the
	// same witnesses. litewitness refuses it, as pakta's witness does.
	e.log.Close()
	e.log = nil
	fork := newEnvOf(t, f, func(c *Config) {
		c.Policy = logtest.WithWitnesses(t, c.Policy, 2, witnesses...)
		c.Witnesses = WitnessConfig{Retry: 50 * time.Millisecond}
	})
	for k := 20; k < 24; k++ {
		fork.pledgeOf(k)
	}
	waitFor(t, func() bool {
		st := fork.log.WitnessStats()
		return st[0].Refused > 0 && st[1].Refused > 0
	})
	if _, size := fork.log.Witnessed(); size != 0 {
		t.Fatalf("the fork was witnessed at size %d", size)
	}
	if _, err := fork.log.Bundle(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
}
