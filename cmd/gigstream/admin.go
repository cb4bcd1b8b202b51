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
		accounts := market.NewAccounts(db, nil, nil, market.AccountsConfig{}, log)
		if args[0] == "disable" {
			stop, err := closeSocketsThroughRedis(ctx, e, accounts, log)
			if err != nil {
				return err
			}
			defer stop()
		}
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
// channel (and its revocation set) for the duration of the command. Without REDIS_URL the sessions still end at once; sockets then close when
// their nodes are told by some other path (none exists today).
func closeSocketsThroughRedis(ctx context.Context, e *envReader, accounts *market.Accounts, log *slog.Logger) (func(), error) {
	if e.str("REDIS_URL", "") == "" {
		log.WarnContext(ctx, "REDIS_URL unset: live sockets of the disabled user are not closed")
		return func() {}, nil
	}
	rdb, err := newRedis(config{RedisURL: e.url("REDIS_URL", "redis", "rediss", "unix")})
	if err != nil {
		return nil, err
	}
	broker, err := hub.NewRedisBroker(hub.RedisBrokerConfig{Client: rdb, Logger: log})
	if err != nil {
		return nil, err
	}
	revocations, err := hub.NewRedisRevocations(hub.RedisRevocationsConfig{Client: rdb})
	if err != nil {
		return nil, err
	}
	node, err := hub.NewNode(hub.Config{Broker: broker, Revocations: revocations, Logger: log})
	if err != nil {
		return nil, err
	}
	if err := node.Start(ctx); err != nil {
		return nil, fmt.Errorf("join the hub: %w", err)
	}
	accounts.SessionsEnded = func(ctx context.Context, userID string, _ []string) {
		if err := node.DisconnectUser(ctx, userID, hub.CloseSessionEnded, "account disabled"); err != nil {
			log.WarnContext(ctx, "sockets not closed", "err", err)
		}
	}
	return func() { _ = node.Shutdown(ctx); _ = rdb.Close() }, nil
}
