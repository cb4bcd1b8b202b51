package store

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // registers the "postgres" driver
	"go.opentelemetry.io/otel/trace"
)

// Config tunes the connection pool and the limits the store enforces inside its
// transactions. The zero value means the defaults below.
type Config struct {
	URL             string        // PostgreSQL URL; required
	MaxOpenConns    int           // default 20
	MaxIdleConns    int           // default MaxOpenConns: a busy pool keeps its connections and their prepared statements
	ConnMaxLifetime time.Duration // default 30 minutes
	// AcquireTimeout is the longest a statement waits for a free connection before it
	// fails with market.ErrBusy; default 10 seconds (see pool).
	AcquireTimeout time.Duration
	// LockTimeout is the longest a statement waits for a lock (a row taken FOR UPDATE
	// or FOR SHARE, a table, an advisory lock) before it fails with market.ErrBusy;
	// default 5 seconds. It is each connection's lock_timeout, set when it connects.
	LockTimeout time.Duration
	// VideoJobsPerUser is how many videos of one user may wait for or be in processing
	// at once (see SettleUpload); default 3.
	VideoJobsPerUser int
	// Tracer traces statements (OpenTelemetry, see openPool); nil traces none.
	Tracer trace.TracerProvider
}

// DB is the PostgreSQL pool every store method runs on.
type DB struct {
	x                *pool
	videoJobsPerUser int
	rumOnce          sync.Once // searchUsesRUM asks once
	rum              bool
	prepared         sync.Map // query text → *sqlx.Stmt, see prepare
	sends            sendBatcher
}

// Open connects to PostgreSQL and checks the connection with a ping. It returns an
// error that wraps the driver's when the URL is malformed or the server cannot be reached.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	dsn, err := withLockTimeout(cfg.URL, cmp.Or(cfg.LockTimeout, 5*time.Second))
	if err != nil {
		return nil, err
	}
	x, err := openPool(dsn, cfg.Tracer)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	maxOpen := cmp.Or(cfg.MaxOpenConns, 20)
	x.SetMaxOpenConns(maxOpen)
	// Fewer idle than open connections made a pool busier than its idle count close
	// a connection on almost every return and open another: a new backend, and every
	// prepared statement parsed and planned again on it (the durable chat send plans in
	// ~30 ms under load; 1 call in 7 was planned so).
	x.SetMaxIdleConns(cmp.Or(cfg.MaxIdleConns, maxOpen))
	x.SetConnMaxLifetime(cmp.Or(cfg.ConnMaxLifetime, 30*time.Minute))
	if err := x.PingContext(ctx); err != nil {
		_ = x.Close()
		return nil, fmt.Errorf("ping postgres: %w", err)
	}
	return &DB{x: &pool{DB: x, acquire: cmp.Or(cfg.AcquireTimeout, 10*time.Second)}, videoJobsPerUser: cmp.Or(cfg.VideoJobsPerUser, 3)}, nil
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
		return busyOnLockTimeout(err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// isUUID reports whether s is a canonical UUID; ids from clients are checked with it
// so that a malformed id is "not found", never a database error.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'):
			return false
		}
	}
	return true
}

// aliased selects each column of a comma-separated list from table prefix, named
// alias+column so that sqlx scans it into a nested struct tagged alias.
func aliased(prefix, alias, columns string) string {
	parts := strings.Split(columns, ",")
	for i, c := range parts {
		c = strings.TrimSpace(c)
		parts[i] = prefix + c + ` AS "` + alias + c + `"`
	}
	return strings.Join(parts, ", ")
}

// prefixed qualifies each column of a comma-separated list with prefix.
func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, c := range parts {
		parts[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
