package main

import (
	"context"
	"log/slog"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/readcache"
	"github.com/gigstream/hub/store"
)

// listenReadCache invalidates the read cache's keys the database announces (every node
// listens, so a page goes stale everywhere even while one node is reconnecting) until
// ctx ends. The search hears them first: it needs no Redis round trip.
func listenReadCache(ctx context.Context, cfg config, cache *readcache.Redis, search *store.GigSearch, log *slog.Logger) {
	log = log.With("component", "read_cache")
	if err := store.ListenReadCache(ctx, string(cfg.DatabaseURL), log, search, store.ReadCacheInvalidator(cache.Invalidate)); err != nil {
		log.Error("read cache: not listening, cached pages expire by TTL only", "err", err)
	}
}

// searchedReadCache is the read cache as the use cases see it: the keys their writes
// make stale, which they invalidate right after the commit, also reach this node's
// search, so a seller's next search sees their edit before the database's notice has
// come back.
type searchedReadCache struct {
	market.ReadCache
	search *store.GigSearch
}

// Invalidate tells the search, then starts new generations of keys in the cache.
func (c searchedReadCache) Invalidate(ctx context.Context, keys ...string) error {
	_ = c.search.Stale(ctx, keys...) // never fails
	return c.ReadCache.Invalidate(ctx, keys...)
}
