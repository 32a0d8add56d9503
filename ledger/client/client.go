// Package client talks to a pakta server over HTTP (DESIGN.md, "HTTP API"):
// submissions, the public reads (checkpoint, hash tiles, consistency
// proofs) and the restricted ones (entry tiles, bundles, a person's
// pledges and history, /v1/me), which it signs with a read token when
// Config.Key is set. Tile paths are built and parsed here (Tile, its Path
// and ParseTilePath), for the server and every client alike.
//
// It imports neither the ledger nor its database: an auditor's or an
// employee's tool carries only the verifier side (packages pledge, verify).
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// Defaults for the zero values of Config.
const (
	DefaultTimeout     = 2 * time.Minute
	DefaultMaxResponse = 64 << 20
	// MaxPageLimit is the page size the client asks for: the most a
	// server gives (DESIGN.md), so that a long list costs few requests.
	MaxPageLimit = 1000
	// maxPages bounds the pages one list follows: far above any real
	// person's, low enough that a hostile server cannot page forever.
	maxPages = 10_000
)

// Config configures a Client. Every zero value means the documented
// default.
type Config struct {
	// HTTP sends the requests; nil means a client with DefaultTimeout.
	HTTP *http.Client
	// Key signs every GET but /checkpoint with a read token
	// (Authorization: PaktaSig): a registrar's, a policy reader's or an
	// enrolled employee's private key. nil sends no token: public reads
	// only, and restricted ones get a *StatusError with 401.
	Key *pledge.PrivateKey
	// Origin is the log's origin, the read tokens' aud; "" means the first
	// line of the server's checkpoint, read once.
	Origin string
	// TokenLifetime is a read token's; 0 means a minute.
	TokenLifetime time.Duration
	// Clock dates read tokens; nil means time.Now.
	Clock func() time.Time
	// Random draws read token nonces; nil means crypto/rand.Reader.
	Random io.Reader
	// MaxResponse bounds a response body; 0 means DefaultMaxResponse.
	MaxResponse int64
	// PageLimit is the page size lists ask for (1 to MaxPageLimit); 0
	// means MaxPageLimit.
	PageLimit int
}

// Client is a pakta server's API. Its methods are safe for concurrent use.
type Client struct {
	base *url.URL
	cfg  Config

	mu     sync.Mutex
	origin string
}

// New returns a client of the server at base (http:// or https://, with
// or without a path prefix).
func New(base string, cfg Config) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("client: %q is not an http:// or https:// URL", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: DefaultTimeout}
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	if cfg.MaxResponse <= 0 {
		cfg.MaxResponse = DefaultMaxResponse
	}
	if cfg.PageLimit <= 0 || cfg.PageLimit > MaxPageLimit {
		cfg.PageLimit = MaxPageLimit
	}
	return &Client{base: u, cfg: cfg, origin: cfg.Origin}, nil
}

// StatusError is a server's answer other than 2xx.
type StatusError struct {
	Method, Path string
	Status       int
	// Message is the JSON error's "error" (or the body's text), Detail its
	// "detail" as sent.
	Message    string
	Detail     json.RawMessage
	RetryAfter string // the Retry-After header, if any
}

func (e *StatusError) Error() string {
	msg := e.Message
	if len(e.Detail) > 0 && string(e.Detail) != "null" {
		msg += " " + string(e.Detail)
	}
	if len(msg) > 1000 {
		msg = msg[:1000] + "…"
	}
	if e.RetryAfter != "" {
		msg += " (retry after " + e.RetryAfter + "s)"
	}
	return fmt.Sprintf("%d %s: %s %s: %s", e.Status, http.StatusText(e.Status), e.Method, e.Path, msg)
}

// URL is the address of path on the server, with query q.
func (c *Client) URL(path string, q url.Values) *url.URL {
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	return &u
}

// Origin is the log's origin: Config.Origin, or the first line of the
// server's checkpoint.
func (c *Client) Origin(ctx context.Context) (string, error) {
	c.mu.Lock()
	origin := c.origin
	c.mu.Unlock()
	if origin != "" {
		return origin, nil
	}
	cp, err := c.Checkpoint(ctx)
	if err != nil {
		return "", err
	}
	origin, _, ok := strings.Cut(string(cp), "\n")
	if !ok || origin == "" {
		return "", fmt.Errorf("client: the server's checkpoint has no origin line")
	}
	c.mu.Lock()
	c.origin = origin
	c.mu.Unlock()
	return origin, nil
}

// Do sends req and returns the status and body of a 2xx answer, or a
// *StatusError.
func (c *Client) Do(req *http.Request) (int, []byte, error) {
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponse))
	if err != nil {
		return 0, nil, fmt.Errorf("client: %s %s: reading the answer: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp.StatusCode, body, nil
	}
	se := &StatusError{Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode, Message: strings.TrimSpace(string(body)), RetryAfter: resp.Header.Get("Retry-After")}
	var e struct {
		Error  string          `json:"error"`
		Detail json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		se.Message, se.Detail = e.Error, e.Detail
	}
	return resp.StatusCode, nil, se
}

// Get GETs path?q, signed with a read token when the client has a key
// (but for /checkpoint, which is public and tells the token's aud).
func (c *Client) Get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	u := c.URL(path, q)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if c.cfg.Key != nil && path != "/checkpoint" {
		token, err := c.ReadToken(ctx, http.MethodGet, u)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", pledge.ReadScheme+" "+token)
	}
	_, body, err := c.Do(req)
	return body, err
}

// ReadToken signs a read token with Config.Key for method and u (its
// escaped path and raw query, as they will be sent).
func (c *Client) ReadToken(ctx context.Context, method string, u *url.URL) (string, error) {
	if c.cfg.Key == nil {
		return "", fmt.Errorf("client: no key to sign a read token with")
	}
	origin, err := c.Origin(ctx)
	if err != nil {
		return "", err
	}
	claims, err := pledge.NewReadClaims(pledge.ReadTarget{Aud: origin, Method: method, Path: u.EscapedPath(), RawQuery: u.RawQuery}, c.cfg.Clock(), c.cfg.TokenLifetime, c.cfg.Random)
	if err != nil {
		return "", err
	}
	token, err := pledge.SignRead(claims, c.cfg.Key)
	return string(token), err
}

// Checkpoint is the server's latest signed checkpoint, unverified.
func (c *Client) Checkpoint(ctx context.Context) ([]byte, error) {
	return c.Get(ctx, "/checkpoint", nil)
}

// Size is the tree size of the server's latest checkpoint, unverified.
func (c *Client) Size(ctx context.Context) (uint64, error) {
	b, err := c.Checkpoint(ctx)
	if err != nil {
		return 0, err
	}
	text, _, _ := bytes.Cut(b, []byte("\n\n"))
	cp, err := verify.ParseCheckpoint(append(text, '\n'))
	if err != nil {
		return 0, fmt.Errorf("client: the server's checkpoint does not parse: %w", err)
	}
	return cp.Size, nil
}

// HashTile is hash tile level, index, width (public).
func (c *Client) HashTile(ctx context.Context, level uint8, index uint64, width int) ([]byte, error) {
	return c.Get(ctx, "/"+Tile{Level: level, Index: index, Width: width}.Path(), nil)
}

// EntryBundle is entry tile index, width: a restricted read, for policy
// readers only.
func (c *Client) EntryBundle(ctx context.Context, index uint64, width int) ([]byte, error) {
	return c.Get(ctx, "/"+Tile{Entries: true, Index: index, Width: width}.Path(), nil)
}

// Submit posts one JWS (compact, or JSON serialization when it begins
// with '{') and returns the bundle and whether it was logged before (200)
// rather than now (201).
func (c *Client) Submit(ctx context.Context, jws []byte) (bundle []byte, duplicate bool, err error) {
	ct := "application/jose"
	if bytes.HasPrefix(jws, []byte("{")) {
		ct = "application/jose+json"
	}
	status, body, err := c.post(ctx, "/v1/entries", ct, jws)
	if err != nil {
		return nil, false, err
	}
	return body, status == http.StatusOK, nil
}

// SubmitRequest posts an enrollment request (a compact JWS) and returns
// the status (201, or 200 for the key's pending request) and the answer.
func (c *Client) SubmitRequest(ctx context.Context, jws []byte) (int, []byte, error) {
	return c.post(ctx, "/v1/enrollment-requests", "application/jose", jws)
}

func (c *Client) post(ctx context.Context, path, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL(path, nil).String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	return c.Do(req)
}

// Bundle is the bundle of entry index against the latest checkpoint, as
// the server sent it (a restricted read).
func (c *Client) Bundle(ctx context.Context, index uint64) ([]byte, error) {
	return c.Get(ctx, "/v1/entries/"+strconv.FormatUint(index, 10), nil)
}

// Pledges is every pledge bundle of the person (scheme, id) dated date, as
// the server sent them, following the pages to the end (a restricted read).
func (c *Client) Pledges(ctx context.Context, scheme, id, date string) ([]json.RawMessage, error) {
	q := url.Values{"date": {date}, "limit": {strconv.Itoa(c.cfg.PageLimit)}}
	if scheme == pledge.SchemeNIP {
		q.Set("nip", id)
	} else {
		q.Set("scheme", scheme)
		q.Set("id", id)
	}
	var out []json.RawMessage
	err := c.pages(ctx, "/v1/pledges", q, func(body []byte) (int, error) {
		var resp struct {
			Bundles []json.RawMessage `json:"bundles"`
		}
		if err := json.Unmarshal(body, &resp); err != nil {
			return 0, fmt.Errorf("client: the server's answer to /v1/pledges does not parse: %w", err)
		}
		out = append(out, resp.Bundles...)
		return len(resp.Bundles), nil
	})
	return out, err
}

// Event is one entry of a person's history.
type Event struct {
	Index      uint64          `json:"index"`
	Type       string          `json:"type"`
	LoggedAt   string          `json:"logged_at"`
	AnnulledBy *uint64         `json:"annulled_by,omitempty"`
	Bundle     json.RawMessage `json:"bundle"`
}

// Read is one read of a person's records: when, by whom, and the reader's
// signed request.
type Read struct {
	At     string `json:"at"`
	Reader struct {
		Role string `json:"role"`
		Name string `json:"name,omitempty"`
		KID  string `json:"kid"`
	} `json:"reader"`
	Request string `json:"request"`
}

// History is everything a server holds about a person.
type History struct {
	Events []Event `json:"events"`
	Reads  []Read  `json:"reads"`
}

// History is the person (scheme, id)'s history, every page (a restricted
// read).
func (c *Client) History(ctx context.Context, scheme, id string) (*History, error) {
	return c.history(ctx, "/v1/people/"+url.PathEscape(scheme)+"/"+url.PathEscape(id)+"/history")
}

// Me is the history of the person whose enrolled key is Config.Key.
func (c *Client) Me(ctx context.Context) (*History, error) {
	return c.history(ctx, "/v1/me")
}

func (c *Client) history(ctx context.Context, path string) (*History, error) {
	h := &History{Events: []Event{}, Reads: []Read{}}
	err := c.pages(ctx, path, url.Values{"limit": {strconv.Itoa(c.cfg.PageLimit)}}, func(body []byte) (int, error) {
		var page History
		if err := json.Unmarshal(body, &page); err != nil {
			return 0, fmt.Errorf("client: the server's history does not parse: %w", err)
		}
		h.Events = append(h.Events, page.Events...)
		h.Reads = append(h.Reads, page.Reads...)
		return len(page.Events) + len(page.Reads), nil
	})
	return h, err
}

// pages GETs path?q and follows next_cursor to the last page; page reads
// one page's items and says how many it held.
func (c *Client) pages(ctx context.Context, path string, q url.Values, page func([]byte) (int, error)) error {
	seen := map[string]bool{}
	for n := 0; ; n++ {
		body, err := c.Get(ctx, path, q)
		if err != nil {
			return err
		}
		items, err := page(body)
		if err != nil {
			return err
		}
		var next struct {
			NextCursor string `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &next); err != nil {
			return fmt.Errorf("client: the server's answer to %s does not parse: %w", path, err)
		}
		if next.NextCursor == "" {
			return nil
		}
		// A server that hands back a cursor twice would keep the client
		// paging forever.
		if seen[next.NextCursor] || items == 0 || n >= maxPages {
			return fmt.Errorf("client: the server's %s pages do not advance (cursor %q)", path, next.NextCursor)
		}
		seen[next.NextCursor] = true
		q.Set("cursor", next.NextCursor)
	}
}

// Consistency is the consistency proof from tree size from to size to
// (public).
func (c *Client) Consistency(ctx context.Context, from, to uint64) ([][]byte, error) {
	q := url.Values{"from": {strconv.FormatUint(from, 10)}, "to": {strconv.FormatUint(to, 10)}}
	body, err := c.Get(ctx, "/v1/proof/consistency", q)
	if err != nil {
		return nil, err
	}
	var resp struct {
		From  uint64   `json:"from"`
		To    uint64   `json:"to"`
		Proof [][]byte `json:"proof"` // base64 std, as encoding/json reads []byte
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("client: the server's consistency proof does not parse: %w", err)
	}
	if resp.From != from || resp.To != to {
		return nil, fmt.Errorf("client: asked for a proof from %d to %d, the server sent one from %d to %d", from, to, resp.From, resp.To)
	}
	return resp.Proof, nil
}
