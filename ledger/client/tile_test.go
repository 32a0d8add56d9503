package client

import (
	"strings"
	"testing"
)

func TestTilePaths(t *testing.T) {
	for _, tt := range []struct {
		tile Tile
		path string
	}{
		{Tile{Index: 0, Width: 256}, "tile/0/000"},
		{Tile{Level: 1, Index: 1, Width: 17}, "tile/1/001.p/17"},
		{Tile{Entries: true, Index: 999, Width: 256}, "tile/entries/999"},
		{Tile{Index: 1000, Width: 256}, "tile/0/x001/000"},
		{Tile{Level: 63, Index: 1234067, Width: 8}, "tile/63/x001/x234/067.p/8"},
		{Tile{Entries: true, Index: 18446744073709551615, Width: 1}, "tile/entries/x018/x446/x744/x073/x709/x551/615.p/1"},
	} {
		if got := tt.tile.Path(); got != tt.path {
			t.Errorf("%+v.Path() = %s, want %s", tt.tile, got, tt.path)
		}
		for _, p := range []string{tt.path, "/" + tt.path} {
			if got, err := ParseTilePath(p); err != nil || got != tt.tile {
				t.Errorf("ParseTilePath(%s) = %+v, %v", p, got, err)
			}
		}
	}
	for _, bad := range []string{"tile/0", "tile/64/000", "tile/00/000", "tile/0/0", "tile/0/x000/001", "tile/0/001/000",
		"tile/0/000.p/256", "tile/0/000.p/0", "tile/0/000.p/017", "tile/data/000", "tiles/0/000", "tile/entries/000.p/",
		"tile/0/x018/x446/x744/x073/x709/x551/616"} {
		if _, err := ParseTilePath(bad); err == nil || !strings.HasPrefix(err.Error(), "client: malformed tile path") {
			t.Errorf("ParseTilePath(%s): %v", bad, err)
		}
	}
}
