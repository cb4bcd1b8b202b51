package hub

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisRevocationsConfig configures a RedisRevocations; zero values mean
// the defaults.
type RedisRevocationsConfig struct {
	Client redis.UniversalClient // required
	Prefix string                // empty: "gigstream:hub:"
	// Keep is how long entries are kept; it must cover the nodes' TokenTTL
	// (plus a minute of clock skew). Zero: 25 hours.
	Keep time.Duration
}

// RedisRevocations is the RevocationStore in one Redis sorted set,
// {prefix}revoked, scored with the revocation time (unix ms). Every write
// also drops entries older than Keep.
type RedisRevocations struct {
	cfg RedisRevocationsConfig
}

// NewRedisRevocations returns a store for cfg. It returns an error when
// cfg.Client is nil.
func NewRedisRevocations(cfg RedisRevocationsConfig) (*RedisRevocations, error) {
	if cfg.Client == nil {
		return nil, fmt.Errorf("hub: RedisRevocationsConfig.Client is required")
	}
	cfg.Prefix = cmp.Or(cfg.Prefix, "gigstream:hub:")
	cfg.Keep = cmp.Or(cfg.Keep, 25*time.Hour)
	return &RedisRevocations{cfg: cfg}, nil
}

func (s *RedisRevocations) key() string { return s.cfg.Prefix + "revoked" }

// Revoke implements RevocationStore.
func (s *RedisRevocations) Revoke(ctx context.Context, keys []string, at time.Time) error {
	members := make([]redis.Z, len(keys))
	for i, k := range keys {
		members[i] = redis.Z{Score: float64(at.UnixMilli()), Member: k}
	}
	_, err := s.cfg.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAddGT(ctx, s.key(), members...)
		p.ZRemRangeByScore(ctx, s.key(), "-inf", "("+strconv.FormatInt(at.Add(-s.cfg.Keep).UnixMilli(), 10))
		p.PExpire(ctx, s.key(), 2*s.cfg.Keep)
		return nil
	})
	if err != nil {
		return fmt.Errorf("hub: record revocation: %w", err)
	}
	return nil
}

// Since implements RevocationStore.
func (s *RedisRevocations) Since(ctx context.Context, t time.Time) (map[string]time.Time, error) {
	zs, err := s.cfg.Client.ZRangeByScoreWithScores(ctx, s.key(), &redis.ZRangeBy{
		Min: strconv.FormatInt(t.UnixMilli(), 10), Max: "+inf",
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("hub: read revocations: %w", err)
	}
	out := make(map[string]time.Time, len(zs))
	for _, z := range zs {
		if k, ok := z.Member.(string); ok {
			out[k] = time.UnixMilli(int64(z.Score))
		}
	}
	return out, nil
}
