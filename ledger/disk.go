package ledger

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pakta-id/pakta/ledger/store"
)

// DefaultDiskReserve is the free disk space below which appends are
// refused when Config.DiskReserve is 0. It is room for what the log writes
// on its own once appends stop: a memtable flush (DefaultMemTableSize), a
// compaction's new tables before the old ones go, a batch already
// accepted, checkpoints.
const DefaultDiskReserve = 256 << 20

// minOpenSpace is the free space Open needs whatever the reserve: Pebble
// writes a WAL, a manifest and an OPTIONS file while opening, and on a disk
// with no room for them it retried without end (at 115% CPU, never
// returning). With less, Open fails at once, naming the disk.
const minOpenSpace = 16 << 20

// diskRecheck is how stale the free space Append looks at may be; the
// sequencer measures afresh before every commit.
const diskRecheck = 250 * time.Millisecond

// ErrDiskFull: free disk space is below Config.DiskReserve. Append returns
// it (wrapped, naming the figures) and the tree is unchanged: the
// sequencer checks before committing a batch, so that a full disk never
// fails a write half way (Pebble ends the process when its WAL cannot be
// written). Reads are still served. HTTP 507.
var ErrDiskFull = errors.New("ledger: not enough free disk space")

// DiskStatus is the free space under the log and the reserve.
type DiskStatus struct {
	Free    uint64 // bytes available to the log's process
	Reserve uint64 // appends are refused below it; 0 when checks are off
	Low     bool   // Free < Reserve: appends are refused
	// Err is why the free space could not be measured (then Low is
	// false: a platform that cannot tell does not refuse appends).
	Err error
	// Refused counts submissions refused for disk space since Open.
	Refused int64
}

// disk watches the free space of the log's file system.
type disk struct {
	dir     string
	reserve uint64 // 0: no checks
	free    atomic.Uint64
	at      atomic.Int64 // UnixNano of the last measure
	err     atomic.Pointer[error]
	refused atomic.Int64
}

func newDisk(dir string, reserve int64) *disk {
	d := &disk{dir: dir}
	switch {
	case reserve == 0:
		d.reserve = DefaultDiskReserve
	case reserve > 0:
		d.reserve = uint64(reserve)
	}
	return d
}

// measure reads the free space now.
func (d *disk) measure() (uint64, error) {
	free, err := freeSpace(d.dir)
	d.at.Store(time.Now().UnixNano())
	if err != nil {
		d.err.Store(&err)
		return 0, err
	}
	d.err.Store(nil)
	d.free.Store(free)
	return free, nil
}

// room returns ErrDiskFull (wrapped) if writing need more bytes would take
// the free space below the reserve. fresh measures now; otherwise a
// measure up to diskRecheck old is used.
func (d *disk) room(need uint64, fresh bool) error {
	if d == nil || d.reserve == 0 { // nil: a log opened on a store, not a directory
		return nil
	}
	free := d.free.Load()
	if fresh || time.Since(time.Unix(0, d.at.Load())) > diskRecheck {
		var err error
		if free, err = d.measure(); err != nil {
			return nil // cannot tell: do not refuse (DiskStatus.Err says so)
		}
	}
	if free < d.reserve+need {
		d.refused.Add(1)
		return fmt.Errorf("%w: %d MiB free on the disk of %s, the reserve is %d MiB (free space, or lower the reserve)", ErrDiskFull, free>>20, d.dir, d.reserve>>20)
	}
	return nil
}

func (d *disk) status() DiskStatus {
	if d == nil {
		return DiskStatus{}
	}
	if time.Since(time.Unix(0, d.at.Load())) > diskRecheck {
		d.measure()
	}
	s := DiskStatus{Free: d.free.Load(), Reserve: d.reserve, Refused: d.refused.Load()}
	if errp := d.err.Load(); errp != nil {
		s.Err = *errp
		return s
	}
	s.Low = d.reserve > 0 && s.Free < d.reserve
	return s
}

// Disk reports the free disk space under the log, measured at most a
// quarter of a second ago, and whether appends are refused for it.
func (l *Log) Disk() DiskStatus { return l.disk.status() }

// checkDisk fails fast when a log cannot be opened for writing in dir: a
// read-only file system or directory, or a disk with less than
// minOpenSpace free (or the reserve, if smaller). It writes and removes a
// small probe file in the nearest existing directory.
func checkDisk(dir string, reserve int64) error {
	at := dir
	for {
		if _, err := os.Stat(at); err == nil {
			break
		}
		parent := filepath.Dir(at)
		if parent == at {
			break
		}
		at = parent
	}
	f, err := os.CreateTemp(at, ".pakta-probe-*")
	if err == nil {
		_, err = f.Write([]byte{0})
		if serr := f.Sync(); err == nil {
			err = serr
		}
		f.Close()
		os.Remove(f.Name())
	}
	switch {
	case errors.Is(err, syscall.EROFS):
		return fmt.Errorf("ledger: opening %s: %s is on a read-only file system: %w", dir, at, err)
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("ledger: opening %s: the disk is full: %w", dir, err)
	case err != nil:
		return fmt.Errorf("ledger: opening %s: cannot write in %s: %w", dir, at, err)
	}
	if reserve < 0 {
		return nil
	}
	need := uint64(minOpenSpace)
	if reserve > 0 {
		need = min(need, uint64(reserve))
	}
	free, err := freeSpace(at)
	if err != nil {
		return nil // cannot tell (see freeSpace): the probe write succeeded
	}
	if free < need {
		return fmt.Errorf("%w: opening %s needs %d MiB, the disk of %s has %d KiB free", ErrDiskFull, dir, need>>20, at, free>>10)
	}
	return nil
}

// batchBytes estimates what committing b writes: its entries and rows,
// twice (the WAL, then the memtable's flush), and its tiles.
func batchBytes(b *store.Batch) uint64 {
	var n int
	for _, e := range b.Entries {
		n += len(e)
	}
	for _, r := range b.Rows {
		n += len(r.Key) + len(r.Value)
	}
	n *= 2
	for _, t := range b.Tiles {
		n += len(t.Hashes)
	}
	return uint64(n)
}
