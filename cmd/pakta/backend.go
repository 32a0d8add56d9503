package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// backend is a log reached either directly (its data directory) or through
// a server. Bundles are the bytes of .pakta.json files.
type backend interface {
	// Submit appends one JWS; dup is true when it was already logged.
	Submit(ctx context.Context, jws []byte) (index uint64, dup bool, bundle []byte, err error)
	// Bundle is the bundle of entry index against the latest checkpoint.
	Bundle(ctx context.Context, index uint64) ([]byte, error)
	// Pledges is the bundles of every pledge by (scheme, id) dated date.
	Pledges(ctx context.Context, scheme, id, date string) ([][]byte, error)
	// Consistency proves that the tree of size from is a prefix of the tree
	// of size to; to 0 means the latest size, which it returns.
	Consistency(ctx context.Context, from, to uint64) (uint64, [][]byte, error)
	Close() error
}

// logFlags selects the log a command talks to: --dir or --server, and
// for the commands that read people's records, --key to sign the server
// reads with.
type logFlags struct {
	dir, server string
	key         string
	// origin is the log's origin, when the command knows it from a trust
	// policy: the aud of read tokens, rather than what the server says.
	origin string
}

// registerKey adds --key, for commands whose --server reads are
// restricted (DESIGN.md, "Private reads").
func (f *logFlags) registerKey(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.key, "key", "", "private JWK `file` that signs the --server reads: a registrar's, a policy reader's, or your own enrolled key")
}

// readKey is the --key file's key, or nil without --key.
func (f *logFlags) readKey() (*pledge.PrivateKey, error) {
	if f.key == "" {
		return nil, nil
	}
	if f.server == "" {
		return nil, usagef("--key signs the reads of a --server; a local log (--dir) is read without one")
	}
	k, err := pledge.ReadPrivateKeyFile(f.key)
	if err != nil {
		return nil, usageError(err)
	}
	return k, nil
}

// client is the --server's client, signing with --key.
func (f *logFlags) client() (*client, error) {
	key, err := f.readKey()
	if err != nil {
		return nil, err
	}
	return newClient(f.server, key, f.origin)
}

func (f *logFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dir, "dir", defaultDir, "data `directory` of a local log")
	cmd.Flags().StringVar(&f.server, "server", "", "`URL` of a pakta server, instead of a local log")
	cmd.MarkFlagsMutuallyExclusive("dir", "server")
}

func (f *logFlags) open(ctx context.Context) (backend, error) {
	if f.server != "" {
		return f.client()
	}
	if _, err := f.readKey(); err != nil {
		return nil, err
	}
	l, err := dataDir(f.dir).openLog(ctx)
	if err != nil {
		return nil, err
	}
	return localLog{l}, nil
}

// localLog is a backend over a log opened in this process.
type localLog struct{ l *ledger.Log }

func (b localLog) Submit(ctx context.Context, jws []byte) (uint64, bool, []byte, error) {
	res, err := b.l.Append(ctx, jws)
	if err != nil {
		return 0, false, nil, refusal(err)
	}
	bundle, err := b.Bundle(ctx, res.Index)
	return res.Index, res.Duplicate, bundle, err
}

func (b localLog) Bundle(ctx context.Context, index uint64) ([]byte, error) {
	bu, err := b.l.Bundle(ctx, index)
	if errors.Is(err, ledger.ErrNotFound) {
		_, size := b.l.Checkpoint()
		return nil, failf("no entry %d: the log has %d entries", index, size)
	} else if err != nil {
		return nil, err
	}
	return bu.Marshal()
}

func (b localLog) Pledges(ctx context.Context, scheme, id, date string) ([][]byte, error) {
	idx, err := b.l.Pledges(ctx, scheme, id, date)
	if errors.Is(err, ledger.ErrInvalid) {
		return nil, usageError(err)
	} else if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, i := range idx {
		bu, err := b.Bundle(ctx, i)
		if err != nil {
			return nil, err
		}
		out = append(out, bu)
	}
	return out, nil
}

func (b localLog) Consistency(ctx context.Context, from, to uint64) (uint64, [][]byte, error) {
	if to == 0 {
		_, to = b.l.Checkpoint()
	}
	p, err := b.l.ConsistencyProof(ctx, from, to)
	if err != nil {
		return 0, nil, failure(err)
	}
	return to, p, nil
}

func (b localLog) Close() error { return b.l.Close() }

// refusal words an Append error: the log's refusals are failures (exit 1)
// with the reason; anything else is the log's own failure.
func refusal(err error) error {
	var conflict *ledger.ConflictError
	var push *ledger.PushbackError
	switch {
	case errors.As(err, &conflict):
		return failf("refused (conflict with entry %d): %w", conflict.Index, err)
	case errors.As(err, &push):
		return failf("refused for now (the log is busy): %w", err)
	case errors.Is(err, ledger.ErrForbidden), errors.Is(err, ledger.ErrInvalid), errors.Is(err, pledge.ErrTooLarge):
		return failf("refused: %w", err)
	}
	return failure(err)
}

// bundleIndex is the index a bundle proves.
func bundleIndex(b []byte) (uint64, error) {
	bu, err := verify.ParseBundle(b)
	if err != nil {
		return 0, err
	}
	p, err := verify.ParseProof([]byte(bu.Proof))
	if err != nil {
		return 0, err
	}
	return p.Index, nil
}

// bundleFile is the file name of the bundle of entry index.
func bundleFile(index uint64) string { return fmt.Sprintf("%d.pakta.json", index) }
