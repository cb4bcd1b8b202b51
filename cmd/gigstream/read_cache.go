package main

import (
	"context"
	"log/slog"

	"github.com/gigstream/hub/readcache"
	"github.com/gigstream/hub/store"
)

// listenReadCache invalidates the read cache's keys the database announces (every node
// listens, so a page goes stale everywhere even while one node is reconnecting) until
// ctx ends.
func listenReadCache(ctx context.Context, cfg config, cache *readcache.Redis, log *slog.Logger) {
	log = log.With("component", "read_cache")
	if err := store.ListenReadCache(ctx, string(cfg.DatabaseURL), cache.Invalidate, log); err != nil {
		log.Error("read cache: not listening, cached pages expire by TTL only", "err", err)
	}
}
