package ledger

import (
	"sync"
	"sync/atomic"
)

// recentMap is a concurrent map that empties itself once it has taken
// more than its bound of values since it was last emptied: a cache of the
// recent past, bounded without bookkeeping per entry, for values the store
// still has. The zero value is ready to use; put takes the bound.
type recentMap[K comparable, V any] struct {
	m sync.Map // K → V
	n atomic.Int64
}

func (c *recentMap[K, V]) load(k K) (V, bool) {
	v, ok := c.m.Load(k)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

// put keeps v under k, after emptying the map if it has taken more than
// bound values since it was last emptied.
func (c *recentMap[K, V]) put(k K, v V, bound int64) {
	if c.n.Add(1) > bound {
		c.m.Clear()
		c.n.Store(0)
	}
	c.m.Store(k, v)
}
