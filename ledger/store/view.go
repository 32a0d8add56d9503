package store

import "context"

// TileViewer is implemented by engines that can lend a stored tile without
// copying it. A proof reads two rows of the lower levels to compute its
// nodes there, and drops them: the copies Tile makes (8 KiB each) were
// garbage from the moment they were made. The ledger falls back to Tile
// for engines without it.
type TileViewer interface {
	// ViewTile calls fn with what Tile would return for (level, index,
	// width), or returns Tile's error without calling fn. The slice is
	// the engine's: valid only during the call, and fn must not modify
	// it. If fn returns an error, ViewTile returns that error unwrapped.
	ViewTile(ctx context.Context, level uint8, index uint64, width int, fn func(hashes []byte) error) error
}
