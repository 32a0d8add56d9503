package main

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// TestAuditNamesTampering: a byte flipped in a closed log's Pebble database
// (an entry's value, a hash tile) makes `pakta audit` exit 1 naming the entry
// and, for a tile, its path. (The key layout is pebblestore's: e/<index>,
// t/<level>/<index>.)
func TestAuditNamesTampering(t *testing.T) {
	dir := t.TempDir()
	enroll, pledgeJWS := setup(t, dir)
	logDir := filepath.Join(dir, "log")
	mustPakta(t, "submit", "--dir", logDir, "--out", dir, enroll, pledgeJWS)
	mustPakta(t, "audit", "--dir", logDir, "-q")

	be := func(prefix string, parts ...[]byte) []byte {
		k := []byte(prefix)
		for _, p := range parts {
			k = append(k, p...)
		}
		return k
	}
	u64 := func(i uint64) []byte { return binary.BigEndian.AppendUint64(nil, i) }
	for _, tt := range []struct {
		name string
		key  []byte
		pos  int
		want string
	}{
		{"entry 2", be("e/", u64(2)), 40, "entry 2"},
		{"tile 0/000", be("t/", []byte{0, '/'}, u64(0)), 32 + 5, "tile/0/000.p/3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cp := filepath.Join(t.TempDir(), "log")
			copyTree(t, logDir, cp)
			db, err := pebble.Open(filepath.Join(cp, "db"), &pebble.Options{})
			if err != nil {
				t.Fatal(err)
			}
			v, closer, err := db.Get(tt.key)
			if err != nil {
				t.Fatal(err)
			}
			v = bytes.Clone(v)
			closer.Close()
			v[tt.pos] ^= 0x20
			if err := db.Set(tt.key, v, pebble.Sync); err != nil {
				t.Fatal(err)
			}
			db.Close()
			code, _, stderr := pakta(t, "audit", "--dir", cp, "-q")
			if code != exitFailure || !strings.Contains(stderr, tt.want) {
				t.Fatalf("audit of a tampered log: exit %d, stderr %q; want exit 1 naming %q", code, stderr, tt.want)
			}
			t.Log(strings.TrimSpace(stderr))
		})
	}
}

// copyTree copies a closed log directory.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		target := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		return os.WriteFile(target, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}
