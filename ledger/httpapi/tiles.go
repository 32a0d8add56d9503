package httpapi

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/ledger/client"
)

// Cache-Control values.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cachePartial    = "public, max-age=60"
	cacheCheckpoint = "no-cache"
)

// tilePath is a parsed C2SP tlog-tiles path: <N>[.p/<W>].
type tilePath struct {
	index uint64
	width int // 256 for a full tile
}

// maxTileIndex is the largest tile index whose entries have uint64 indexes:
// an index above it is past any tree.
const maxTileIndex = math.MaxUint64 >> 8

// parseTileLevel parses <L>: a decimal 0 to 63 with no leading zeros.
func parseTileLevel(s string) (uint8, bool) {
	n, ok := parseDecimal(s)
	if !ok || n > 63 {
		return 0, false
	}
	return uint8(n), true
}

// parseTileIndex parses the <N>[.p/<W>] part of a tile path strictly
// (client.ParseTileIndex: the one place that knows the spelling).
func parseTileIndex(s string) (tilePath, bool) {
	index, width, ok := client.ParseTileIndex(s)
	return tilePath{index: index, width: width}, ok
}

// parseDecimal parses a canonical unsigned decimal (client.ParseDecimal:
// the client and the server spell numbers the one same way).
func parseDecimal(s string) (uint64, bool) { return client.ParseDecimal(s) }

func tileNotFound(path string) *httpError {
	return &httpError{status: http.StatusNotFound, msg: "tile " + path + " is past the log's tree"}
}

func malformedTile(path string) *httpError {
	return badRequest("malformed tile path " + path + ": want tile/<L>/<N>[.p/<W>] as C2SP tlog-tiles spells it (e.g. tile/0/x001/x234/067.p/8)")
}

// getHashTile serves GET /tile/{level}/{index...}.
func (h *Handler) getHashTile(w http.ResponseWriter, r *http.Request) error {
	level, ok := parseTileLevel(r.PathValue("level"))
	if !ok {
		return malformedTile(r.URL.Path)
	}
	tp, ok := parseTileIndex(r.PathValue("index"))
	if !ok {
		return malformedTile(r.URL.Path)
	}
	if tp.index > maxTileIndex {
		return tileNotFound(r.URL.Path)
	}
	b, err := h.l.HashTile(r.Context(), level, tp.index, tp.width)
	if err != nil {
		return err
	}
	writeTile(w, tp, b, "", false)
	return nil
}

// getEntryBundle serves GET /tile/entries/{index...}, gzipped for clients
// that accept it: a restricted read for policy readers only (one tile names
// up to 256 people), recorded for every person it names.
func (h *Handler) getEntryBundle(w http.ResponseWriter, r *http.Request) error {
	rd, err := h.restricted(w, r)
	if err != nil {
		return err
	}
	if rd != nil && rd.policyReader == nil {
		return forbidden(fmt.Sprintf("%s may not read entry tiles: one holds up to 256 people, so only the policy's readers (auditor, supervisor) read them; hash tiles and checkpoints are public", rd.name()))
	}
	tp, ok := parseTileIndex(r.PathValue("index"))
	if !ok {
		return malformedTile(r.URL.Path)
	}
	if tp.index > maxTileIndex {
		return tileNotFound(r.URL.Path)
	}
	b, err := h.l.EntryBundle(r.Context(), tp.index, tp.width)
	if err != nil {
		return err
	}
	if rd != nil {
		var people []ledger.PersonRef
		for i := range uint64(tp.width) {
			ps, err := h.l.PeopleOf(r.Context(), tp.index*256+i)
			if err != nil {
				return err
			}
			for _, p := range ps {
				people = append(people, ledger.PersonRef{Scheme: p.Scheme, ID: p.ID})
			}
		}
		if err := h.recordRead(r.Context(), rd, people); err != nil {
			return err
		}
	}
	w.Header().Add("Vary", "Accept-Encoding")
	encoding := ""
	if acceptsGzip(r.Header.Values("Accept-Encoding")) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		if err := zw.Close(); err != nil {
			return err
		}
		b, encoding = buf.Bytes(), "gzip"
	}
	writeTile(w, tp, b, encoding, rd != nil)
	return nil
}

// readCache is the Cache-Control of a restricted read's answer: private,
// so that no shared cache keeps it for the next caller, unless it was a
// public read (Options.PublicEntries).
func readCache(rd *reader, value string) string {
	if rd == nil {
		return value
	}
	return value + ", private"
}

func writeTile(w http.ResponseWriter, tp tilePath, b []byte, encoding string, private bool) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/octet-stream")
	hdr.Set("Content-Length", strconv.Itoa(len(b)))
	if encoding != "" {
		hdr.Set("Content-Encoding", encoding)
	}
	cc := cachePartial
	if tp.width == 256 {
		cc = cacheImmutable
	}
	if private {
		cc = strings.Replace(cc, "public", "private", 1)
	}
	hdr.Set("Cache-Control", cc)
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// acceptsGzip reports whether Accept-Encoding allows gzip: named with a
// q-value above 0, or covered by "*" with one, and not refused by name.
func acceptsGzip(values []string) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(part, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
					if err != nil || f < 0 || f > 1 {
						f = 0
					}
					q = f
				}
			}
			switch name {
			case "gzip", "x-gzip":
				gzipQ = max(gzipQ, q)
			case "*":
				starQ = max(starQ, q)
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}

// getCheckpoint serves GET /checkpoint.
func (h *Handler) getCheckpoint(w http.ResponseWriter, r *http.Request) error {
	signed, _ := h.l.Checkpoint()
	hdr := w.Header()
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("Content-Length", strconv.Itoa(len(signed)))
	hdr.Set("Cache-Control", cacheCheckpoint)
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(signed)
	return nil
}
