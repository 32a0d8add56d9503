package witness

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// maxResponseSize bounds a witness's answer: a few signature lines.
const maxResponseSize = 16 << 10

// Client asks one witness to cosign (tlog-witness add-checkpoint).
type Client struct {
	// URL is the witness's submission prefix; the client posts to
	// URL + "/add-checkpoint".
	URL string
	// HTTP sends the requests; nil means http.DefaultClient. Bound each
	// call with its context: a witness that does not answer must not hold
	// the log's witnessing back for ever.
	HTTP *http.Client
}

// StatusError is an answer of the witness other than 200 and 409: 403 (the
// witness does not accept the log's signature), 404 (it does not know the
// log), 422 (the consistency proof does not verify: a fork, or a bug), 400,
// or a server error.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("witness: HTTP %d: %s", e.Code, e.Body)
}

// AddCheckpoint sends the signed checkpoint with a consistency proof from
// old, the size the log believes the witness last cosigned, and returns the
// witness's signature lines. A 409 is a *ConflictError carrying the
// witness's size; other refusals are a *StatusError.
func (c *Client) AddCheckpoint(ctx context.Context, old uint64, proof [][]byte, signed []byte) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", old)
	for _, h := range proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(signed)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.URL, "/")+"/add-checkpoint", &b)
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize+1))
	if err != nil {
		return nil, fmt.Errorf("witness: reading the answer: %w", err)
	}
	if len(body) > maxResponseSize {
		return nil, fmt.Errorf("witness: answer over %d bytes", maxResponseSize)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return body, nil
	case http.StatusConflict:
		s := strings.TrimSuffix(string(body), "\n")
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("witness: 409 without a size: %q", abbrev(string(body)))
		}
		return nil, &ConflictError{Size: n}
	}
	return nil, &StatusError{Code: resp.StatusCode, Body: abbrev(strings.TrimSpace(string(body)))}
}

// ErrNotCosigned is a 200 whose lines hold no valid cosignature of the
// witness's key: the witness answered, but did not vouch.
var ErrNotCosigned = errors.New("witness: no valid cosignature in the answer")

func abbrev(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
