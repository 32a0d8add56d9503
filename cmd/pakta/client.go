package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	paktaclient "github.com/pakta-id/pakta/ledger/client"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// client is a backend over a pakta server's HTTP API: package client, with
// its errors worded for the command line.
type client struct {
	c              *paktaclient.Client
	server, origin string
}

// pledgesPageLimit is the page size the client asks for (0: the most a
// server gives); tests lower it to check that pages are followed.
var pledgesPageLimit = 0

// newClient returns a client of server that signs its reads with key (nil:
// public reads only) for the log origin (""; the server's checkpoint says).
func newClient(server string, key *pledge.PrivateKey, origin string) (*client, error) {
	c, err := paktaclient.New(server, paktaclient.Config{HTTP: &http.Client{Timeout: 2 * time.Minute}, Key: key, Origin: origin, PageLimit: pledgesPageLimit})
	if err != nil {
		return nil, usagef("--server %q is not an http:// or https:// URL", server)
	}
	return &client{c: c, server: server, origin: origin}, nil
}

// withKey is the client signing its reads with key.
func (c *client) withKey(key *pledge.PrivateKey) *client {
	k, err := newClient(c.server, key, c.origin)
	if err != nil {
		panic(err) // c's server was accepted already
	}
	return k
}

// wrap words a client error: a server's refusal names its status and
// reason (exit 1), a restricted read without a key says to give one.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var se *paktaclient.StatusError
	if !errors.As(err, &se) {
		return failure(err)
	}
	what := "server answered"
	switch se.Status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusTooManyRequests:
		what = "refused"
	}
	msg := fmt.Sprintf("%s: %d %s %s: %s", what, se.Status, http.StatusText(se.Status), se.Path, strings.TrimPrefix(se.Error(), fmt.Sprintf("%d %s: %s %s: ", se.Status, http.StatusText(se.Status), se.Method, se.Path)))
	if se.Status == http.StatusUnauthorized && strings.Contains(se.Message, "sign the request") {
		msg += " (a restricted read: give --key, a registrar's, a policy reader's or your own enrolled key)"
	}
	return failf("%s", msg)
}

func (c *client) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	b, err := c.c.Get(ctx, path, q)
	return b, wrap(err)
}

func (c *client) Submit(ctx context.Context, jws []byte) (uint64, bool, []byte, error) {
	body, dup, err := c.c.Submit(ctx, jws)
	if err != nil {
		return 0, false, nil, wrap(err)
	}
	index, err := bundleIndex(body)
	if err != nil {
		return 0, false, nil, failf("the server's bundle does not parse: %w", err)
	}
	return index, dup, body, nil
}

func (c *client) Bundle(ctx context.Context, index uint64) ([]byte, error) {
	body, err := c.c.Bundle(ctx, index)
	if err != nil {
		return nil, wrap(err)
	}
	if _, err := verify.ParseBundle(body); err != nil {
		return nil, failf("the server's bundle does not parse: %w", err)
	}
	return body, nil
}

// Pledges follows /v1/pledges' cursors to the last page.
func (c *client) Pledges(ctx context.Context, scheme, id, date string) ([][]byte, error) {
	raws, err := c.c.Pledges(ctx, scheme, id, date)
	if err != nil {
		return nil, wrap(err)
	}
	out := make([][]byte, 0, len(raws))
	for _, raw := range raws {
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
	return out, nil
}

func (c *client) Consistency(ctx context.Context, from, to uint64) (uint64, [][]byte, error) {
	if to == 0 {
		size, err := c.c.Size(ctx)
		if err != nil {
			return 0, nil, wrap(err)
		}
		to = size
	}
	proof, err := c.c.Consistency(ctx, from, to)
	return to, proof, wrap(err)
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
