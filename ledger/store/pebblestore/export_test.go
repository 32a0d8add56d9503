package pebblestore

import "github.com/cockroachdb/pebble/v2"

// DB exposes the database to this package's external tests (metrics).
func (s *Store) DB() *pebble.DB { return s.db }

// TileMerger is the merger Open configures.
var TileMerger = tileMerger
