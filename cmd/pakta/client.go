package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pakta-id/pakta/verify"
)

// maxResponseSize bounds what the client reads from a server: a list of
// bundles for one person on one day stays far below it.
const maxResponseSize = 64 << 20

// client is a backend over a pakta server's HTTP API.
type client struct {
	base *url.URL
	http *http.Client
}

func newClient(server string) (*client, error) {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("--server %q is not an http:// or https:// URL", server)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &client{base: u, http: &http.Client{Timeout: 2 * time.Minute}}, nil
}

func (c *client) url(path string, q url.Values) string {
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	return u.String()
}

// do sends a request and returns the status and body of a 2xx answer; any
// other answer is an error naming the server's reason.
func (c *client) do(req *http.Request) (int, []byte, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, failure(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize))
	if err != nil {
		return 0, nil, failf("%s %s: reading the answer: %w", req.Method, req.URL, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp.StatusCode, body, nil
	}
	var e struct {
		Error  string `json:"error"`
		Detail any    `json:"detail"`
	}
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		msg = e.Error
		if e.Detail != nil {
			if d, err := json.Marshal(e.Detail); err == nil {
				msg += " " + string(d)
			}
		}
	}
	if len(msg) > 1000 {
		msg = msg[:1000] + "…"
	}
	what := "server answered"
	switch resp.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusTooManyRequests:
		what = "refused"
	case http.StatusServiceUnavailable:
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			msg += " (retry after " + ra + "s)"
		}
	}
	return resp.StatusCode, nil, failf("%s: %s %s: %s", what, resp.Status, req.URL.Path, msg)
}

func (c *client) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(path, q), nil)
	if err != nil {
		return nil, err
	}
	_, body, err := c.do(req)
	return body, err
}

func (c *client) Submit(ctx context.Context, jws []byte) (uint64, bool, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url("/v1/entries", nil), bytes.NewReader(jws))
	if err != nil {
		return 0, false, nil, err
	}
	req.Header.Set("Content-Type", "application/jose")
	if bytes.HasPrefix(jws, []byte("{")) {
		req.Header.Set("Content-Type", "application/jose+json")
	}
	status, body, err := c.do(req)
	if err != nil {
		return 0, false, nil, err
	}
	index, err := bundleIndex(body)
	if err != nil {
		return 0, false, nil, failf("the server's bundle does not parse: %w", err)
	}
	return index, status == http.StatusOK, body, nil
}

func (c *client) Bundle(ctx context.Context, index uint64) ([]byte, error) {
	body, err := c.get(ctx, "/v1/entries/"+strconv.FormatUint(index, 10), nil)
	if err != nil {
		return nil, err
	}
	if _, err := verify.ParseBundle(body); err != nil {
		return nil, failf("the server's bundle does not parse: %w", err)
	}
	return body, nil
}

// pledgesPageLimit is the page size the client asks for: the most a server
// gives (DESIGN.md), so that a person with many pledges costs few requests.
var pledgesPageLimit = 1000

// Pledges follows /v1/pledges' cursors to the last page.
func (c *client) Pledges(ctx context.Context, scheme, id, date string) ([][]byte, error) {
	q := url.Values{"date": {date}, "limit": {strconv.Itoa(pledgesPageLimit)}}
	if scheme == "nip" {
		q.Set("nip", id)
	} else {
		q.Set("scheme", scheme)
		q.Set("id", id)
	}
	var out [][]byte
	seen := map[string]bool{}
	for {
		body, err := c.get(ctx, "/v1/pledges", q)
		if err != nil {
			return nil, err
		}
		var resp struct {
			Bundles    []json.RawMessage `json:"bundles"`
			NextCursor string            `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &resp); err != nil {
			return nil, failf("the server's answer to /v1/pledges does not parse: %w", err)
		}
		for _, raw := range resp.Bundles {
			bu, err := verify.ParseBundle(raw)
			if err != nil {
				return nil, failf("the server's bundle %d does not parse: %w", len(out), err)
			}
			b, err := bu.Marshal()
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
		if resp.NextCursor == "" {
			return out, nil
		}
		// A server that hands back a cursor twice would keep the client
		// paging forever.
		if seen[resp.NextCursor] || len(resp.Bundles) == 0 {
			return nil, failf("the server's /v1/pledges pages do not advance (cursor %q)", resp.NextCursor)
		}
		seen[resp.NextCursor] = true
		q.Set("cursor", resp.NextCursor)
	}
}

func (c *client) Consistency(ctx context.Context, from, to uint64) (uint64, [][]byte, error) {
	if to == 0 {
		body, err := c.get(ctx, "/checkpoint", nil)
		if err != nil {
			return 0, nil, err
		}
		text, _, _ := bytes.Cut(body, []byte("\n\n"))
		cp, err := verify.ParseCheckpoint(append(text, '\n'))
		if err != nil {
			return 0, nil, failf("the server's checkpoint does not parse: %w", err)
		}
		to = cp.Size
	}
	q := url.Values{"from": {strconv.FormatUint(from, 10)}, "to": {strconv.FormatUint(to, 10)}}
	body, err := c.get(ctx, "/v1/proof/consistency", q)
	if err != nil {
		return 0, nil, err
	}
	var resp struct {
		From  uint64   `json:"from"`
		To    uint64   `json:"to"`
		Proof [][]byte `json:"proof"` // base64 std, as encoding/json reads []byte
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return 0, nil, failf("the server's consistency proof does not parse: %w", err)
	}
	if resp.From != from || resp.To != to {
		return 0, nil, failf("asked for a proof from %d to %d, the server sent one from %d to %d", from, to, resp.From, resp.To)
	}
	return to, resp.Proof, nil
}

func (c *client) Close() error { return nil }

var _ backend = (*client)(nil)

// describe names the log a backend reaches, for messages.
func (f *logFlags) describe() string {
	if f.server != "" {
		return f.server
	}
	return fmt.Sprintf("the log in %s", f.dir)
}
