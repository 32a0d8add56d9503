// Package pgtest gives tests a real PostgreSQL server: the one named by
// $PAKTA_PG_URL, or else a throwaway cluster that it starts (initdb and
// pg_ctl, in a temporary directory, on a free loopback port) the first time
// a test asks, and stops when Main's tests are done.
//
// Without PostgreSQL's binaries a test is skipped with the reason, except
// under CI (CI set in the environment), where it fails: nothing is skipped
// in CI for lack of a database.
package pgtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
)

// EnvURL names the variable that points tests at a running server instead.
const EnvURL = "PAKTA_PG_URL"

var (
	mu      sync.Mutex
	started *cluster
	url     string
	failure error
)

type cluster struct {
	dir, data, pgCtl string
	asUser           string // run pg_ctl as this user (when we are root), or ""
}

// Main runs m's tests and stops the cluster this process started, if any.
// Use it as a package's TestMain: func TestMain(m *testing.M) { pgtest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// URL returns the URL of a server for tests, starting one if needed. Use a
// schema of your own on it (Schema).
func URL(tb testing.TB) string {
	tb.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	mu.Lock()
	defer mu.Unlock()
	if url == "" && failure == nil {
		url, failure = start()
	}
	if failure != nil {
		if errors.Is(failure, errNoBinaries) && os.Getenv("CI") == "" {
			tb.Skipf("pgtest: %v (set %s, or install PostgreSQL; under CI this fails)", failure, EnvURL)
		}
		tb.Fatalf("pgtest: %v", failure)
	}
	return url
}

// Schema returns a new schema name, unique on the server, for one test's
// log.
func Schema(tb testing.TB) string {
	var b [8]byte
	rand.Read(b[:])
	return "t_" + hex.EncodeToString(b[:])
}

// Stop stops the cluster this process started, if any, and removes its
// files.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if started == nil {
		return
	}
	started.run(started.pgCtl, "-D", started.data, "-m", "immediate", "-w", "stop")
	os.RemoveAll(started.dir)
	started, url = nil, ""
}

var errNoBinaries = errors.New("no PostgreSQL binaries (initdb, pg_ctl)")

// bin finds a PostgreSQL program on PATH or in Debian's directories.
func bin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs))) // the newest version first
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errNoBinaries
}

func start() (string, error) {
	initdb, err := bin("initdb")
	if err != nil {
		return "", err
	}
	pgCtl, err := bin("pg_ctl")
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "pakta-pgtest-")
	if err != nil {
		return "", err
	}
	c := &cluster{dir: dir, data: filepath.Join(dir, "data"), pgCtl: pgCtl}
	// PostgreSQL refuses to run as root: then the cluster belongs to the
	// postgres user.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("running as root and no postgres user to run the server: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
		c.asUser = "postgres"
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	if out, err := c.run(initdb, "-D", c.data, "-U", "pakta", "-A", "trust", "--no-sync", "-E", "UTF8"); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("initdb: %w\n%s", err, out)
	}
	// fsync stays on: the tests check durability. Small buffers: many test
	// binaries may each run a cluster on a small machine.
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c shared_buffers=16MB -c max_connections=200", port, dir)
	if out, err := c.run(pgCtl, "-D", c.data, "-o", opts, "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "start"); err != nil {
		logText, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		os.RemoveAll(dir)
		return "", fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, logText)
	}
	started = c
	return fmt.Sprintf("postgres://pakta@127.0.0.1:%d/postgres?sslmode=disable", port), nil
}

// run runs a PostgreSQL program, as c.asUser when set.
func (c *cluster) run(prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(prog, args...)
	if c.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", c.asUser, "--", prog}, args...)...)
	}
	// Its own process group: a ^C to the tests does not reach the server
	// before Stop does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Dir = c.dir
	return cmd.CombinedOutput()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
