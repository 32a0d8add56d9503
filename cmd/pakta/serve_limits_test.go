package main

import (
	"errors"
	"github.com/pakta-id/pakta/ledger"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tmpfs mounts a file system of mib MiB at a new directory, unmounted at
// the end of the test; without root or mount(8) the test is skipped.
func tmpfs(t *testing.T, mib int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a full disk needs a small tmpfs, and mounting one needs root")
	}
	dir := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(dir, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+strconv.Itoa(mib)+"m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s): a full disk cannot be tested here", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fillUp writes a file in dir until the disk is full.
func fillUp(t *testing.T, dir string) string {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return f.Name()
		}
	}
}

// serveExit runs pakta serve with args and returns its exit code, stderr
// and how long it ran; sigterm > 0 sends SIGTERM after that long.
func serveExit(t *testing.T, sigterm time.Duration, args ...string) (int, string, time.Duration) {
	t.Helper()
	cmd := exec.Command(paktaBin(t), append([]string{"serve", "--listen", freePort(t)}, args...)...)
	stderr := new(syncBuffer)
	cmd.Stderr = stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if sigterm > 0 {
		select {
		case err := <-done:
			t.Fatalf("serve exited before the signal: %v\n%s", err, stderr)
		case <-time.After(sigterm):
		}
		cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case err := <-done:
		var ee *exec.ExitError
		code := 0
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, stderr.String(), time.Since(start)
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("serve did not exit within 10 s\n%s", stderr)
	}
	return 0, "", 0
}

// TestServeStopsOnSignalWhileOpening: a SIGTERM while the log is still
// being opened ends serve at once (exit 1, saying so). The open is held
// up here by a log key that is a FIFO nobody writes: reading it blocks, as
// a stalled disk or a long recovery would.
func TestServeStopsOnSignalWhileOpening(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	mustPakta(t, "init", "--dir", dir, "--origin", "pakta.test/fifo")
	key := filepath.Join(dir, ledger.LogKeyFile)
	os.Remove(key)
	if err := syscall.Mkfifo(key, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	code, stderr, took := serveExit(t, 300*time.Millisecond, "--dir", dir)
	if code != exitFailure || !strings.Contains(stderr, "stopped by a signal while opening the log") || took > 5*time.Second {
		t.Fatalf("SIGTERM while opening: exit %d after %s\n%s", code, took, stderr)
	}
}

// TestServeOnFullOrReadOnlyDisk: serve on a full disk or a read-only file
// system exits 1 at once with an error naming the problem (it used to spin
// in Pebble, never listening); on a disk below --disk-reserve it serves
// reads and /healthz says appends are refused.
func TestServeOnFullOrReadOnlyDisk(t *testing.T) {
	mnt := tmpfs(t, 96)
	dir := filepath.Join(mnt, "data")
	mustPakta(t, "init", "--dir", dir, "--origin", "pakta.test/disk")

	// A reserve larger than the whole disk: appends refused, reads served.
	s := startServer(t, dir, "--disk-reserve", "200")
	resp, err := http.Get(s.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"status":"degraded"`) {
		t.Fatalf("healthz below the reserve: %d %s", resp.StatusCode, body)
	}
	s.stop(t)

	filler := fillUp(t, mnt)
	code, stderr, took := serveExit(t, 0, "--dir", dir)
	if code != exitFailure || !strings.Contains(stderr, "disk is full") || took > 5*time.Second {
		t.Fatalf("serve on a full disk: exit %d after %s\n%s", code, took, stderr)
	}
	t.Logf("full disk: exit %d after %s: %s", code, took.Round(time.Millisecond), strings.TrimSpace(stderr))
	os.Remove(filler)

	if out, err := exec.Command("mount", "-o", "remount,ro", mnt).CombinedOutput(); err != nil {
		t.Skipf("remount read-only: %v: %s", err, out)
	}
	defer exec.Command("mount", "-o", "remount,rw", mnt).Run()
	code, stderr, took = serveExit(t, 0, "--dir", dir)
	if code != exitFailure || !strings.Contains(stderr, "read-only file system") || took > 5*time.Second {
		t.Fatalf("serve on a read-only file system: exit %d after %s\n%s", code, took, stderr)
	}
	t.Logf("read-only: exit %d after %s: %s", code, took.Round(time.Millisecond), strings.TrimSpace(stderr))
}
