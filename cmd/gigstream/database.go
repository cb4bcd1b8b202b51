package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gigstream/hub/store"
)

// withDatabase runs fn on a connection to DATABASE_URL and closes it afterwards; the
// migrate, seed and admin commands share it.
func withDatabase(ctx context.Context, e *envReader, log *slog.Logger, fn func(*store.DB) error) error {
	cfg := loadDatabaseConfig(e)
	if e.err != nil {
		return e.err
	}
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

// openDatabase connects to Postgres, retrying until cfg.StartupTimeout so that nodes
// may start before the database does. It returns the last connection error after that.
func openDatabase(ctx context.Context, cfg config, log *slog.Logger) (*store.DB, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.StartupTimeout)
	defer cancel()
	for {
		db, err := store.Open(ctx, store.Config{URL: string(cfg.DatabaseURL), VideoJobsPerUser: cfg.Uploads.VideoJobsPerUser,
			MaxOpenConns: cfg.DBPool.MaxOpen, MaxIdleConns: cfg.DBPool.MaxIdle,
			ConnMaxLifetime: cfg.DBPool.ConnMaxLifetime, AcquireTimeout: cfg.DBPool.AcquireTimeout,
			LockTimeout: cfg.DBPool.LockTimeout, Tracer: cfg.Telemetry.tracer})
		if err == nil {
			return db, nil
		}
		log.WarnContext(ctx, "postgres not reachable yet; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("postgres unreachable after %s: %w", cfg.StartupTimeout, err)
		case <-time.After(time.Second):
		}
	}
}
