package readcache

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// GenerationTTL is how long a key's generation is kept after its latest invalidation:
// far longer than any value lives or any read takes, so a generation never goes back
// to an earlier number while a reader holding that number may still store.
const GenerationTTL = time.Hour

// Redis is the shared read cache over a Redis client (single node or Cluster).
type Redis struct {
	rdb      redis.UniversalClient
	prefix   string
	requests *prometheus.CounterVec
}

// Config configures NewRedis; the zero value of each field is its documented default.
type Config struct {
	// Client is the Redis connection (required).
	Client redis.UniversalClient
	// Prefix starts every Redis key of the cache; default "rc". Deployments (or tests)
	// that share one Redis set their own.
	Prefix string
	// Registerer receives gigstream_read_cache_requests_total{kind,result}; nil
	// registers nothing.
	Registerer prometheus.Registerer
}

// NewRedis returns the read cache over cfg.Client. It returns an error when Client is
// nil or the metric cannot be registered.
func NewRedis(cfg Config) (*Redis, error) {
	if cfg.Client == nil {
		return nil, errors.New("readcache: a Redis client is required")
	}
	if strings.ContainsAny(cfg.Prefix, "{}") {
		return nil, fmt.Errorf("readcache: prefix %q has a brace, which would break the keys' hash tags", cfg.Prefix)
	}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gigstream_read_cache_requests_total",
		Help: "Reads of the shared read cache by kind of page (gig, profile, categories) and result (hit, miss, error).",
	}, []string{"kind", "result"})
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(requests); err != nil {
			return nil, fmt.Errorf("readcache: register metrics: %w", err)
		}
	}
	return &Redis{rdb: cfg.Client, prefix: cmp.Or(cfg.Prefix, "rc"), requests: requests}, nil
}

// keys returns the Redis keys of key's generation and value, in one slot.
func (r *Redis) keys(key string) (gen, value string) {
	tag := r.prefix + ":{" + key + "}"
	return tag + ":g", tag + ":v"
}

// kind is what a key names, for the metrics: what comes before its first colon.
func kind(key string) string {
	k, _, _ := strings.Cut(key, ":")
	return k
}

// valid reports whether key can be cached: braces would break its hash tag.
func valid(key string) bool {
	return key != "" && !strings.ContainsAny(key, "{}")
}

// Load returns the value stored under key and its generation; value is nil on a
// miss (nothing stored, or stored under an earlier generation). gen is what Fill
// needs to store a value read after this call. It returns Redis errors.
func (r *Redis) Load(ctx context.Context, key string) (value []byte, gen string, err error) {
	if !valid(key) {
		return nil, "", fmt.Errorf("readcache: key %q cannot be cached", key)
	}
	g, v := r.keys(key)
	got, err := r.rdb.MGet(ctx, g, v).Result()
	if err != nil {
		r.count(key, "error")
		return nil, "", fmt.Errorf("readcache: load %s: %w", key, err)
	}
	gen = "0"
	if s, ok := got[0].(string); ok {
		gen = s
	}
	stored, _ := got[1].(string)
	prefix := gen + "\n"
	if !strings.HasPrefix(stored, prefix) {
		r.count(key, "miss")
		return nil, gen, nil
	}
	r.count(key, "hit")
	return []byte(stored[len(prefix):]), gen, nil // a copy: the conversion copies
}

func (r *Redis) count(key, result string) {
	r.requests.WithLabelValues(kind(key), result).Inc()
}

// fillScript stores ARGV[2] under the value key KEYS[2] for ARGV[3] ms, tagged with
// generation ARGV[1], only when the generation KEYS[1] (0 when absent) is still ARGV[1].
var fillScript = redis.NewScript(`
local gen = redis.call('GET', KEYS[1]) or '0'
if gen ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[1] .. '\n' .. ARGV[2], 'PX', ARGV[3])
return 1`)

// Fill stores value under key for ttl if key's generation is still gen (what Load
// returned before the value was read); it reports whether it stored. It returns
// Redis errors.
func (r *Redis) Fill(ctx context.Context, key, gen string, value []byte, ttl time.Duration) (bool, error) {
	if !valid(key) {
		return false, fmt.Errorf("readcache: key %q cannot be cached", key)
	}
	g, v := r.keys(key)
	stored, err := fillScript.Run(ctx, r.rdb, []string{g, v}, gen, value, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("readcache: fill %s: %w", key, err)
	}
	return stored == 1, nil
}

// Invalidate starts a new generation of every key and drops their values, in one
// pipeline (Cluster clients split it by node). It returns the first Redis error; a
// key it could not reach keeps its value until that value's TTL.
func (r *Redis) Invalidate(ctx context.Context, list ...string) error {
	if len(list) == 0 {
		return nil
	}
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, key := range list {
			if !valid(key) {
				continue
			}
			g, v := r.keys(key)
			p.Incr(ctx, g)
			p.PExpire(ctx, g, GenerationTTL)
			p.Del(ctx, v)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("readcache: invalidate %d keys: %w", len(list), err)
	}
	return nil
}

// Generation returns key's current generation ("0" when it was never invalidated or
// its generation expired); tests and diagnostics read it.
func (r *Redis) Generation(ctx context.Context, key string) (string, error) {
	g, _ := r.keys(key)
	n, err := r.rdb.Get(ctx, g).Int64()
	if errors.Is(err, redis.Nil) {
		return "0", nil
	}
	if err != nil {
		return "", fmt.Errorf("readcache: generation of %s: %w", key, err)
	}
	return strconv.FormatInt(n, 10), nil
}
