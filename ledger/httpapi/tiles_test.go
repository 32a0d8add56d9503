package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

func TestParseTileIndex(t *testing.T) {
	good := []struct {
		path  string
		index uint64
		width int
	}{
		{"000", 0, 256},
		{"001", 1, 256},
		{"999", 999, 256},
		{"x001/000", 1000, 256},
		{"x001/x234/067", 1234067, 256},
		{"x001/x234/067.p/8", 1234067, 8},
		{"000.p/1", 0, 1},
		{"000.p/255", 0, 255},
		{"x018/x446/x744/x073/x709/x551/615", 18446744073709551615, 256},
	}
	for _, tt := range good {
		tp, ok := parseTileIndex(tt.path)
		if !ok || tp.index != tt.index || tp.width != tt.width {
			t.Errorf("parseTileIndex(%q) = %+v, %v; want %d width %d", tt.path, tp, ok, tt.index, tt.width)
		}
	}
	bad := []string{
		"", "0", "00", "0000", "1", "01", "x001", "001/000", "x001/x000", "x000/001", "x000/x001/002",
		"x001/01", "x01/001", "X001/000", "x001/00a", "-01", "+01", " 01", "001 ", "0x1",
		"000.p", "000.p/", "000.p/0", "000.p/256", "000.p/07", "000.p/+7", "000.p/ 7", "000.p/7/8",
		"000.p/8.p/8", "x001.p/8", "000/.p/8", "000.P/8", ".p/8", "000.p/00",
		"x018/x446/x744/x073/x709/x551/616",      // 2^64
		"x001/x018/x446/x744/x073/x709/x551/615", // eight elements
		"001/", "/001", "x001//000",
	}
	for _, p := range bad {
		if tp, ok := parseTileIndex(p); ok {
			t.Errorf("parseTileIndex(%q) = %+v, want malformed", p, tp)
		}
	}
	for _, l := range []string{"", "00", "01", "64", "-1", "+1", "1 ", "x1", "entries1"} {
		if _, ok := parseTileLevel(l); ok {
			t.Errorf("parseTileLevel(%q) ok", l)
		}
	}
	for _, l := range []string{"0", "1", "9", "10", "63"} {
		if _, ok := parseTileLevel(l); !ok {
			t.Errorf("parseTileLevel(%q) malformed", l)
		}
	}
}

func FuzzParseTileIndex(f *testing.F) {
	for _, s := range []string{"000", "x001/x234/067.p/8", "x000/001", "000.p/256"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tp, ok := parseTileIndex(s)
		if !ok {
			return
		}
		// A parsed path is the canonical spelling of its index and width.
		if got := tileIndexPath(tp); got != s {
			t.Fatalf("parseTileIndex(%q) = %+v, which is spelled %q", s, tp, got)
		}
	})
}

// tileIndexPath spells a tile index as C2SP tlog-tiles does.
func tileIndexPath(tp tilePath) string {
	n := tp.index
	s := ""
	for {
		part := string([]byte{byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)})
		if s == "" {
			s = part
		} else {
			s = "x" + part + "/" + s
		}
		n /= 1000
		if n == 0 {
			break
		}
	}
	if tp.width < 256 {
		s += ".p/" + itoa(tp.width)
	}
	return s
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestAcceptsGzip(t *testing.T) {
	for _, tt := range []struct {
		header string
		want   bool
	}{
		{"", false}, {"gzip", true}, {"GZIP", true}, {"gzip, deflate, br", true}, {"br;q=1.0, gzip;q=0.8", true},
		{"gzip;q=0", false}, {"gzip; q=0.000", false}, {"*", true}, {"*;q=0", false}, {"*, gzip;q=0", false},
		{"identity", false}, {"x-gzip", true}, {"gzip;q=abc", false}, {"deflate", false},
	} {
		var values []string
		if tt.header != "" {
			values = []string{tt.header}
		}
		if got := acceptsGzip(values); got != tt.want {
			t.Errorf("acceptsGzip(%q) = %v", tt.header, got)
		}
	}
}

// appendMany appends n enrollments through the library, concurrently.
func (e *env) appendMany(start, n int) [][]byte {
	e.t.Helper()
	jwss := make([][]byte, n)
	for i := range jwss {
		_, raw, _ := ed25519.GenerateKey(rand.Reader)
		key, _ := pledge.NewPrivateKey(raw, "")
		jwss[i] = e.enrollment(person(start+i), key)
	}
	var wg sync.WaitGroup
	for _, jws := range jwss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.log.Append(context.Background(), jws); err != nil {
				e.t.Error(err)
			}
		}()
	}
	wg.Wait()
	return jwss
}

func TestTilesOverHTTP(t *testing.T) {
	e := newEnv(t, nil, Options{})
	e.appendMany(0, 300)
	if cp := e.checkpoint(); cp.Size != 300 {
		t.Fatalf("size %d", cp.Size)
	}
	for _, tt := range []struct {
		path   string
		status int
		size   int
		cache  string
	}{
		{"/tile/0/000", 200, 256 * 32, cacheImmutable},
		{"/tile/0/000.p/17", 200, 17 * 32, cachePartial}, // an earlier size's partial tile
		{"/tile/0/001.p/44", 200, 44 * 32, cachePartial},
		{"/tile/1/000.p/1", 200, 32, cachePartial},
		{"/tile/0/001", 404, 0, ""},      // not full yet
		{"/tile/0/001.p/45", 404, 0, ""}, // past the tree
		{"/tile/0/002.p/1", 404, 0, ""},
		{"/tile/1/000", 404, 0, ""},
		{"/tile/2/000.p/1", 404, 0, ""},
		{"/tile/8/000.p/1", 404, 0, ""}, // a level the tree cannot have
		{"/tile/63/000.p/1", 404, 0, ""},
		{"/tile/0/x072/x057/x594/x037/x927/935", 404, 0, ""}, // the largest tile index
		{"/tile/0/x018/x446/x744/x073/x709/x551/615", 404, 0, ""},
		{"/tile/64/000", 400, 0, ""},
		{"/tile/00/000", 400, 0, ""},
		{"/tile/0/0", 400, 0, ""},
		{"/tile/0/x000/001", 400, 0, ""},
		{"/tile/0/001/000", 400, 0, ""},
		{"/tile/0/000.p/256", 400, 0, ""},
		{"/tile/0/000.p/0", 400, 0, ""},
		{"/tile/0/000.p/017", 400, 0, ""},
		{"/tile/0/", 400, 0, ""},
		{"/tile/0", 400, 0, ""},
		{"/tile/", 400, 0, ""},
		{"/tile/entries/000.p/0", 400, 0, ""},
		{"/tile/entries/x000/000", 400, 0, ""},
		{"/tile/entries/001", 404, 0, ""},
		{"/tile/entries/001.p/45", 404, 0, ""},
	} {
		r := e.get(tt.path)
		if tt.status != 200 {
			errorOf(t, r, tt.status)
			continue
		}
		if r.status != 200 || len(r.body) != tt.size {
			t.Errorf("%s: %d, %d bytes", tt.path, r.status, len(r.body))
			continue
		}
		if r.header.Get("Content-Type") != "application/octet-stream" || r.header.Get("Cache-Control") != tt.cache {
			t.Errorf("%s: headers %v", tt.path, r.header)
		}
	}
	// A partial tile is a prefix of the full one.
	full, part := e.get("/tile/0/000").body, e.get("/tile/0/000.p/17").body
	if !bytes.Equal(full[:len(part)], part) {
		t.Fatal("partial tile is not a prefix of the full tile")
	}
	// Level 0 hashes are the leaf hashes of the entries in the bundle.
	entries := e.entryBundle(t, "/tile/entries/001.p/44")
	tile := e.get("/tile/0/001.p/44").body
	if len(entries) != 44 {
		t.Fatalf("%d entries", len(entries))
	}
	for i, en := range entries {
		if h := verify.LeafHash(en); !bytes.Equal(h[:], tile[i*32:(i+1)*32]) {
			t.Fatalf("entry %d does not hash to its tile hash", 256+i)
		}
	}
	if en := e.entryBundle(t, "/tile/entries/000"); len(en) != 256 {
		t.Fatalf("full bundle: %d entries", len(en))
	}
	errorOf(t, e.do("POST", "/tile/0/000", "application/octet-stream", nil), 405)
}

// entryBundle fetches an entry bundle asking for gzip explicitly, checks the
// headers, and splits it.
func (e *env) entryBundle(t *testing.T, path string) [][]byte {
	t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("Authorization", "PaktaSig "+e.readToken(e.Supervisor, path))
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" || resp.Header.Get("Cache-Control")[:7] != "private" {
		t.Fatalf("%s: %d %v", path, resp.StatusCode, resp.Header)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	// Without gzip: the same bytes, uncompressed.
	plain := e.get(path, "Accept-Encoding", "identity")
	if plain.header.Get("Content-Encoding") != "" || !bytes.Equal(plain.body, b) {
		t.Fatalf("%s: identity and gzip differ", path)
	}
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			t.Fatal("truncated bundle")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			t.Fatal("truncated entry")
		}
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	return out
}
