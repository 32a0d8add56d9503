package ledger

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// The files of a data directory, as InitDir lays it out (and "pakta init",
// which calls it) and OpenDir reads it.
const (
	LogKeyFile    = "log.key"       // the checkpoint signing key, a note key (0600)
	LogVKeyFile   = "log.vkey"      // its verifier key, one line
	RegistrarFile = "registrar.jwk" // a first registrar's private JWK (0600)
	PolicyFile    = "policy.json"   // the trust policy: this log and that registrar
	DBDir         = "db"            // the log's storage
)

// FirstRegistrarName is the name InitDir gives its registrar in the policy.
const FirstRegistrarName = "registrar"

// maxNoteKeySize bounds log.key: a note key is about 100 bytes.
const maxNoteKeySize = 4 << 10

// DirError is returned (wrapped) by InitDir and OpenDir when the directory
// cannot be used as asked: a file is missing (it wraps fs.ErrNotExist) or
// already there (fs.ErrExist), a private key is readable by others, a file
// does not parse, or an origin is not a valid name. Callers report it as bad
// input, unlike a storage failure.
type DirError struct {
	Path string // the file (or the directory) at fault
	Err  error
}

func (e *DirError) Error() string { return "ledger: " + e.Path + ": " + e.Err.Error() }
func (e *DirError) Unwrap() error { return e.Err }

// DirInfo describes the log InitDir made.
type DirInfo struct {
	Origin       string         // the log's origin, the name of its checkpoint key
	LogKey       string         // the verifier key (the line in log.vkey)
	RegistrarKID string         // the kid of the registrar in registrar.jwk
	Policy       *verify.Policy // the trust policy written to policy.json
}

// InitDir creates a new, empty log in dir (created if missing): a checkpoint
// key named origin, a first registrar trusted for every agency, the trust
// policy naming both, and the log itself with a signed checkpoint of size 0.
// It refuses to overwrite any of these files, and removes what it wrote if it
// fails halfway. random is the source of the keys; nil means crypto/rand.
func InitDir(ctx context.Context, dir, origin string, random io.Reader) (*DirInfo, error) {
	if random == nil {
		random = rand.Reader
	}
	for _, name := range []string{LogKeyFile, LogVKeyFile, RegistrarFile, PolicyFile, DBDir} {
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			// Anything but "not there" (a permission error included) counts
			// as there: nothing is overwritten by mistake.
			return nil, &DirError{Path: p, Err: fmt.Errorf("refusing to overwrite an existing log: %w", fs.ErrExist)}
		}
	}
	// The origin is the first line of every checkpoint and the key's name:
	// note keys forbid '+' and spaces in names.
	if origin == "" || strings.ContainsAny(origin, " \t\r\n+") {
		return nil, &DirError{Path: dir, Err: fmt.Errorf("origin %q: it must be non-empty, without spaces or '+'", origin)}
	}
	skey, vkey, err := note.GenerateKey(random, origin)
	if err != nil {
		return nil, &DirError{Path: dir, Err: fmt.Errorf("origin %q: %w", origin, err)}
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("ledger: the new checkpoint key: %w", err)
	}
	reg, err := pledge.GenerateKey(pledge.EdDSA, random)
	if err != nil {
		return nil, fmt.Errorf("ledger: the first registrar's key: %w", err)
	}
	// Trusted for every agency, so that a new log works at once; a real
	// agency narrows its scope (and names it) in policy.json.
	policy, err := verify.NewPolicy(origin, vkey, []*verify.Registrar{verify.NationalRegistrar(FirstRegistrarName, reg.Public())})
	if err != nil {
		return nil, fmt.Errorf("ledger: the trust policy: %w", err)
	}
	pol, err := policy.Marshal()
	if err != nil {
		return nil, fmt.Errorf("ledger: the trust policy: %w", err)
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	var written []string
	ok := false
	defer func() {
		if !ok {
			for _, p := range written {
				os.RemoveAll(p)
			}
		}
	}()
	write := func(name string, data []byte, perm os.FileMode) error {
		p := filepath.Join(dir, name)
		if err := writeNewFile(p, data, perm); err != nil {
			return fmt.Errorf("ledger: writing %s: %w", p, err)
		}
		written = append(written, p)
		return nil
	}
	if err := write(LogKeyFile, []byte(skey+"\n"), 0o600); err != nil {
		return nil, err
	}
	if err := write(LogVKeyFile, []byte(vkey+"\n"), 0o644); err != nil {
		return nil, err
	}
	if err := pledge.WritePrivateKeyFile(filepath.Join(dir, RegistrarFile), reg); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	written = append(written, filepath.Join(dir, RegistrarFile))
	if err := write(PolicyFile, append(pol, '\n'), 0o644); err != nil {
		return nil, err
	}
	written = append(written, filepath.Join(dir, DBDir))
	l, err := Open(ctx, filepath.Join(dir, DBDir), Config{Signer: signer, Policy: policy})
	if err != nil {
		return nil, err
	}
	if err := l.Close(); err != nil {
		return nil, err
	}
	// The files' names must be durable too, not only their bytes.
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	ok = true
	return &DirInfo{Origin: origin, LogKey: vkey, RegistrarKID: reg.KeyID(), Policy: policy}, nil
}

// OpenDir opens the log in a directory that InitDir (or "pakta init") made:
// it reads what cfg leaves nil, the checkpoint key from log.key and the trust
// policy from policy.json (see DirConfig), and opens the log in db/ as Open
// does. Unlike Open, it never creates a log: a directory without one is a
// *DirError wrapping fs.ErrNotExist. A log that another process holds (a
// running server) is ErrLocked.
func OpenDir(ctx context.Context, dir string, cfg Config) (*Log, error) {
	cfg, err := DirConfig(dir, cfg)
	if err != nil {
		return nil, err
	}
	db := filepath.Join(dir, DBDir)
	if st, err := os.Stat(db); err != nil {
		return nil, dirError(db, err)
	} else if !st.IsDir() {
		return nil, &DirError{Path: db, Err: errors.New("not a directory")}
	}
	return Open(ctx, db, cfg)
}

// DirConfig returns cfg with what it leaves nil read from a directory that
// InitDir made: the checkpoint key from log.key and the trust policy from
// policy.json. It is how a log stored elsewhere (New, on another engine)
// keeps its keys and policy in files: the directory need not hold db/.
func DirConfig(dir string, cfg Config) (Config, error) {
	if cfg.Signer == nil {
		s, err := readNoteSigner(filepath.Join(dir, LogKeyFile))
		if err != nil {
			return cfg, err
		}
		cfg.Signer = s
	}
	if cfg.Policy == nil {
		p, err := ReadPolicyFile(filepath.Join(dir, PolicyFile))
		if err != nil {
			return cfg, err
		}
		cfg.Policy = p
	}
	return cfg, nil
}

// ReadPolicyFile reads and checks a trust policy file; any problem with it is
// a *DirError.
func ReadPolicyFile(path string) (*verify.Policy, error) {
	b, err := readFileLimited(path, verify.MaxPolicySize)
	if err != nil {
		return nil, dirError(path, err)
	}
	p, err := verify.ParsePolicy(b)
	if err != nil {
		return nil, &DirError{Path: path, Err: err}
	}
	return p, nil
}

// readNoteSigner reads a checkpoint signing key. A key file readable by group
// or others is refused, as ssh refuses one: the secret may already be out.
func readNoteSigner(path string) (note.Signer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, dirError(path, err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, &DirError{Path: path, Err: fmt.Errorf("mode %#o: a private key must be readable by its owner only (chmod 600)", perm)}
	}
	b, err := readFileLimited(path, maxNoteKeySize)
	if err != nil {
		return nil, dirError(path, err)
	}
	s, err := note.NewSigner(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, &DirError{Path: path, Err: fmt.Errorf("not a note signing key: %w", err)}
	}
	return s, nil
}

// dirError is a *DirError for path, without the path a *fs.PathError about
// the same file would repeat.
func dirError(path string, err error) *DirError {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		err = pe.Err
	}
	return &DirError{Path: path, Err: err}
}

func readFileLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("over the %d-byte limit", max)
	}
	return b, nil
}

// writeNewFile writes data to a file that must not exist yet, durably.
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

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
