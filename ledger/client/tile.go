package client

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Tile is a C2SP tlog-tiles tile: a hash tile of level Level, or with
// Entries an entry bundle; Index counts tiles from 0; Width is 1 to 256
// (256 is a full tile, anything less a partial one).
type Tile struct {
	Level   uint8
	Entries bool
	Index   uint64
	Width   int
}

// TileWidth is the width of a full tile.
const TileWidth = 256

// Path is the tile's path, as C2SP tlog-tiles spells it: tile/<L>/<N>, or
// tile/entries/<N>, with .p/<W> for a partial tile; N in 3-digit groups,
// all but the last prefixed with "x".
func (t Tile) Path() string {
	p := "tile/" + strconv.Itoa(int(t.Level)) + "/"
	if t.Entries {
		p = "tile/entries/"
	}
	p += TileIndexPath(t.Index)
	if t.Width < TileWidth {
		p += ".p/" + strconv.Itoa(t.Width)
	}
	return p
}

// TileIndexPath encodes a tile index as C2SP tlog-tiles does: groups of
// three digits, each but the last prefixed with "x".
func TileIndexPath(n uint64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		s = fmt.Sprintf("x%03d/%s", n%1000, s)
	}
	return s
}

// ParseTilePath parses a tile path (with or without a leading "/")
// strictly: the one spelling Path gives each tile, a level 0 to 63, a
// width 1 to 255 after .p/, and an index whose entries are below 2^64.
func ParseTilePath(path string) (Tile, error) {
	bad := func() (Tile, error) {
		return Tile{}, fmt.Errorf("client: malformed tile path %q: want tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>] as C2SP tlog-tiles spells it (e.g. tile/0/x001/x234/067.p/8)", path)
	}
	rest, ok := strings.CutPrefix(strings.TrimPrefix(path, "/"), "tile/")
	if !ok {
		return bad()
	}
	level, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return bad()
	}
	var t Tile
	if level == "entries" {
		t.Entries = true
	} else if n, ok := ParseDecimal(level); ok && n <= 63 {
		t.Level = uint8(n)
	} else {
		return bad()
	}
	index, width, ok := ParseTileIndex(rest)
	if !ok {
		return bad()
	}
	t.Index, t.Width = index, width
	return t, nil
}

// ParseTileIndex parses the <N>[.p/<W>] part of a tile path strictly: N in
// zero-padded 3-digit elements, all but the last prefixed with "x", and no
// leading all-zero element (so every index has exactly one path), below
// 2^64; W a decimal 1 to 255 with no leading zeros (256 when absent).
func ParseTileIndex(s string) (index uint64, width int, ok bool) {
	elems := strings.Split(s, "/")
	width = TileWidth
	if n := len(elems); n >= 2 && strings.HasSuffix(elems[n-2], ".p") {
		w, ok := ParseDecimal(elems[n-1])
		if !ok || w < 1 || w > 255 {
			return 0, 0, false
		}
		width = int(w)
		elems[n-2] = strings.TrimSuffix(elems[n-2], ".p")
		elems = elems[:n-1]
	}
	// 2^64 has 20 digits: at most 7 elements.
	if len(elems) == 0 || len(elems) > 7 {
		return 0, 0, false
	}
	for i, e := range elems {
		if i < len(elems)-1 {
			if !strings.HasPrefix(e, "x") {
				return 0, 0, false
			}
			e = e[1:]
			if i == 0 && e == "000" {
				return 0, 0, false
			}
		}
		if len(e) != 3 || !isDigits(e) {
			return 0, 0, false
		}
		d, _ := strconv.ParseUint(e, 10, 64)
		if index > (math.MaxUint64-d)/1000 {
			return 0, 0, false
		}
		index = index*1000 + d
	}
	return index, width, true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseDecimal parses a canonical unsigned decimal, as pakta's paths and
// queries spell numbers (entry indexes, tree sizes, limits, tile widths):
// digits only, no sign, no leading zeros, no spaces, at most 2^64−1.
func ParseDecimal(s string) (uint64, bool) {
	if s == "" || len(s) > 20 || !isDigits(s) || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}
