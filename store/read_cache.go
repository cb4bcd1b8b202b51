package store

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
)

// ReadCacheChannel is the NOTIFY channel on which the database announces, at commit,
// the read-cache keys a transaction made stale (migration 00048).
const ReadCacheChannel = "gigstream_read_cache"

// readCacheBatch is how many keys ListenReadCache hands over at most in one call.
const readCacheBatch = 256

// ReadCacheListener is told what ListenReadCache hears: the read cache's invalidation,
// and the search engine (GigSearch), which trusts the notices while they are heard.
type ReadCacheListener interface {
	// Stale is given the keys announced together; its error is logged.
	Stale(ctx context.Context, keys ...string) error
	// Listening is told true once notices are heard (again: those sent while the
	// connection was down are lost) and false when the connection is lost.
	Listening(on bool)
}

// ReadCacheInvalidator is a ReadCacheListener that only invalidates (a cache's
// Invalidate), whatever the connection's state.
type ReadCacheInvalidator func(ctx context.Context, keys ...string) error

// Stale implements ReadCacheListener.
func (f ReadCacheInvalidator) Stale(ctx context.Context, keys ...string) error {
	return f(ctx, keys...)
}

// Listening implements ReadCacheListener; an invalidator need not know.
func (ReadCacheInvalidator) Listening(bool) {}

// ListenReadCache listens on ReadCacheChannel with a connection of its own (from url)
// until ctx ends, and tells each listener the keys announced, a batch at a time (keys
// that arrive together go together), in the order given. A lost connection is
// reconnected; what was announced meanwhile is lost, which the caches' TTLs bound,
// and is logged; listeners hear Listening(false) when it is lost and Listening(true)
// once it listens (again). It returns an error only when url cannot be used at all.
func ListenReadCache(ctx context.Context, url string, log *slog.Logger, listeners ...ReadCacheListener) error {
	var connected, listened atomic.Bool // the first connection may come before or after Listen returns
	l := pq.NewListener(url, time.Second, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventConnected:
			connected.Store(true)
			if listened.Load() {
				tellListening(listeners, true)
			}
		case pq.ListenerEventReconnected: // the channel is listened to again
			connected.Store(true)
			tellListening(listeners, true)
		case pq.ListenerEventDisconnected:
			connected.Store(false)
			tellListening(listeners, false)
		}
		if ev == pq.ListenerEventConnectionAttemptFailed || ev == pq.ListenerEventDisconnected {
			log.Warn("read cache: notifications unavailable, cached pages expire by TTL only", "err", err)
		}
	})
	defer l.Close()
	defer tellListening(listeners, false)
	if err := l.Listen(ReadCacheChannel); err != nil {
		return fmt.Errorf("listen %s: %w", ReadCacheChannel, err)
	}
	listened.Store(true)
	if connected.Load() {
		tellListening(listeners, true)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-l.Notify:
			keys := drainReadCacheKeys(n, l.Notify)
			if len(keys) == 0 {
				continue // a reconnection: the event told the listeners
			}
			for _, to := range listeners {
				if err := to.Stale(ctx, keys...); err != nil {
					log.Warn("read cache: invalidation failed", "keys", len(keys), "err", err)
				}
			}
		}
	}
}

func tellListening(listeners []ReadCacheListener, on bool) {
	for _, to := range listeners {
		to.Listening(on)
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
