package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// eventPosition is where an event stands in the global order the routers read in:
// the id of the transaction that wrote it, then its channel and seq.
type eventPosition struct {
	TxID    string `db:"tx_id"`
	Channel string `db:"channel"`
	Seq     uint64 `db:"seq"`
}

// lockEventCursor takes the named row of notification_cursors for the rest of tx and
// returns its position. The row is taken with SKIP LOCKED: when another node holds it
// (it is routing the same events), ok is false and the caller does nothing. The error
// names what failed.
func lockEventCursor(ctx context.Context, tx *sqlx.Tx, name string) (pos eventPosition, ok bool, err error) {
	err = tx.GetContext(ctx, &pos, `SELECT tx_id::text AS tx_id, channel, seq FROM notification_cursors
		WHERE name = $1 FOR UPDATE SKIP LOCKED`, name)
	if errors.Is(err, sql.ErrNoRows) {
		return pos, false, nil
	}
	if err != nil {
		return pos, false, fmt.Errorf("lock %s cursor: %w", name, err)
	}
	return pos, true, nil
}

// advanceEventCursor moves the named cursor, locked in tx by lockEventCursor, to last.
func advanceEventCursor(ctx context.Context, tx *sqlx.Tx, name string, last eventPosition) error {
	_, err := tx.ExecContext(ctx, `UPDATE notification_cursors SET tx_id = $2::xid8, channel = $3, seq = $4 WHERE name = $1`,
		name, last.TxID, last.Channel, last.Seq)
	return wrapErr("advance "+name+" cursor", err)
}

// queueBursts inserts, in tx, n burst jobs, the i-th built by job(i, 0). Burst jobs
// are unique while they wait, so one already waiting absorbs the new one; one already
// running may have read its data before this transaction, so it gets a follow-up,
// job(i, 1), which runs after it. what names the jobs in errors.
func queueBursts(ctx context.Context, jobs *river.Client[*sql.Tx], tx *sqlx.Tx, what string, n int, job func(i, follow int) river.InsertManyParams) error {
	if n == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = job(i, 0)
	}
	res, err := jobs.InsertManyTx(ctx, tx.Tx, params)
	if err != nil {
		return fmt.Errorf("queue %s: %w", what, err)
	}
	var follow []river.InsertManyParams
	for i, r := range res {
		if r.UniqueSkippedAsDuplicate && r.Job != nil && r.Job.State == rivertype.JobStateRunning {
			follow = append(follow, job(i, 1))
		}
	}
	if len(follow) == 0 {
		return nil
	}
	if _, err := jobs.InsertManyTx(ctx, tx.Tx, follow); err != nil {
		return fmt.Errorf("queue %s follow-ups: %w", what, err)
	}
	return nil
}
