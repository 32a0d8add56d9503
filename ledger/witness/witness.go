// Package witness is a C2SP tlog-witness: it cosigns a log's checkpoint
// (C2SP tlog-cosignature, cosignature/v1, stamped with the witness's own
// clock) only if the checkpoint is signed by the log's key and consistent
// with every checkpoint of that log the witness cosigned before. Agencies
// run one for each other's logs (pakta witness serve), so that a log
// cannot show two histories, and so that a bundle carries times that the
// log operator's clock did not make.
//
// The package also holds the client a log uses to ask a witness
// (Client.AddCheckpoint). Neither side imports the ledger.
package witness

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/verify"
)

// MaxRequestSize bounds an add-checkpoint body: 63 proof lines and a
// checkpoint with its signature lines fit many times over.
const MaxRequestSize = 64 << 10

// maxProofLines is tlog-witness's limit on consistency proof lines.
const maxProofLines = 63

// StateFile is the witness's state in its directory: the latest cosigned
// size and root of every log.
const StateFile = "witness-state.json"

// Config configures a witness. Signer, Logs and Dir are required; Logger's
// zero value discards.
type Config struct {
	// Signer cosigns: a *verify.CosignatureSigner, whose clock is the
	// witness's time.
	Signer note.Signer
	// Logs are the note verifier keys of the logs the witness cosigns
	// for; a key's name is its log's origin. A log may have several keys
	// (a rotation).
	Logs []string
	// Dir holds the state file. It must be on a local file system: the
	// state is written to a temporary file, synced and renamed over the
	// old one before any cosignature leaves.
	Dir string
	// Logger receives refusals (a fork is logged at Error); nil discards.
	Logger *slog.Logger
}

// Witness is an open witness. It is an http.Handler serving
// POST /add-checkpoint. Its methods are safe for concurrent use.
type Witness struct {
	cfg  Config
	keys map[string][]note.Verifier // by origin
	log  *slog.Logger

	mu    sync.Mutex // held from the check of a request to its persisted state
	state state
}

// state is the file: origin → the latest checkpoint cosigned.
type state struct {
	Logs map[string]treeHead `json:"logs"`
}

type treeHead struct {
	Size uint64 `json:"size"`
	Root []byte `json:"root"` // base64 in the file
}

// New opens the witness, reading its state from cfg.Dir (a new directory
// is an empty state: every log at size 0).
func New(cfg Config) (*Witness, error) {
	if cfg.Signer == nil || cfg.Dir == "" || len(cfg.Logs) == 0 {
		return nil, errors.New("witness: Config.Signer, Config.Dir and Config.Logs are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Witness{cfg: cfg, keys: map[string][]note.Verifier{}, log: cfg.Logger}
	for _, k := range cfg.Logs {
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, fmt.Errorf("witness: log key %q: %w", k, err)
		}
		w.keys[v.Name()] = append(w.keys[v.Name()], v)
	}
	b, err := os.ReadFile(filepath.Join(cfg.Dir, StateFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		w.state.Logs = map[string]treeHead{}
	case err != nil:
		return nil, fmt.Errorf("witness: reading state: %w", err)
	default:
		if err := json.Unmarshal(b, &w.state, json.RejectUnknownMembers(true)); err != nil {
			return nil, fmt.Errorf("witness: state %s is corrupt: %w", filepath.Join(cfg.Dir, StateFile), err)
		}
		if w.state.Logs == nil {
			w.state.Logs = map[string]treeHead{}
		}
	}
	return w, nil
}

// Name is the witness's key name.
func (w *Witness) Name() string { return w.cfg.Signer.Name() }

// Size is the latest size the witness cosigned for origin (0 if none).
func (w *Witness) Size(origin string) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state.Logs[origin].Size
}

// Errors of AddCheckpoint, each with its tlog-witness HTTP status.
var (
	ErrUnknownLog = errors.New("witness: unknown log")                       // 404
	ErrSignature  = errors.New("witness: not signed by the log")             // 403
	ErrMalformed  = errors.New("witness: malformed request")                 // 400
	ErrProof      = errors.New("witness: consistency proof does not verify") // 422
)

// ConflictError is a 409: the old size is not the size the witness last
// cosigned (Size), or the checkpoint has that size with another root: a
// fork.
type ConflictError struct {
	Size uint64
	Fork bool
}

func (e *ConflictError) Error() string {
	if e.Fork {
		return fmt.Sprintf("witness: a checkpoint of size %d with another root than the one cosigned: a fork", e.Size)
	}
	return fmt.Sprintf("witness: the latest cosigned size is %d, not the old size given", e.Size)
}

// AddCheckpoint is tlog-witness's add-checkpoint: body is "old <size>",
// consistency proof lines, a blank line and the signed checkpoint. It
// returns the witness's signature line. The check against the stored state
// and the state's durable update are one step under a lock, so two
// requests cannot roll the state back; the state is on disk before the
// cosignature is returned.
func (w *Witness) AddCheckpoint(_ context.Context, body []byte) ([]byte, error) {
	head, signed, ok := bytes.Cut(body, []byte("\n\n"))
	if !ok {
		return nil, fmt.Errorf("%w: no blank line after the proof", ErrMalformed)
	}
	lines := strings.Split(string(head), "\n")
	oldText, ok := strings.CutPrefix(lines[0], "old ")
	old, err := strconv.ParseUint(oldText, 10, 64)
	if !ok || err != nil || strconv.FormatUint(old, 10) != oldText {
		return nil, fmt.Errorf("%w: first line %q is not \"old <size>\"", ErrMalformed, lines[0])
	}
	if len(lines)-1 > maxProofLines {
		return nil, fmt.Errorf("%w: %d proof lines, more than %d", ErrMalformed, len(lines)-1, maxProofLines)
	}
	var hashes [][]byte
	for _, l := range lines[1:] {
		h, err := base64.StdEncoding.Strict().DecodeString(l)
		if err != nil || len(h) != 32 {
			return nil, fmt.Errorf("%w: proof line %q is not a base64 hash", ErrMalformed, l)
		}
		hashes = append(hashes, h)
	}
	origin, _, _ := strings.Cut(string(signed), "\n")
	keys, ok := w.keys[origin]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownLog, origin)
	}
	var cp verify.Checkpoint
	var opened bool
	for _, k := range keys {
		if c, _, err := verify.OpenCheckpoint(signed, origin, k); err == nil {
			cp, opened = c, true
			break
		}
	}
	if !opened {
		return nil, fmt.Errorf("%w: no valid signature by a key of %q", ErrSignature, origin)
	}
	if old > cp.Size {
		return nil, fmt.Errorf("%w: old size %d is above the checkpoint's %d", ErrMalformed, old, cp.Size)
	}
	if old == 0 && len(hashes) > 0 {
		return nil, fmt.Errorf("%w: a proof from size 0", ErrMalformed)
	}
	line, err := verify.Cosign(signed, w.cfg.Signer)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	known := w.state.Logs[origin]
	if old != known.Size {
		return nil, &ConflictError{Size: known.Size}
	}
	switch {
	case old == cp.Size && old > 0:
		if !bytes.Equal(known.Root, cp.Root[:]) {
			w.log.Error("fork: a checkpoint of the size already cosigned, with another root", "origin", origin, "size", cp.Size, "cosigned_root", known.Root, "root", cp.Root[:])
			return nil, &ConflictError{Size: known.Size, Fork: true}
		}
	case old > 0:
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, old, cp.Size, hashes, known.Root, cp.Root[:]); err != nil {
			w.log.Error("fork or bad proof: the checkpoint is not shown consistent with the one cosigned", "origin", origin, "old", old, "size", cp.Size, "err", err)
			return nil, fmt.Errorf("%w: from size %d to %d: %w", ErrProof, old, cp.Size, err)
		}
	}
	next := w.state
	next.Logs = make(map[string]treeHead, len(w.state.Logs)+1)
	for k, v := range w.state.Logs {
		next.Logs[k] = v
	}
	next.Logs[origin] = treeHead{Size: cp.Size, Root: cp.Root[:]}
	if err := w.persist(next); err != nil {
		return nil, err
	}
	w.state = next
	return line, nil
}

// persist writes the state durably: a synced temporary file renamed over
// the old state, and the directory synced, so that a crash leaves the old
// state or the new one, never a mix.
func (w *Witness) persist(s state) error {
	b, err := json.Marshal(s, jsontext.WithIndent("  "))
	if err != nil {
		return fmt.Errorf("witness: encoding state: %w", err)
	}
	path := filepath.Join(w.cfg.Dir, StateFile)
	f, err := os.CreateTemp(w.cfg.Dir, StateFile+".*")
	if err != nil {
		return fmt.Errorf("witness: saving state: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("witness: saving state: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("witness: saving state: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("witness: saving state: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("witness: saving state: %w", err)
	}
	d, err := os.Open(w.cfg.Dir)
	if err != nil {
		return fmt.Errorf("witness: saving state: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("witness: saving state: %w", err)
	}
	return nil
}

// ServeHTTP serves POST /add-checkpoint, with tlog-witness's statuses.
func (w *Witness) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/add-checkpoint" {
		http.NotFound(rw, r)
		return
	}
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		http.Error(rw, "add-checkpoint takes POST", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, MaxRequestSize))
	if err != nil {
		http.Error(rw, "request body over the limit or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	line, err := w.AddCheckpoint(r.Context(), body)
	var conflict *ConflictError
	switch {
	case err == nil:
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rw.Write(line)
	case errors.As(err, &conflict):
		rw.Header().Set("Content-Type", "text/x.tlog.size")
		rw.WriteHeader(http.StatusConflict)
		fmt.Fprintf(rw, "%d\n", conflict.Size)
	case errors.Is(err, ErrUnknownLog):
		http.Error(rw, err.Error(), http.StatusNotFound)
	case errors.Is(err, ErrSignature):
		http.Error(rw, err.Error(), http.StatusForbidden)
	case errors.Is(err, ErrMalformed):
		http.Error(rw, err.Error(), http.StatusBadRequest)
	case errors.Is(err, ErrProof):
		http.Error(rw, err.Error(), http.StatusUnprocessableEntity)
	default:
		w.log.Error("add-checkpoint failed", "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
	}
}
