package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
)

// NotificationPushJob is the queued job (river) that pushes one user the newest
// unread notification under one collapse key ("order:ID", or "notifications" for
// those about no order). The router queues it in the transaction that stores the
// notifications, so the push outlives the node that routed them. Follow is as in
// ChatPushJob.
type NotificationPushJob struct {
	UserID      string `json:"user_id" river:"unique"`
	CollapseKey string `json:"collapse_key" river:"unique"`
	Follow      int    `json:"follow" river:"unique"`
}

// Kind names the job in river's tables.
func (NotificationPushJob) Kind() string { return "notification_push" }

// InsertOpts puts the job in the push queue, unique per user, collapse key and
// follow-up until it has run: the notifications of one order routed before it runs
// share it (one push per burst). Retries are those of ChatPushJob.
func (NotificationPushJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueuePush, MaxAttempts: 8, UniqueOpts: burstUnique}
}

// queueNotificationPush inserts, in tx, the push job of userID's collapseKey due at
// due; one already waiting absorbs it, and one already running gets a follow-up
// (it may have read the notifications before this one).
func queueNotificationPush(ctx context.Context, jobs *river.Client[*sql.Tx], tx *sqlx.Tx, userID, collapseKey string, due time.Time) error {
	return queueBursts(ctx, jobs, tx, "notification push", 1, func(_, follow int) river.InsertManyParams {
		opts := NotificationPushJob{}.InsertOpts()
		opts.ScheduledAt = due
		return river.InsertManyParams{Args: NotificationPushJob{UserID: userID, CollapseKey: collapseKey, Follow: follow}, InsertOpts: &opts}
	})
}
