package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/pakta-id/pakta/verify"
)

// sumdbClient reads the log over HTTP with nothing of pakta's but the
// paths: golang.org/x/mod/sumdb checks the checkpoint and every tile.
type sumdbClient struct {
	t    *testing.T
	url  string
	http *http.Client
	// auth, when set, signs the reads of entry tiles (a policy reader's);
	// without it the client is a public reader.
	auth func(path string) string
}

// fetch GETs a path and fails the test on anything but 200.
func (c sumdbClient) fetch(path string) []byte {
	c.t.Helper()
	b, status := c.try(path)
	if status != http.StatusOK {
		c.t.Fatalf("GET /%s: %d %s", path, status, b)
	}
	return b
}

// try GETs a path and returns the body and status.
func (c sumdbClient) try(path string) ([]byte, int) {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.url+"/"+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.auth != nil && strings.HasPrefix(path, "tile/entries/") {
		req.Header.Set("Authorization", "PaktaSig "+c.auth("/"+path))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return b, resp.StatusCode
}

// c2spPath maps a tlog tile path (tile/8/L/N[.p/W], tile/8/data/N[.p/W])
// to C2SP tlog-tiles (tile/L/N[.p/W], tile/entries/N[.p/W]): the same
// encoding of N and W, without the height.
func c2spPath(t tlog.Tile) string {
	p, ok := strings.CutPrefix(t.Path(), "tile/8/")
	if t.H != 8 || !ok {
		panic("unexpected tile " + t.Path())
	}
	if rest, ok := strings.CutPrefix(p, "data/"); ok {
		return "tile/entries/" + rest
	}
	return "tile/" + p
}

// The tlog.TileReader of the log over HTTP.
func (c sumdbClient) Height() int { return 8 }
func (c sumdbClient) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		out[i] = c.fetch(c2spPath(t))
	}
	return out, nil
}
func (c sumdbClient) SaveTiles([]tlog.Tile, [][]byte) {}

// tree fetches /checkpoint and opens it with note, as any client would.
func (c sumdbClient) tree(verifierKey string) tlog.Tree {
	c.t.Helper()
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		c.t.Fatal(err)
	}
	n, err := note.Open(c.fetch("checkpoint"), note.VerifierList(v))
	if err != nil {
		c.t.Fatal(err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[0] != testOrigin || lines[3] != "" {
		c.t.Fatalf("checkpoint text %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		c.t.Fatal(err)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		c.t.Fatalf("root %q: %v", lines[2], err)
	}
	var tree tlog.Tree
	tree.N = size
	copy(tree.Hash[:], root)
	return tree
}

// record fetches entry i from its entry bundle.
func (c sumdbClient) record(tree tlog.Tree, i int64) []byte {
	c.t.Helper()
	tile := tlog.TileForIndex(8, tlog.StoredHashIndex(0, i))
	tile.L = -1 // the entries ("data") tile at level 0
	b := c.fetch(c2spPath(tile))
	for j := tile.N * 256; len(b) > 0; j++ {
		n := int(binary.BigEndian.Uint16(b))
		if j == i {
			return b[2 : 2+n]
		}
		b = b[2+n:]
	}
	c.t.Fatalf("entry %d is not in %s", i, c2spPath(tile))
	return nil
}

// TestInteropWithSumdb: a client built from golang.org/x/mod/sumdb alone
// verifies the checkpoint, the tiles (TileHashReader checks every tile it
// reads against the signed root), inclusion of entries read from entry
// bundles, and consistency between two checkpoints; and pakta's own proofs
// agree with tlog's byte for byte.
func TestInteropWithSumdb(t *testing.T) {
	e := newEnv(t, nil, Options{})
	c := sumdbClient{t: t, url: e.srv.URL, http: e.srv.Client(), auth: func(path string) string { return e.readToken(e.Supervisor, path) }}

	e.appendMany(0, 300)
	old := c.tree(e.VKey)
	e.appendMany(300, 400)
	tree := c.tree(e.VKey)
	if old.N != 300 || tree.N != 700 {
		t.Fatalf("sizes %d, %d", old.N, tree.N)
	}
	hr := tlog.TileHashReader(tree, c)

	for _, i := range []int64{0, 1, 255, 256, 299, 300, 511, 512, 513, 698, 699} {
		entry := c.record(tree, i)
		proof, err := tlog.ProveRecord(tree.N, i, hr)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if err := tlog.CheckRecord(proof, tree.N, tree.Hash, i, tlog.RecordHash(entry)); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		// The bundle's tlog-proof is the same audit path under the same
		// checkpoint.
		bundle := e.get(fmt.Sprintf("/v1/entries/%d", i)).body
		b, err := verify.ParseBundle(bundle)
		if err != nil {
			t.Fatal(err)
		}
		p, err := verify.ParseProof([]byte(b.Proof))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Entry, entry) || len(p.Hashes) != len(proof) {
			t.Fatalf("bundle %d: entry or proof length differs", i)
		}
		for k := range proof {
			if p.Hashes[k] != [32]byte(proof[k]) {
				t.Fatalf("bundle %d: proof hash %d differs from tlog's", i, k)
			}
		}
	}

	// Consistency between the two checkpoints, by tlog, and as served.
	tp, err := tlog.ProveTree(tree.N, old.N, hr)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckTree(tp, tree.N, tree.Hash, old.N, old.Hash); err != nil {
		t.Fatal(err)
	}
	var served struct {
		From  int64    `json:"from"`
		To    int64    `json:"to"`
		Proof []string `json:"proof"`
	}
	if err := json.Unmarshal(c.fetch(fmt.Sprintf("v1/proof/consistency?from=%d&to=%d", old.N, tree.N)), &served); err != nil {
		t.Fatal(err)
	}
	if len(served.Proof) != len(tp) {
		t.Fatalf("served consistency proof has %d hashes, tlog %d", len(served.Proof), len(tp))
	}
	for k, s := range served.Proof {
		if s != base64.StdEncoding.EncodeToString(tp[k][:]) {
			t.Fatalf("consistency hash %d differs from tlog's", k)
		}
	}
	// The old tree's tiles (partial tiles of an earlier signed size) are
	// still served and still hash to the old root.
	if h, err := tlog.TreeHash(old.N, tlog.TileHashReader(old, c)); err != nil || h != old.Hash {
		t.Fatalf("old tree hash %v, %v", h, err)
	}
	if h, err := tlog.TreeHash(tree.N, hr); err != nil || h != tree.Hash {
		t.Fatalf("tree hash %v, %v", h, err)
	}
}

// TestPublicReaderWithSumdb: without any credentials, a client built from
// golang.org/x/mod/sumdb alone checks the checkpoints, every hash tile and
// the consistency of two checkpoints, and is refused every entry tile.
func TestPublicReaderWithSumdb(t *testing.T) {
	e := newEnv(t, nil, Options{})
	c := sumdbClient{t: t, url: e.srv.URL, http: e.srv.Client()}
	e.appendMany(0, 300)
	old := c.tree(e.VKey)
	e.appendMany(300, 600)
	tree := c.tree(e.VKey)
	hr := tlog.TileHashReader(tree, c)
	tp, err := tlog.ProveTree(tree.N, old.N, hr)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckTree(tp, tree.N, tree.Hash, old.N, old.Hash); err != nil {
		t.Fatal(err)
	}
	// Every hash tile of the tree, each checked by tlog against the root.
	for _, tile := range tlog.NewTiles(8, 0, tree.N) {
		if _, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(tile.L*8, tile.N*256+int64(tile.W)-1)}); err != nil {
			t.Fatalf("tile %s: %v", tile.Path(), err)
		}
	}
	if h, err := tlog.TreeHash(tree.N, hr); err != nil || h != tree.Hash {
		t.Fatalf("tree hash %v, %v", h, err)
	}
	for _, path := range []string{"tile/entries/000", "tile/entries/001.p/44", "tile/entries/002.p/88"} {
		if b, status := c.try(path); status != http.StatusUnauthorized || !bytes.Contains(b, []byte("PaktaSig")) {
			t.Errorf("GET /%s without credentials: %d %s", path, status, b)
		}
	}
}
