package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/gigstream/hub/store"
)

// migrate runs `gigstream migrate up|down|status`.
func migrate(ctx context.Context, e *envReader, log *slog.Logger, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%w: migrate takes one of up, down, status", errUsage)
	}
	return withDatabase(ctx, e, log, func(db *store.DB) error {
		m, err := store.NewMigrator(db, log)
		if err != nil {
			return err
		}
		switch args[0] {
		case "up":
			n, err := m.Up(ctx)
			log.InfoContext(ctx, "migrations applied", "count", n)
			if err != nil {
				return err
			}
			n, err = db.MigrateJobs(ctx, log)
			log.InfoContext(ctx, "job queue migrations applied", "count", n)
			return err
		case "down":
			return m.Down(ctx)
		case "status":
			return printMigrationStatus(ctx, m)
		default:
			return fmt.Errorf("%w: migrate takes one of up, down, status, not %q", errUsage, args[0])
		}
	})
}

func printMigrationStatus(ctx context.Context, m *store.Migrator) error {
	st, err := m.Status(ctx)
	if err != nil {
		return err
	}
	for _, s := range st {
		state := "pending"
		if s.Applied {
			state = "applied"
		}
		fmt.Printf("%05d  %-8s %s\n", s.Version, state, s.Name)
	}
	return nil
}
