package ledger

import (
	"sync"

	"github.com/pakta-id/pakta/ledger/store"
)

// rowCache keeps durable rows that the rules read for nearly every pledge
// and that the store would serve one point read at a time: the signer's key
// record (written by the enrollment a moment before, in an assembly), the
// template and the registrar's first use: three of a pledge's five row
// reads (BenchmarkAcceptPledge measures the rules with and without it).
//
// It only ever holds what is durable: rows enter when their batch has
// committed (cached writes, in commit order, the one writer at a time), or
// when a read from the store finds a row that never changes once written
// (templates, registrars). A row that may change (a key record, on
// revocation) is therefore never older here than in the store. It is
// bounded by bytes and emptied when full: it is a cache of the recent past,
// and the store has everything.
type rowCache struct {
	mu    sync.RWMutex
	rows  map[string][]byte
	bytes int
	max   int
}

// rowCacheBytes bounds a rowCache: key records are about a kilobyte, so
// some 16,000 recent enrollments.
const rowCacheBytes = 16 << 20

func newRowCache(max int) *rowCache { return &rowCache{rows: make(map[string][]byte), max: max} }

// cached reports whether rows with this key are kept.
func cached(key []byte) bool {
	return len(key) > 0 && (key[0] == rowKey || key[0] == rowTemplate || key[0] == rowRegistrar)
}

// immutable reports whether a row with this key never changes once
// written, so that a read of it from the store may be cached.
func immutable(key []byte) bool {
	return len(key) > 0 && (key[0] == rowTemplate || key[0] == rowRegistrar)
}

func (c *rowCache) get(key []byte) ([]byte, bool) {
	if c == nil || !cached(key) {
		return nil, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.rows[string(key)]
	return v, ok
}

// put keeps rows just made durable (a committed batch's), or a row read
// from the store.
func (c *rowCache) put(rows []store.Row) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range rows {
		if !cached(r.Key) {
			continue
		}
		if c.bytes > c.max {
			clear(c.rows)
			c.bytes = 0
		}
		old, had := c.rows[string(r.Key)]
		if had {
			c.bytes -= len(r.Key) + len(old)
		}
		c.rows[string(r.Key)] = r.Value
		c.bytes += len(r.Key) + len(r.Value)
	}
}
