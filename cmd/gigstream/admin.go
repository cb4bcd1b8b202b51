package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/gigstream/hub/hub"
	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

// admin runs `gigstream admin grant|revoke|disable|enable EMAIL`: the only way to give
// the admin role, and the operator's way to disable an account (its sessions end at once).
func admin(ctx context.Context, e *envReader, log *slog.Logger, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("%w: admin takes one of grant, revoke, disable, enable and an e-mail address", errUsage)
	}
	return withDatabase(ctx, e, log, func(db *store.DB) error {
		var acfg market.AccountsConfig
		if args[0] == "disable" {
			sockets, stop, err := closeSocketsThroughRedis(ctx, e, log)
			if err != nil {
				return err
			}
			defer stop()
			acfg.Sockets = sockets
		}
		accounts := market.NewAccounts(db, nil, nil, acfg, log)
		var u market.User
		var err error
		switch args[0] {
		case "grant", "revoke":
			u, err = accounts.GrantAdmin(ctx, args[1], args[0] == "grant")
		case "disable", "enable":
			u, err = accounts.SetDisabled(ctx, args[1], args[0] == "disable")
		default:
			return fmt.Errorf("%w: unknown admin action %q", errUsage, args[0])
		}
		if err != nil {
			return fmt.Errorf("admin %s %s: %w", args[0], args[1], err)
		}
		log.InfoContext(ctx, "admin "+args[0], "user_id", u.ID, "is_admin", u.IsAdmin, "disabled", u.DisabledAt != nil)
		return nil
	})
}

// closeSocketsThroughRedis makes a disable also close the user's live sockets on
// every node and revoke their connection tokens, by joining the hub's Redis control
// channel (and its revocation set) for the duration of the command. Without REDIS_URL
// it returns no closer: the sessions still end at once, and sockets close when their
// nodes are told by some other path (none exists today).
func closeSocketsThroughRedis(ctx context.Context, e *envReader, log *slog.Logger) (market.SessionSockets, func(), error) {
	if e.str("REDIS_URL", "") == "" {
		log.WarnContext(ctx, "REDIS_URL unset: live sockets of the disabled user are not closed")
		return nil, func() {}, nil
	}
	rdb, err := newRedis(config{RedisURL: e.url("REDIS_URL", "redis", "rediss", "unix"), RedisClusterAddrs: redisClusterAddrs(e)})
	if err != nil {
		return nil, nil, err
	}
	broker, err := hub.NewRedisBroker(hub.RedisBrokerConfig{Client: rdb, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	revocations, err := hub.NewRedisRevocations(hub.RedisRevocationsConfig{Client: rdb})
	if err != nil {
		return nil, nil, err
	}
	node, err := hub.NewNode(hub.Config{Broker: broker, Revocations: revocations, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	if err := node.Start(ctx); err != nil {
		return nil, nil, fmt.Errorf("join the hub: %w", err)
	}
	return userSockets{node: node, log: log}, func() { _ = node.Shutdown(ctx); _ = rdb.Close() }, nil
}

// userSockets closes every socket of a disabled user on every node
// (market.SessionSockets).
type userSockets struct {
	node *hub.Node
	log  *slog.Logger
}

func (s userSockets) CloseSessions(ctx context.Context, userID string, _ []string) {
	if err := s.node.DisconnectUser(ctx, userID, hub.CloseSessionEnded, "account disabled"); err != nil {
		s.log.WarnContext(ctx, "sockets not closed", "err", err)
	}
}
