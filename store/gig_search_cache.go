package store

import (
	"container/list"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gigstream/hub/market"
)

// resultCache keeps the latest results of this node's searches, keyed by the index's
// version and the filter: any change the index takes in, or that is heard of (a gig,
// its packages, media, seller or category, see GigSearch.Stale), starts a new version,
// so a hit is exactly what a search would find now. Each entry carries a
// market.SearchMemo for what the layers above make of it. Searches of online sellers
// are not kept (presence changes without the index knowing).
type resultCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]*list.Element
	order   *list.List // most recent first
	hits    atomic.Uint64
	misses  atomic.Uint64
}

type cached struct {
	key string
	res market.GigResults
}

func newResultCache(size int) *resultCache {
	return &resultCache{max: size, entries: map[string]*list.Element{}, order: list.New()}
}

// key is the cache key of f at version v; "" when f is not cached.
func cacheKey(v uint64, f market.GigFilter) string {
	if f.OnlineOnly {
		return ""
	}
	raw, _ := json.Marshal(f) // a filter of strings, numbers and a cursor always marshals
	return strconv.FormatUint(v, 10) + ":" + string(raw)
}

func (c *resultCache) get(key string) (market.GigResults, bool) {
	if key == "" || c.max <= 0 {
		return market.GigResults{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		c.misses.Add(1)
		return market.GigResults{}, false
	}
	c.hits.Add(1)
	c.order.MoveToFront(e)
	res := e.Value.(*cached).res
	if res.Memo.Page() == nil {
		res.Gigs = append([]market.Gig(nil), res.Gigs...) // callers attach media to their copy
	}
	return res, true
}

// put keeps res under key, with a new memo, and returns res with that memo.
func (c *resultCache) put(key string, res market.GigResults) market.GigResults {
	if key == "" || c.max <= 0 {
		return res
	}
	res.Memo = &market.SearchMemo{}
	out := res
	res.Gigs = append([]market.Gig(nil), res.Gigs...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		e.Value.(*cached).res = res
		c.order.MoveToFront(e)
		return out
	}
	c.entries[key] = c.order.PushFront(&cached{key: key, res: res})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.entries, last.Value.(*cached).key)
	}
	return out
}

// CacheStats are the result cache's hits and misses since start.
func (s *GigSearch) CacheStats() (hits, misses uint64) {
	return s.cache.hits.Load(), s.cache.misses.Load()
}
