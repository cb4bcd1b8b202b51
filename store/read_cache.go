package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/lib/pq"
)

// ReadCacheChannel is the NOTIFY channel on which the database announces, at commit,
// the read-cache keys a transaction made stale (migration 00048).
const ReadCacheChannel = "gigstream_read_cache"

// readCacheBatch is how many keys ListenReadCache hands over at most in one call.
const readCacheBatch = 256

// ListenReadCache listens on ReadCacheChannel with a connection of its own (from url)
// until ctx ends, and calls invalidate with the keys announced, a batch at a time
// (keys that arrive together go together). A lost connection is reconnected; what was
// announced meanwhile is lost, which the caches' TTLs bound, and is logged. It returns
// an error only when url cannot be used at all.
func ListenReadCache(ctx context.Context, url string, invalidate func(context.Context, ...string) error, log *slog.Logger) error {
	l := pq.NewListener(url, time.Second, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		if ev == pq.ListenerEventConnectionAttemptFailed || ev == pq.ListenerEventDisconnected {
			log.Warn("read cache: notifications unavailable, cached pages expire by TTL only", "err", err)
		}
	})
	defer l.Close()
	if err := l.Listen(ReadCacheChannel); err != nil {
		return fmt.Errorf("listen %s: %w", ReadCacheChannel, err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-l.Notify:
			keys := drainReadCacheKeys(n, l.Notify)
			if len(keys) == 0 {
				continue // a reconnection: nothing to tell
			}
			if err := invalidate(ctx, keys...); err != nil {
				log.Warn("read cache: invalidation failed", "keys", len(keys), "err", err)
			}
		}
	}
}

// drainReadCacheKeys returns the key of first and of every notification already waiting
// behind it, up to readCacheBatch, without waiting for more.
func drainReadCacheKeys(first *pq.Notification, more <-chan *pq.Notification) []string {
	keys := make([]string, 0, 8)
	for n := first; ; {
		if n != nil {
			keys = append(keys, n.Extra)
		}
		if len(keys) >= readCacheBatch {
			return keys
		}
		select {
		case n = <-more:
		default:
			return keys
		}
	}
}
