package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gigstream/hub/market"
)

// pool is the connection pool every store method runs on, with a deadline on each
// wait for a connection. database/sql waits for a free connection for as long as the
// statement's context lives, and a request's context has no deadline of its own: with
// the pool exhausted, every request would queue forever. Here the wait lasts at most
// acquire (less when the context ends sooner), then the statement fails with
// market.ErrBusy, which handlers answer with 503 and Retry-After; the statement itself
// still runs under the caller's context once it has its connection.
type pool struct {
	*sqlx.DB
	acquire  time.Duration
	timeouts atomic.Int64 // waits that ran out
}

// conn takes a connection from the pool within p.acquire. Errors: market.ErrBusy
// (wrapped) when none came in time, ctx's error when the caller gave up first, and
// the driver's.
func (p *pool) conn(ctx context.Context) (*sqlx.Conn, error) {
	wait, cancel := context.WithTimeout(ctx, p.acquire)
	defer cancel()
	c, err := p.DB.Connx(wait)
	if err == nil {
		return c, nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		p.timeouts.Add(1)
		return nil, fmt.Errorf("%w: no database connection within %s: %w", market.ErrBusy, p.acquire, err)
	}
	return nil, err
}

// GetContext is sqlx's, with the connection taken within the acquire deadline.
func (p *pool) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	c, err := p.conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.GetContext(ctx, dest, query, args...)
}

// SelectContext is sqlx's, with the connection taken within the acquire deadline.
func (p *pool) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	c, err := p.conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.SelectContext(ctx, dest, query, args...)
}

// ExecContext is database/sql's, with the connection taken within the acquire deadline.
func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	c, err := p.conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ExecContext(ctx, query, args...)
}

// QueryContext is database/sql's, with the connection taken within the acquire
// deadline; the connection goes back to the pool when the rows are closed.
func (p *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	c, err := p.conn(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := c.QueryContext(ctx, query, args...)
	closeAfter(c)
	return rows, err
}

// QueryxContext is sqlx's, as QueryContext.
func (p *pool) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	c, err := p.conn(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := c.QueryxContext(ctx, query, args...)
	closeAfter(c)
	return rows, err
}

// QueryRowxContext is sqlx's, as QueryContext. A connection that cannot be had fails
// the row's Scan (with the context's error: sqlx.Row cannot carry market.ErrBusy).
func (p *pool) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	c, err := p.conn(ctx)
	if err != nil {
		ended, cancel := context.WithCancel(ctx)
		cancel()
		return p.DB.QueryRowxContext(ended, query, args...)
	}
	row := c.QueryRowxContext(ctx, query, args...)
	closeAfter(c)
	return row
}

// BeginTxx is sqlx's, with the connection taken within the acquire deadline; the
// connection goes back to the pool when the transaction ends.
func (p *pool) BeginTxx(ctx context.Context, opts *sql.TxOptions) (*sqlx.Tx, error) {
	c, err := p.conn(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := c.BeginTxx(ctx, opts)
	closeAfter(c)
	return tx, err
}

// closeAfter hands c back to the pool once the rows or transaction started on it end:
// database/sql's Conn.Close waits for them, so it waits in a goroutine of its own.
// That goroutine is on the hot path (every transaction, e.g. each chat send), but it
// is not worth removing: measured at 4–7 µs (spawn, park, wake) on the loaded 2-core
// machine, against 2–3 ms of Postgres CPU per send, and database/sql already starts
// one per transaction (Tx.awaitDone) as lib/pq does per query with a cancellable
// context. context.AfterFunc would not do: the connection must go back when the rows
// or the transaction end, not when the caller's context does.
func closeAfter(c *sqlx.Conn) { go c.Close() }

// PoolStats is the connection pool's state for metrics: database/sql's statistics and
// how many waits for a connection ran out of time.
type PoolStats struct {
	sql.DBStats
	AcquireTimeouts int64
}

// PoolStats returns the pool's statistics now.
func (db *DB) PoolStats() PoolStats {
	return PoolStats{DBStats: db.x.Stats(), AcquireTimeouts: db.x.timeouts.Load()}
}
