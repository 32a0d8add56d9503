package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/ledger/client"
	"github.com/pakta-id/pakta/pledge"
)

// Local drives a log in process, through the library.
type Local struct{ Log *ledger.Log }

func (l Local) Submit(ctx context.Context, jws []byte) (uint64, bool, error) {
	r, err := l.Log.Append(ctx, jws)
	return r.Index, r.Duplicate, err
}

func (l Local) Bundle(ctx context.Context, index uint64) error {
	b, err := l.Log.Bundle(ctx, index)
	if err != nil {
		return err
	}
	_, err = b.Marshal()
	return err
}

func (l Local) Pledges(ctx context.Context, scheme, id, date string) (int, error) {
	idx, err := l.Log.Pledges(ctx, scheme, id, date)
	for _, i := range idx {
		if _, err := l.Log.Bundle(ctx, i); err != nil {
			return 0, err
		}
	}
	return len(idx), err
}

func (l Local) Size(context.Context) (uint64, error) {
	_, size := l.Log.Checkpoint()
	return size, nil
}

// LocalKind names library errors for the report.
func LocalKind(err error) string {
	var ce *ledger.ConflictError
	var pe *ledger.PushbackError
	switch {
	case errors.As(err, &ce):
		return "conflict"
	case errors.As(err, &pe):
		return "pushback"
	case errors.Is(err, ledger.ErrForbidden):
		return "forbidden"
	case errors.Is(err, ledger.ErrInvalid):
		return "invalid"
	}
	return "other"
}

// HTTP drives a running pakta server, through package client.
type HTTP struct {
	c *client.Client
}

// NewHTTP returns a target with a client sized for clients connections,
// signing its reads with key (a registrar's: bundles and pledges are
// restricted reads; nil reads nothing restricted) for the log origin (""
// means the server's checkpoint says).
func NewHTTP(base string, clients int, key *pledge.PrivateKey, origin string) (*HTTP, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = clients*2, clients*2
	c, err := client.New(base, client.Config{HTTP: &http.Client{Transport: tr, Timeout: 60 * time.Second}, Key: key, Origin: origin})
	if err != nil {
		return nil, err
	}
	return &HTTP{c: c}, nil
}

// HTTPKind names HTTP errors by status for the report.
func HTTPKind(err error) string {
	var se *client.StatusError
	if errors.As(err, &se) {
		return strconv.Itoa(se.Status)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) {
		return "transport"
	}
	return err.Error() // the generator's own finding, e.g. "no pledge found"
}

func (h *HTTP) Submit(ctx context.Context, jws []byte) (uint64, bool, error) {
	b, dup, err := h.c.Submit(ctx, jws)
	if err != nil {
		return 0, false, err
	}
	var bundle struct {
		Proof string `json:"proof"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		return 0, false, fmt.Errorf("reading the bundle: %w", err)
	}
	// The index is the second line of the tlog-proof.
	var index uint64
	if _, err := fmt.Sscanf(strings.SplitN(bundle.Proof, "\n", 3)[1], "index %d", &index); err != nil {
		return 0, false, fmt.Errorf("reading the bundle's index: %w", err)
	}
	return index, dup, nil
}

func (h *HTTP) Bundle(ctx context.Context, index uint64) error {
	_, err := h.c.Bundle(ctx, index)
	return err
}

// Pledges follows the pages of /v1/pledges and counts the bundles.
func (h *HTTP) Pledges(ctx context.Context, scheme, id, date string) (int, error) {
	b, err := h.c.Pledges(ctx, scheme, id, date)
	return len(b), err
}

func (h *HTTP) Size(ctx context.Context) (uint64, error) { return h.c.Size(ctx) }
