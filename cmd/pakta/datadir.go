package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/verify"
)

// The layout of a data directory is the library's (ledger.InitDir makes it,
// ledger.OpenDir reads it); the CLI only names the default.
const (
	defaultDir    = "pakta-data"
	defaultPolicy = defaultDir + "/" + ledger.PolicyFile
)

// dataDir is the layout of a data directory D.
type dataDir string

func (d dataDir) logKey() string    { return filepath.Join(string(d), ledger.LogKeyFile) }
func (d dataDir) registrar() string { return filepath.Join(string(d), ledger.RegistrarFile) }
func (d dataDir) policy() string    { return filepath.Join(string(d), ledger.PolicyFile) }
func (d dataDir) db() string        { return filepath.Join(string(d), ledger.DBDir) }

// readPolicy reads and checks a trust policy file. A missing or malformed
// policy is bad input: exit 2.
func readPolicy(path string) (*verify.Policy, error) {
	b, err := readFileLimited(path, verify.MaxPolicySize)
	if err != nil {
		return nil, usagef("reading the trust policy: %w", err)
	}
	p, err := verify.ParsePolicy(b)
	if err != nil {
		return nil, usagef("trust policy %s: %w", path, err)
	}
	return p, nil
}

// readFileLimited reads a file, refusing one over max bytes; "-" is stdin.
func readFileLimited(path string, max int64) ([]byte, error) {
	var r io.Reader
	if path == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return b, fmt.Errorf("%s is over the %d-byte limit: %w", path, max, errTooLarge)
	}
	return b, nil
}

// errTooLarge is wrapped by readFileLimited for a file over its limit; the
// first limit+1 bytes are returned with it.
var errTooLarge = errors.New("too large")

func isTooLarge(err error) bool { return errors.Is(err, errTooLarge) }

// openLog opens the log in d for reading and appending. It refuses a
// directory that pakta init did not make, and says so clearly when a running
// server holds the log.
func (d dataDir) openLog(ctx context.Context) (*ledger.Log, error) {
	return d.openLogConfig(ctx, ledger.Config{})
}

// openLogConfig is openLog with cfg's settings; the checkpoint key and the
// policy come from d.
func (d dataDir) openLogConfig(ctx context.Context, cfg ledger.Config) (*ledger.Log, error) {
	l, err := ledger.OpenDir(ctx, string(d), cfg)
	if errors.Is(err, ledger.ErrLocked) {
		return nil, failf("%w; use --server with the server's URL instead of --dir", err)
	} else if err != nil {
		return nil, dirFailure(d, err)
	}
	return l, nil
}

// dirFailure words an error of ledger.InitDir or OpenDir: a directory that
// cannot be used as asked is bad usage (exit 2), anything else (a held log,
// a storage failure) is a failure (exit 1).
func dirFailure(d dataDir, err error) error {
	var de *ledger.DirError
	switch {
	case errors.As(err, &de) && errors.Is(err, fs.ErrNotExist):
		return usagef("no log in %s: %s is missing (run \"pakta init --dir %s\")", d, de.Path, d)
	case errors.As(err, &de):
		return usageError(err)
	}
	return failure(err)
}

// exists reports whether path exists (an error other than "does not exist"
// counts as existing, so that nothing is overwritten by mistake).
func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// writeNewFile writes data to a file that must not exist yet.
func writeNewFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeOutput writes data to path, or to w when path is "" or "-".
func writeOutput(w io.Writer, path string, data []byte) error {
	if path == "" || path == "-" {
		_, err := w.Write(data)
		return err
	}
	if err := writeNewFile(path, data, 0o644); err != nil {
		return usageError(err)
	}
	return nil
}

// makeOutDir makes --out DIR (and its parents) if it does not exist yet,
// so that "get --out bundles" works on a fresh directory; a path that exists
// and is not a directory is bad usage.
func makeOutDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usagef("--out %s: %w", dir, err)
	}
	return nil
}
