package ledger

import (
	"context"
	"errors"
	"github.com/pakta-id/pakta/ledger/internal/logtest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tmpfs mounts a file system of size MiB at a new directory, unmounted at
// the end of the test. It needs root and mount(8); without them the test
// is skipped, saying why.
func tmpfs(t *testing.T, mib int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a full disk needs a small tmpfs, and mounting one needs root")
	}
	dir := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(dir, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+itoa(mib)+"m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s): a full disk cannot be tested here", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func itoa(n int) string { return strconv.Itoa(n) }

// fillDisk writes a file in dir until the disk has about leave bytes free (0:
// until it is full).
func fillDisk(t *testing.T, dir string, leave uint64) string {
	t.Helper()
	free, err := freeSpace(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(dir, "filler-")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for written := uint64(0); leave == 0 || written+leave < free; {
		n := uint64(len(chunk))
		if leave > 0 {
			n = min(n, free-leave-written)
		}
		if _, err := f.Write(chunk[:n]); err != nil {
			if leave == 0 {
				break // full
			}
			t.Fatal(err)
		}
		written += n
	}
	return f.Name()
}

// TestDiskReserve: below the reserve, appends are refused with ErrDiskFull
// and the tree is unchanged, reads go on, and appends resume once space is
// freed; a batch that passed Append's check is refused by the sequencer's
// own check before anything is written.
func TestDiskReserve(t *testing.T) {
	pebbleOnly(t)
	mnt := tmpfs(t, 96)
	e := newEnv(t, nil)
	e.log.Close()
	e.dir = filepath.Join(mnt, "db")
	e.cfg.DiskReserve = 32 << 20
	e.open()
	ctx := context.Background()
	alice := person(1)
	key, _ := e.enroll(alice)
	e.publish(logtest.Election)

	filler := fillDisk(t, mnt, 16<<20)
	time.Sleep(diskRecheck)
	_, before := e.log.Checkpoint()
	_, err := e.log.Append(ctx, e.sign(e.pledgeStatement(alice, "Pemilu 2024"), key))
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "reserve is 32 MiB") {
		t.Fatalf("append below the reserve: %v", err)
	}
	if s := e.log.Disk(); !s.Low || s.Reserve != 32<<20 || s.Refused == 0 {
		t.Fatalf("Disk() = %+v", s)
	}
	if _, size := e.log.Checkpoint(); size != before {
		t.Fatal("a refused append changed the tree")
	}
	if _, err := e.log.Bundle(ctx, 0); err != nil {
		t.Fatalf("a read below the reserve: %v", err)
	}

	// The disk fills between Append's check and the commit: simulated by
	// an Append that read a stale, roomy figure. The sequencer measures
	// again and refuses the batch; the process lives on.
	e.log.disk.free.Store(1 << 40)
	e.log.disk.at.Store(time.Now().Add(time.Hour).UnixNano())
	_, err = e.log.Append(ctx, e.sign(e.pledgeStatement(alice, "Pemilu 2024"), key))
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("a batch below the reserve: %v", err)
	}
	if _, size := e.log.Checkpoint(); size != before {
		t.Fatal("a refused batch changed the tree")
	}

	os.Remove(filler)
	e.log.disk.at.Store(0)
	res, err := e.log.Append(ctx, e.sign(e.pledgeStatement(alice, "Pemilu 2024"), key))
	if err != nil || res.Index != before {
		t.Fatalf("append after space was freed: %+v, %v", res, err)
	}
	if s := e.log.Disk(); s.Low {
		t.Fatalf("Disk() after space was freed = %+v", s)
	}
}

// TestOpenFailsFastOnFullOrReadOnlyDisk: Open on a full disk or a read-only
// file system returns at once with an error saying so, instead of leaving
// Pebble retrying.
func TestOpenFailsFastOnFullOrReadOnlyDisk(t *testing.T) {
	mnt := tmpfs(t, 32)
	e := newEnv(t, nil)
	e.log.Close()
	e.log = nil
	e.dir = filepath.Join(mnt, "db")
	e.open()
	e.log.Close()
	e.log = nil

	filler := fillDisk(t, mnt, 0)
	start := time.Now()
	_, err := Open(context.Background(), e.dir, e.cfg)
	if err == nil || !(errors.Is(err, ErrDiskFull) || strings.Contains(err.Error(), "disk is full")) {
		t.Fatalf("Open on a full disk: %v", err)
	}
	t.Logf("full disk: %v (after %s)", err, time.Since(start))
	os.Remove(filler)

	if out, err := exec.Command("mount", "-o", "remount,ro", mnt).CombinedOutput(); err != nil {
		t.Skipf("remount read-only: %v: %s", err, out)
	}
	defer exec.Command("mount", "-o", "remount,rw", mnt).Run()
	_, err = Open(context.Background(), e.dir, e.cfg)
	if err == nil || !strings.Contains(err.Error(), "read-only file system") {
		t.Fatalf("Open on a read-only file system: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("Open took %s to fail", time.Since(start))
	}
}
