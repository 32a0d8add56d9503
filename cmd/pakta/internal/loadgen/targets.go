package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pakta-id/pakta/ledger"
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

// HTTP drives a running pakta server.
type HTTP struct {
	Base   string // e.g. http://127.0.0.1:8080
	Client *http.Client
}

// NewHTTP returns a target with a client sized for clients connections.
func NewHTTP(base string, clients int) *HTTP {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = clients*2, clients*2
	return &HTTP{Base: strings.TrimRight(base, "/"), Client: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Code, e.Body) }

// HTTPKind names HTTP errors by status for the report.
func HTTPKind(err error) string {
	var se *StatusError
	if errors.As(err, &se) {
		return strconv.Itoa(se.Code)
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

func (h *HTTP) do(req *http.Request) ([]byte, int, error) {
	resp, err := h.Client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, resp.StatusCode, &StatusError{Code: resp.StatusCode, Body: string(bytes.TrimSpace(b))}
	}
	return b, resp.StatusCode, nil
}

func (h *HTTP) Submit(ctx context.Context, jws []byte) (uint64, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.Base+"/v1/entries", bytes.NewReader(jws))
	if err != nil {
		return 0, false, err
	}
	ct := "application/jose"
	if len(jws) > 0 && jws[0] == '{' {
		ct = "application/jose+json"
	}
	req.Header.Set("Content-Type", ct)
	b, code, err := h.do(req)
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
	return index, code == http.StatusOK, nil
}

func (h *HTTP) Bundle(ctx context.Context, index uint64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/v1/entries/%d", h.Base, index), nil)
	if err != nil {
		return err
	}
	_, _, err = h.do(req)
	return err
}

// Pledges follows the pages of /v1/pledges (a person's pledges of a day
// are few: usually one page) and counts the bundles.
func (h *HTTP) Pledges(ctx context.Context, scheme, id, date string) (int, error) {
	q := url.Values{"scheme": {scheme}, "id": {id}, "date": {date}}
	n := 0
	for pages := 0; ; pages++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.Base+"/v1/pledges?"+q.Encode(), nil)
		if err != nil {
			return 0, err
		}
		b, _, err := h.do(req)
		if err != nil {
			return 0, err
		}
		var out struct {
			Bundles    []json.RawMessage `json:"bundles"`
			NextCursor string            `json:"next_cursor"`
		}
		if err := json.Unmarshal(b, &out); err != nil {
			return 0, err
		}
		n += len(out.Bundles)
		if out.NextCursor == "" {
			return n, nil
		}
		if pages > 1000 {
			return 0, fmt.Errorf("more than 1000 pages of pledges for %s %s", scheme, id)
		}
		q.Set("cursor", out.NextCursor)
	}
}

func (h *HTTP) Size(ctx context.Context) (uint64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.Base+"/checkpoint", nil)
	if err != nil {
		return 0, err
	}
	b, _, err := h.do(req)
	if err != nil {
		return 0, err
	}
	// A checkpoint's second line is the tree size.
	lines := strings.SplitN(string(b), "\n", 3)
	if len(lines) < 3 {
		return 0, fmt.Errorf("checkpoint %q: no size line", b)
	}
	return strconv.ParseUint(lines[1], 10, 64)
}
