package market

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"golang.org/x/sync/singleflight"
)

// ReadCache is a cache shared by every node for public pages, with a generation per
// key (readcache implements it over Redis). Keys are "gig:{id or slug}",
// "profile:{username}" and "categories"; the database announces every change of what
// they show (migration 00048), and serve invalidates the keys it hears of.
type ReadCache interface {
	// Load returns the value stored under key (nil on a miss) and key's generation.
	Load(ctx context.Context, key string) (value []byte, gen string, err error)
	// Fill stores value under key for ttl unless key was invalidated since the Load
	// that returned gen; it reports whether it stored.
	Fill(ctx context.Context, key, gen string, value []byte, ttl time.Duration) (bool, error)
	// Invalidate starts a new generation of each key.
	Invalidate(ctx context.Context, keys ...string) error
}

// The time a page stays in the read cache when no write invalidates it earlier. They
// equal the pages' Cache-Control max-age, so the shared cache never keeps a page longer
// than a browser or CDN may, and they bound what no invalidation reaches: the seller
// stats of a profile (orders and chats change them) and its last_seen_at.
const (
	ReadCacheGigTTL        = 60 * time.Second
	ReadCacheProfileTTL    = 30 * time.Second
	ReadCacheCategoriesTTL = 5 * time.Minute
)

// readThrough answers hot public reads from a ReadCache: a hit is decoded from the JSON
// the API shows (fields the API leaves out are carried beside it, see gigPage), a miss is
// loaded once per key and generation on this node (concurrent misses share one
// database read) and stored if still current. A nil cache, or one that fails, leaves
// every read to load. Reads through memoRead also keep what they decoded (readMemo).
type readThrough struct {
	cache  ReadCache // nil: no cache
	flight singleflight.Group
	memo   readMemo
	log    *slog.Logger
}

// cachedRead returns key's value from rt's cache or from load. load reports whether
// what it read may be cached (public pages only); its error is returned as is.
func cachedRead[T any](ctx context.Context, rt *readThrough, key string, ttl time.Duration, load func(context.Context) (T, bool, error)) (T, error) {
	v, _, err := readThroughValue(ctx, rt, key, ttl, load, false)
	return v, err
}

// memoRead is cachedRead for values this node keeps decoded (readMemo): a hit whose
// bytes equal the ones decoded last for key returns the value decoded then, without
// decoding, and the value's ReadMemo (nil when nothing is cached: no cache, Redis
// down, or not cacheable). The value is shared by every reader of those bytes: the
// caller must not modify what it holds (copy the struct, replace fields).
func memoRead[T any](ctx context.Context, rt *readThrough, key string, ttl time.Duration, load func(context.Context) (T, bool, error)) (T, *ReadMemo, error) {
	return readThroughValue(ctx, rt, key, ttl, load, true)
}

// memoized is what a flight of readThroughValue shares: the value and its memo.
type memoized struct {
	value any
	memo  *ReadMemo
}

func readThroughValue[T any](ctx context.Context, rt *readThrough, key string, ttl time.Duration, load func(context.Context) (T, bool, error), keep bool) (T, *ReadMemo, error) {
	if rt == nil || rt.cache == nil {
		v, _, err := load(ctx)
		return v, nil, err
	}
	raw, gen, err := rt.cache.Load(ctx, key)
	if err != nil {
		rt.log.WarnContext(ctx, "read cache unavailable", "key", key, "err", err)
		v, _, err := load(ctx)
		return v, nil, err
	}
	var v T
	if raw != nil {
		if keep {
			if e := rt.memo.get(key, raw); e != nil {
				if v, ok := e.value.(T); ok {
					return v, e.memo, nil
				}
			}
		}
		if json.Unmarshal(raw, &v) == nil {
			var memo *ReadMemo
			if keep {
				memo = rt.memo.keep(key, raw, v)
			}
			return v, memo, nil
		}
		v = *new(T)
	}
	// The flight is per generation: a reader that arrives after an invalidation never
	// joins a database read that began before it.
	shared, err, _ := rt.flight.Do(key+"\x00"+gen, func() (any, error) {
		v, cacheable, err := load(ctx)
		out := memoized{value: v}
		if err == nil && cacheable {
			if raw, stored := rt.fill(ctx, key, gen, v, ttl); stored && keep {
				out.memo = rt.memo.keep(key, raw, v)
			}
		}
		return out, err
	})
	if err != nil {
		return v, nil, err
	}
	m := shared.(memoized)
	return m.value.(T), m.memo, nil
}

// fill stores v under key if key is still at generation gen, and returns the bytes it
// stored; failures are only logged.
func (rt *readThrough) fill(ctx context.Context, key, gen string, v any, ttl time.Duration) ([]byte, bool) {
	raw, err := json.Marshal(v)
	stored := false
	if err == nil {
		stored, err = rt.cache.Fill(ctx, key, gen, raw, ttl)
	}
	if err != nil {
		rt.log.WarnContext(ctx, "read cache fill failed", "key", key, "err", err)
	}
	return raw, stored
}

// invalidate starts new generations of keys, as a writer does after its commit so that
// its own next read sees the write even before the database's notice arrives.
func (rt *readThrough) invalidate(ctx context.Context, keys ...string) {
	if rt == nil || rt.cache == nil {
		return
	}
	if err := rt.cache.Invalidate(ctx, keys...); err != nil {
		rt.log.WarnContext(ctx, "read cache invalidation failed", "keys", keys, "err", err)
	}
}
