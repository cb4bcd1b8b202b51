package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

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
	return busyOnLockTimeout(c.GetContext(ctx, dest, query, args...))
}

// SelectContext is sqlx's, with the connection taken within the acquire deadline.
func (p *pool) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	c, err := p.conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return busyOnLockTimeout(c.SelectContext(ctx, dest, query, args...))
}

// ExecContext is database/sql's, with the connection taken within the acquire deadline.
func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	c, err := p.conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	res, err := c.ExecContext(ctx, query, args...)
	return res, busyOnLockTimeout(err)
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
	return rows, busyOnLockTimeout(err)
}

// QueryxContext is sqlx's, as QueryContext.
func (p *pool) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	c, err := p.conn(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := c.QueryxContext(ctx, query, args...)
	closeAfter(c)
	return rows, busyOnLockTimeout(err)
}

// QueryRowxContext hides sqlx's, which would wait for a connection without the
// acquire deadline. A *sqlx.Row cannot carry market.ErrBusy (its error is
// unexported), so a one-row read on the pool is GetContext instead. The different
// signature is deliberate: it keeps *pool from satisfying sqlx.QueryerContext, so
// sqlx.GetContext(ctx, db.x, …), whose failed wait would have been a bare context
// error answered 500, does not compile; read helpers take a querier.
func (p *pool) QueryRowxContext(useGetContext) {}

// useGetContext is the parameter that makes pool.QueryRowxContext unusable.
type useGetContext struct{}

// querier is what the store's read helpers need: met by *sqlx.Tx and by *pool, whose
// reads take their connection within the acquire deadline and fail with
// market.ErrBusy when none comes.
type querier interface {
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

var (
	_ querier = (*pool)(nil)
	_ querier = (*sqlx.Tx)(nil)
)

// stmtGet runs a statement prepared on the pool (see DB.prepare) outside any
// transaction, as sqlx's Stmt.GetContext. database/sql takes a prepared statement's
// connection under the statement's own context and offers no separate deadline for
// that wait, so here the whole statement gets the acquire deadline: a lookup that
// neither got a connection nor answered within DB_ACQUIRE_TIMEOUT fails with
// market.ErrBusy. Use it only for short statements.
func (p *pool) stmtGet(ctx context.Context, st *sqlx.Stmt, dest any, args ...any) error {
	wait, cancel := context.WithTimeout(ctx, p.acquire)
	defer cancel()
	err := st.GetContext(wait, dest, args...)
	if err != nil && ctx.Err() == nil && wait.Err() != nil {
		p.timeouts.Add(1)
		return fmt.Errorf("%w: prepared statement not done within %s: %w", market.ErrBusy, p.acquire, err)
	}
	return busyOnLockTimeout(err)
}

// stmtSelect is stmtGet for a statement that returns rows (sqlx's Stmt.SelectContext),
// with the same deadline. Use it only for short statements.
func (p *pool) stmtSelect(ctx context.Context, st *sqlx.Stmt, dest any, args ...any) error {
	wait, cancel := context.WithTimeout(ctx, p.acquire)
	defer cancel()
	err := st.SelectContext(wait, dest, args...)
	if err != nil && ctx.Err() == nil && wait.Err() != nil {
		p.timeouts.Add(1)
		return fmt.Errorf("%w: prepared statement not done within %s: %w", market.ErrBusy, p.acquire, err)
	}
	return busyOnLockTimeout(err)
}

// prepare prepares query on the pool, waiting for a connection within the acquire
// deadline (market.ErrBusy when none comes).
func (p *pool) prepare(ctx context.Context, query string) (*sqlx.Stmt, error) {
	wait, cancel := context.WithTimeout(ctx, p.acquire)
	defer cancel()
	st, err := p.DB.PreparexContext(wait, query)
	if err != nil && ctx.Err() == nil && wait.Err() != nil {
		p.timeouts.Add(1)
		return nil, fmt.Errorf("%w: no database connection to prepare on within %s: %w", market.ErrBusy, p.acquire, err)
	}
	return st, err
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

// lockNotAvailable is Postgres's SQLSTATE for a lock wait that ran out of
// lock_timeout (or a NOWAIT lock that was taken).
const lockNotAvailable = "55P03"

// busyOnLockTimeout wraps market.ErrBusy around err when it is a lock wait that ran
// out of the connection's lock_timeout (see withLockTimeout): the row, table or
// advisory lock is held by someone else for longer than a request may wait, so the
// request is answered 503 with Retry-After, like an exhausted pool. Other errors,
// and nil, pass unchanged.
func busyOnLockTimeout(err error) error {
	var pe *pq.Error
	if err == nil || errors.Is(err, market.ErrBusy) || !errors.As(err, &pe) || pe.Code != lockNotAvailable {
		return err
	}
	return fmt.Errorf("%w: lock wait ran out: %w", market.ErrBusy, err)
}

// withLockTimeout returns the connection string dsn (a URL or key=value pairs) with
// lock_timeout set to d for every connection it opens, unless dsn sets one already.
// lib/pq sends parameters it does not know itself to the server at connection start,
// so this costs no statement: every wait for a lock (SELECT … FOR UPDATE, FOR SHARE,
// an advisory lock, a DDL lock) on the store's, River's and the migrations'
// connections has a deadline.
func withLockTimeout(dsn string, d time.Duration) (string, error) {
	ms := strconv.FormatInt(d.Milliseconds(), 10)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("database URL: %w", err)
		}
		q := u.Query()
		if q.Get("lock_timeout") == "" {
			q.Set("lock_timeout", ms)
			u.RawQuery = q.Encode()
		}
		return u.String(), nil
	}
	if strings.Contains(dsn, "lock_timeout=") {
		return dsn, nil
	}
	return strings.TrimSpace(dsn + " lock_timeout=" + ms), nil
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
