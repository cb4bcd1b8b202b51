package hub

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisPresenceConfig configures a RedisPresence; zero values mean the
// defaults.
type RedisPresenceConfig struct {
	Client redis.UniversalClient // required
	Prefix string                // empty: "gigstream:hub:"
	TTL    time.Duration         // zero: DefaultPresenceTTL
	Grace  time.Duration         // zero: DefaultPresenceGrace
	Now    func() time.Time      // zero: time.Now (tests pass a fake clock)
}

// RedisPresence keeps one sorted set per user, {prefix}presence:{user},
// whose members are socket ids scored with their expiry (unix ms). A node
// refreshes the scores of its sockets every PresenceRefresh; a node that
// dies stops refreshing, so its sockets stop counting within TTL. Closing a
// socket adds the member "~grace" scored now+Grace. A user is online while
// any member's score lies in the future: one ZCOUNT answers IsOnline.
// Scores use the nodes' clocks, so keep them in sync (NTP) to well under
// the TTL.
type RedisPresence struct {
	cfg RedisPresenceConfig
}

const graceMember = "~grace"

// NewRedisPresence returns a presence tracker for cfg. It returns an error
// when cfg.Client is nil.
func NewRedisPresence(cfg RedisPresenceConfig) (*RedisPresence, error) {
	if cfg.Client == nil {
		return nil, errors.New("hub: RedisPresenceConfig.Client is required")
	}
	cfg.Prefix = cmp.Or(cfg.Prefix, "gigstream:hub:")
	cfg.TTL = cmp.Or(cfg.TTL, DefaultPresenceTTL)
	cfg.Grace = cmp.Or(cfg.Grace, DefaultPresenceGrace)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &RedisPresence{cfg: cfg}, nil
}

func (p *RedisPresence) key(userID string) string { return p.cfg.Prefix + "presence:" + userID }

// onlineKey is the sorted set of every user with a socket, scored with the latest
// expiry any node gave them (ZADD GT): OnlineUsers reads it in one range.
func (p *RedisPresence) onlineKey() string { return p.cfg.Prefix + "presence:~online" }

// OnlineUsers implements PresenceLister: the users whose latest expiry lies ahead.
func (p *RedisPresence) OnlineUsers(ctx context.Context) ([]string, error) {
	now := strconv.FormatFloat(p.scoreIn(0), 'f', 0, 64)
	users, err := p.cfg.Client.ZRangeByScore(ctx, p.onlineKey(), &redis.ZRangeBy{Min: "(" + now, Max: "+inf"}).Result()
	if err != nil {
		return nil, fmt.Errorf("hub: online users: %w", err)
	}
	return users, nil
}

func (p *RedisPresence) scoreIn(d time.Duration) float64 {
	return float64(p.cfg.Now().Add(d).UnixMilli())
}

// keyLifetime lets Redis drop a forgotten user's key; it is a garbage
// collector, not the presence rule.
func (p *RedisPresence) keyLifetime() time.Duration { return 2 * max(p.cfg.TTL, p.cfg.Grace) }

// Connect implements Presence. Its commands touch the user's key and the
// online set, which may live on two cluster shards: a pipeline, not a
// transaction (each key stays consistent on its own).
func (p *RedisPresence) Connect(ctx context.Context, userID, connID string) error {
	key := p.key(userID)
	_, err := p.cfg.Client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.ZRemRangeByScore(ctx, key, "-inf", strconv.FormatFloat(p.scoreIn(0), 'f', 0, 64))
		pipe.ZAdd(ctx, key, redis.Z{Score: p.scoreIn(p.cfg.TTL), Member: connID})
		pipe.PExpire(ctx, key, p.keyLifetime())
		pipe.ZAddGT(ctx, p.onlineKey(), redis.Z{Score: p.scoreIn(p.cfg.TTL), Member: userID})
		return nil
	})
	if err != nil {
		return fmt.Errorf("hub: presence connect: %w", err)
	}
	return nil
}

// Disconnect implements Presence, pipelined like Connect.
func (p *RedisPresence) Disconnect(ctx context.Context, userID, connID string) error {
	key := p.key(userID)
	_, err := p.cfg.Client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.ZRem(ctx, key, connID)
		pipe.ZAdd(ctx, key, redis.Z{Score: p.scoreIn(p.cfg.Grace), Member: graceMember})
		pipe.PExpire(ctx, key, p.keyLifetime())
		pipe.ZAddGT(ctx, p.onlineKey(), redis.Z{Score: p.scoreIn(p.cfg.Grace), Member: userID})
		return nil
	})
	if err != nil {
		return fmt.Errorf("hub: presence disconnect: %w", err)
	}
	return nil
}

// Apply implements PresenceBatcher: the changes, in order, in one
// pipeline (each user's key stays consistent on its own; no transaction).
func (p *RedisPresence) Apply(ctx context.Context, changes []PresenceChange) error {
	now := strconv.FormatFloat(p.scoreIn(0), 'f', 0, 64)
	alive, grace := p.scoreIn(p.cfg.TTL), p.scoreIn(p.cfg.Grace)
	_, err := p.cfg.Client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for _, ch := range changes {
			key := p.key(ch.UserID)
			if ch.Connected {
				pipe.ZRemRangeByScore(ctx, key, "-inf", now)
				pipe.ZAdd(ctx, key, redis.Z{Score: alive, Member: ch.ConnID})
				pipe.ZAddGT(ctx, p.onlineKey(), redis.Z{Score: alive, Member: ch.UserID})
			} else {
				pipe.ZRem(ctx, key, ch.ConnID)
				pipe.ZAdd(ctx, key, redis.Z{Score: grace, Member: graceMember})
				pipe.ZAddGT(ctx, p.onlineKey(), redis.Z{Score: grace, Member: ch.UserID})
			}
			pipe.PExpire(ctx, key, p.keyLifetime())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("hub: presence changes: %w", err)
	}
	return nil
}

// Refresh implements Presence. A user's sockets are re-scored in one ZADD
// and every user in one ZADD GT on the online set (per 1,000 users), so a
// refresh costs two commands per user, not three per socket: at a million
// sockets the online set's shard would otherwise take a write per socket
// every PresenceRefresh.
func (p *RedisPresence) Refresh(ctx context.Context, conns []PresenceConn) error {
	score := p.scoreIn(p.cfg.TTL)
	byUser := make(map[string][]redis.Z)
	for _, c := range conns {
		byUser[c.UserID] = append(byUser[c.UserID], redis.Z{Score: score, Member: c.ConnID})
	}
	_, err := p.cfg.Client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		online := make([]redis.Z, 0, min(len(byUser), 1000))
		for user, members := range byUser {
			pipe.ZAdd(ctx, p.key(user), members...) // re-adds after a Redis restart
			pipe.PExpire(ctx, p.key(user), p.keyLifetime())
			if online = append(online, redis.Z{Score: score, Member: user}); len(online) == cap(online) {
				pipe.ZAddGT(ctx, p.onlineKey(), online...)
				online = make([]redis.Z, 0, cap(online))
			}
		}
		if len(online) > 0 {
			pipe.ZAddGT(ctx, p.onlineKey(), online...)
		}
		// Users nobody refreshes fall out of the online set (any node's refresh prunes).
		pipe.ZRemRangeByScore(ctx, p.onlineKey(), "-inf", strconv.FormatFloat(p.scoreIn(0), 'f', 0, 64))
		return nil
	})
	if err != nil {
		return fmt.Errorf("hub: presence refresh: %w", err)
	}
	return nil
}

// IsOnline implements Presence.
func (p *RedisPresence) IsOnline(ctx context.Context, userID string) (bool, error) {
	now := strconv.FormatFloat(p.scoreIn(0), 'f', 0, 64)
	n, err := p.cfg.Client.ZCount(ctx, p.key(userID), "("+now, "+inf").Result()
	if err != nil {
		return false, fmt.Errorf("hub: presence of %q: %w", userID, err)
	}
	return n > 0, nil
}
