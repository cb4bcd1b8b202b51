package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// prepare returns each query prepared on the pool, preparing it the first time it is
// asked for. database/sql prepares a statement again on each connection it runs on and
// keeps that copy, so a hot statement is parsed and planned once per connection, not on
// every call, and runs in one round trip where lib/pq spends two on an unnamed one.
//
// Preparing waits for a connection within the acquire deadline; a statement run
// outside a transaction goes through pool.stmtGet, which bounds its wait likewise
// (inside a transaction, the transaction's connection is already had).
//
// Call it before a transaction begins: preparing borrows a pooled connection, and a
// transaction waiting for one while holding another could starve the pool.
func (db *DB) prepare(ctx context.Context, queries ...string) ([]*sqlx.Stmt, error) {
	out := make([]*sqlx.Stmt, len(queries))
	for i, q := range queries {
		if s, ok := db.prepared.Load(q); ok {
			out[i] = s.(*sqlx.Stmt)
			continue
		}
		s, err := db.x.prepare(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		if prior, loaded := db.prepared.LoadOrStore(q, s); loaded {
			_ = s.Close()
			s = prior.(*sqlx.Stmt)
		}
		out[i] = s
	}
	return out, nil
}

// txQuerier is what a transaction's helpers run their statements on: a *sqlx.Tx, or a
// preparedTx, which runs the statements prepared beforehand as prepared ones.
type txQuerier interface {
	querier
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// preparedTx is a transaction that runs each statement already prepared on the pool
// (DB.prepare, called before the transaction began) as that prepared statement, and
// any other as *sqlx.Tx does. A prepared statement costs lib/pq one round trip
// instead of two, and Postgres plans it once per connection instead of on every call:
// the settlement, whose ~10 statements were planned on every accept, runs so
// (SettleOrder). Its zero db runs every statement unprepared.
type preparedTx struct {
	*sqlx.Tx
	db *DB
}

// stmt is query's prepared statement bound to the transaction, or nil when query was
// not prepared. On a connection the statement has not run on yet, database/sql
// prepares it there first (once per connection; it keeps that copy).
func (p preparedTx) stmt(ctx context.Context, query string) *sqlx.Stmt {
	if p.db == nil {
		return nil
	}
	st, ok := p.db.prepared.Load(query)
	if !ok {
		return nil
	}
	return p.Tx.StmtxContext(ctx, st.(*sqlx.Stmt))
}

// GetContext is sqlx's, prepared when query is.
func (p preparedTx) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := p.stmt(ctx, query); st != nil {
		return st.GetContext(ctx, dest, args...)
	}
	return p.Tx.GetContext(ctx, dest, query, args...)
}

// SelectContext is sqlx's, prepared when query is.
func (p preparedTx) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := p.stmt(ctx, query); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return p.Tx.SelectContext(ctx, dest, query, args...)
}

// ExecContext is database/sql's, prepared when query is.
func (p preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.Tx.ExecContext(ctx, query, args...)
}

var (
	_ txQuerier = (*sqlx.Tx)(nil)
	_ txQuerier = preparedTx{}
)
