package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/gigstream/hub/market"
)

// admin runs `gigstream admin grant|revoke|disable|enable EMAIL`: the only way to give
// the admin role, and the operator's way to disable an account (its sessions end at once).
func admin(ctx context.Context, e *envReader, log *slog.Logger, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("%w: admin takes one of grant, revoke, disable, enable and an e-mail address", errUsage)
	}
	cfg := loadDatabaseConfig(e)
	if e.err != nil {
		return e.err
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	accounts := market.NewAccounts(db, nil, nil, market.AccountsConfig{}, log)
	var u market.User
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
}
