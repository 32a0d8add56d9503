package ledger

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

func TestInitDirThenOpenDir(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "mamuju")
	info, err := InitDir(ctx, dir, "pakta.test/mamuju", nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Origin != "pakta.test/mamuju" || !strings.HasPrefix(info.LogKey, "pakta.test/mamuju+") || info.Policy.Origin != info.Origin {
		t.Fatalf("InitDir = %+v", info)
	}
	for name, perm := range map[string]os.FileMode{LogKeyFile: 0o600, RegistrarFile: 0o600, LogVKeyFile: 0o644, PolicyFile: 0o644} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != perm {
			t.Errorf("%s has mode %#o, want %#o", name, st.Mode().Perm(), perm)
		}
	}
	vkey, _ := os.ReadFile(filepath.Join(dir, LogVKeyFile))
	if string(vkey) != info.LogKey+"\n" {
		t.Errorf("log.vkey = %q, want %q", vkey, info.LogKey)
	}
	reg, err := pledge.ReadPrivateKeyFile(filepath.Join(dir, RegistrarFile))
	if err != nil || reg.KeyID() != info.RegistrarKID {
		t.Fatalf("registrar.jwk: %v, kid %v, want %s", err, reg, info.RegistrarKID)
	}
	if _, ok := info.Policy.Registrar(reg.KeyID()); !ok {
		t.Error("the policy does not trust the registrar InitDir wrote")
	}

	l, err := OpenDir(ctx, dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	cp, size := l.Checkpoint()
	if size != 0 || !strings.HasPrefix(string(cp), "pakta.test/mamuju\n0\n") {
		t.Errorf("a new log's checkpoint: size %d, %q", size, cp)
	}
	if _, _, err := verify.OpenCheckpoint(cp, info.Origin, l.Policy().Verifier()); err != nil {
		t.Errorf("the checkpoint does not verify with policy.json's key: %v", err)
	}

	// A second opener is refused while the first holds the log.
	if _, err := OpenDir(ctx, dir, Config{}); !errors.Is(err, ErrLocked) {
		t.Errorf("OpenDir of a held log: %v, want ErrLocked", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// InitDir never overwrites: every file is checked before anything is written.
	_, err = InitDir(ctx, dir, "pakta.test/other", nil)
	var de *DirError
	if !errors.As(err, &de) || !errors.Is(err, fs.ErrExist) || de.Path != filepath.Join(dir, LogKeyFile) {
		t.Errorf("InitDir over a log: %v, want a *DirError for log.key wrapping fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, LogVKeyFile)); string(got) != info.LogKey+"\n" {
		t.Error("a refused InitDir changed log.vkey")
	}
}

func TestInitDirRefusesBadOrigin(t *testing.T) {
	for _, origin := range []string{"", "a b", "a+b", "a\nb"} {
		dir := t.TempDir()
		_, err := InitDir(context.Background(), dir, origin, nil)
		var de *DirError
		if !errors.As(err, &de) {
			t.Errorf("origin %q: %v, want a *DirError", origin, err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("origin %q: InitDir left %d files", origin, len(entries))
		}
	}
}

func TestOpenDirRefusals(t *testing.T) {
	ctx := context.Background()
	made := filepath.Join(t.TempDir(), "log")
	if _, err := InitDir(ctx, made, "pakta.test/log", nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		change   func(dir string)
		file     string
		notExist bool
		want     string
	}{
		{"empty directory", func(dir string) {
			for _, n := range []string{LogKeyFile, LogVKeyFile, RegistrarFile, PolicyFile, DBDir} {
				os.RemoveAll(filepath.Join(dir, n))
			}
		}, LogKeyFile, true, "no such file"},
		{"no db", func(dir string) { os.RemoveAll(filepath.Join(dir, DBDir)) }, DBDir, true, "no such file"},
		{"no policy", func(dir string) { os.Remove(filepath.Join(dir, PolicyFile)) }, PolicyFile, true, "no such file"},
		{"key readable by others", func(dir string) { os.Chmod(filepath.Join(dir, LogKeyFile), 0o644) }, LogKeyFile, false, "chmod 600"},
		{"not a note key", func(dir string) { os.WriteFile(filepath.Join(dir, LogKeyFile), []byte("hello\n"), 0o600) }, LogKeyFile, false, "not a note signing key"},
		{"policy with a typo", func(dir string) {
			p := filepath.Join(dir, PolicyFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, []byte(strings.Replace(string(b), `"origin"`, `"orgin"`, 1)), 0o644)
		}, PolicyFile, false, "orgin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "log")
			os.MkdirAll(dir, 0o755)
			copyDir(t, made, dir)
			os.Chmod(filepath.Join(dir, LogKeyFile), 0o600) // copyDir writes 0644
			tt.change(dir)
			l, err := OpenDir(ctx, dir, Config{})
			if err == nil {
				l.Close()
				t.Fatal("OpenDir succeeded")
			}
			var de *DirError
			if !errors.As(err, &de) || de.Path != filepath.Join(dir, tt.file) || errors.Is(err, fs.ErrNotExist) != tt.notExist || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("OpenDir: %v; want a *DirError for %s (not exist: %v) saying %q", err, tt.file, tt.notExist, tt.want)
			}
			if strings.Count(err.Error(), dir) != 1 {
				t.Errorf("the error names the path other than once: %v", err)
			}
		})
	}
}

// What Config sets is used as given: the directory fills in only the rest.
func TestOpenDirKeepsConfig(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := InitDir(ctx, dir, "pakta.test/log", nil); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	info, err := InitDir(ctx, other, "pakta.test/other", nil)
	if err != nil {
		t.Fatal(err)
	}
	// The other log's policy does not match this log's key: Open says so.
	if _, err := OpenDir(ctx, dir, Config{Policy: info.Policy}); err == nil || !strings.Contains(err.Error(), "pakta.test/other") {
		t.Fatalf("OpenDir with another log's policy: %v", err)
	}
}
