package store

import (
	"context"
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
