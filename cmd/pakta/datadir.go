package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/verify"
)

// The layout of a data directory.
const (
	defaultDir      = "pakta-data"
	logKeyFile      = "log.key"
	logVKeyFile     = "log.vkey"
	registrarFile   = "registrar.jwk"
	policyFile      = "policy.json"
	dbDir           = "db"
	defaultPolicy   = defaultDir + "/" + policyFile
	maxNoteKeyBytes = 4 << 10
)

// dataDir is the layout of a data directory D.
type dataDir string

func (d dataDir) logKey() string    { return filepath.Join(string(d), logKeyFile) }
func (d dataDir) logVKey() string   { return filepath.Join(string(d), logVKeyFile) }
func (d dataDir) registrar() string { return filepath.Join(string(d), registrarFile) }
func (d dataDir) policy() string    { return filepath.Join(string(d), policyFile) }
func (d dataDir) db() string        { return filepath.Join(string(d), dbDir) }

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

// readSigner reads the log's note signing key.
func (d dataDir) readSigner() (note.Signer, error) {
	st, err := os.Stat(d.logKey())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usagef("no log in %s: %s is missing (run \"pakta init --dir %s\")", d, d.logKey(), d)
	} else if err != nil {
		return nil, usageError(err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, usagef("%s has mode %#o: it must be readable by its owner only (chmod 600)", d.logKey(), st.Mode().Perm())
	}
	b, err := readFileLimited(d.logKey(), maxNoteKeyBytes)
	if err != nil {
		return nil, usageError(err)
	}
	s, err := note.NewSigner(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, usagef("%s: not a note signing key: %w", d.logKey(), err)
	}
	return s, nil
}

// openLog opens the log in d for reading and appending. It refuses a
// directory that pakta init did not make, and says so clearly when a running
// server holds the log.
func (d dataDir) openLog(ctx context.Context) (*ledger.Log, error) {
	signer, err := d.readSigner()
	if err != nil {
		return nil, err
	}
	policy, err := readPolicy(d.policy())
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(d.db()); err != nil {
		return nil, usagef("no log in %s: %w (run \"pakta init --dir %s\")", d, err, d)
	}
	l, err := ledger.Open(ctx, d.db(), ledger.Config{Signer: signer, Policy: policy})
	if err != nil {
		if errors.Is(err, ledger.ErrLocked) {
			return nil, failf("%w; use --server with the server's URL instead of --dir", err)
		}
		return nil, failure(err)
	}
	return l, nil
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

// checkOutDir refuses an --out that is not an existing directory (bad usage).
func checkOutDir(dir string) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usagef("--out %s is not a directory", dir)
	}
	return nil
}
