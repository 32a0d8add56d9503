//go:build linux

package httpapi

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/pakta-id/pakta/ledger"
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

// TestDiskBelowReserveIs507: with the log's disk below the reserve, a
// submission gets 507 with a JSON error naming the figures, /healthz says
// "degraded" and why (still 200: reads are served), reads go on, and the
// metric shows it.
func TestDiskBelowReserveIs507(t *testing.T) {
	mnt := tmpfs(t, 96)
	e := newEnv(t, nil, Options{})
	emp := e.enroll(30)
	cfg := e.cfg
	cfg.DiskReserve = 40 << 20
	l, err := ledger.Open(context.Background(), filepath.Join(mnt, "db"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	h := New(l, Options{Logger: testLogger(t)})
	srv := httptest.NewServer(h)
	defer srv.Close()
	e.srv = srv // e.submit and e.get now reach the log on the tmpfs
	if r := e.submit(e.enrollment(emp.p, emp.key)); r.status != 201 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	// Leave 20 MiB free: below the 40 MiB reserve.
	f, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(mnt, &st); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(f, zeros{}, int64(st.Bavail)*st.Bsize-20<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	waitFor(t, "the log to see the disk low", func() bool { return l.Disk().Low })

	r := e.submit(e.sign(e.pledgeStatement(emp.p, "Pemilu 2024"), emp.key))
	if eb := errorOf(t, r, 507); !strings.Contains(eb.Error, "reserve") || eb.Detail["disk_reserve_bytes"] != float64(40<<20) {
		t.Fatalf("%s", r.body)
	}
	if r := e.get("/healthz"); r.status != 200 || !contains(string(r.body), `"status":"degraded"`) || !contains(string(r.body), "refused with 507") {
		t.Fatalf("healthz below the reserve: %d %s", r.status, r.body)
	}
	// Public reads are served; restricted reads are not, since they could
	// not be recorded (DESIGN.md, "Private reads").
	for _, path := range []string{"/checkpoint", "/tile/0/000.p/1", "/v1/proof/consistency?from=1&to=1"} {
		if r := e.get(path); r.status != 200 {
			t.Fatalf("a public read below the reserve: %s: %d %s", path, r.status, r.body)
		}
	}
	if eb := errorOf(t, e.get("/v1/entries/0"), 507); !strings.Contains(eb.Error, "recorded") {
		t.Fatalf("a restricted read below the reserve: %+v", eb)
	}
	m := httptest.NewRecorder()
	h.MetricsHandler().ServeHTTP(m, httptest.NewRequest("GET", "/metrics", nil))
	if !contains(m.Body.String(), "pakta_log_disk_low 1") || !contains(m.Body.String(), `pakta_http_appends_total{outcome="disk_full"} 1`) {
		t.Fatalf("metrics:\n%s", m.Body)
	}
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}
