// Package store owns every SQL statement of GigStream: it opens the PostgreSQL pool,
// runs the embedded migrations, and implements the domain's storage interfaces.
package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // registers the "postgres" driver
)

// Config tunes the connection pool. The zero value means the defaults below.
type Config struct {
	URL             string        // PostgreSQL URL; required
	MaxOpenConns    int           // default 20
	MaxIdleConns    int           // default 10
	ConnMaxLifetime time.Duration // default 30 minutes
}

// DB is the PostgreSQL pool every store method runs on.
type DB struct {
	x *sqlx.DB
}

// Open connects to PostgreSQL and checks the connection with a ping. It returns an
// error that wraps the driver's when the URL is malformed or the server cannot be reached.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	x, err := sqlx.Open("postgres", cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	x.SetMaxOpenConns(orInt(cfg.MaxOpenConns, 20))
	x.SetMaxIdleConns(orInt(cfg.MaxIdleConns, 10))
	x.SetConnMaxLifetime(orDuration(cfg.ConnMaxLifetime, 30*time.Minute))
	if err := x.PingContext(ctx); err != nil {
		_ = x.Close()
		return nil, fmt.Errorf("ping postgres: %w", err)
	}
	return &DB{x: x}, nil
}

// Ping reports whether the database answers; readiness checks call it.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.x.PingContext(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Close releases the pool.
func (db *DB) Close() error { return db.x.Close() }

// inTx runs fn inside a transaction: it commits when fn returns nil and rolls back
// otherwise, so a failure never leaves half-written state.
func (db *DB) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.x.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func orInt(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func orDuration(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}
