package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivertype"

	"github.com/gigstream/hub/market"
)

// HeldPushJob is a push held by the user's quiet hours: it runs when they end. It is
// unique per user and collapse key while it waits, so every push held for one
// conversation or order during the night becomes one.
type HeldPushJob struct {
	UserID      string `json:"user_id" river:"unique"`
	CollapseKey string `json:"collapse_key" river:"unique"`
}

// Kind names the job in river's tables.
func (HeldPushJob) Kind() string { return "held_push" }

// InsertOpts puts the job in the mail queue (reach, not money or media) and makes it
// unique while it has not run.
func (HeldPushJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMail, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		// river requires running too: a hold that comes while the held push runs is merged
		// into it (the run sends the newest state it reads).
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled},
	}}
}

// HoldPush queues the push of collapseKey ("conversation:ID" or "order:ID") to userID
// for until; one already held for them is kept, and this one merges into it.
func (db *DB) HoldPush(ctx context.Context, userID, collapseKey string, until time.Time) error {
	jobs, err := river.NewClient(riverdatabasesql.New(nil), &river.Config{})
	if err != nil {
		return fmt.Errorf("job client: %w", err)
	}
	opts := HeldPushJob{}.InsertOpts()
	opts.ScheduledAt = until
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := jobs.InsertTx(ctx, tx.Tx, HeldPushJob{UserID: userID, CollapseKey: collapseKey}, &opts); err != nil {
			return fmt.Errorf("hold push: %w", err)
		}
		return nil
	})
}

// LatestUnreadNotification returns the newest unread notification of userID about
// orderID ("" for those about no order) with the user's preferences; none wraps
// ErrNotFound.
func (db *DB) LatestUnreadNotification(ctx context.Context, userID, orderID string) (market.Routed, error) {
	var r market.Routed
	if !isUUID(userID) || (orderID != "" && !isUUID(orderID)) {
		return r, fmt.Errorf("order notification: %w", ErrNotFound)
	}
	err := db.x.GetContext(ctx, &r.Notification, `SELECT `+notificationColumns+` FROM notifications
		WHERE user_id = $1 AND order_id IS NOT DISTINCT FROM NULLIF($2, '')::uuid AND read_at IS NULL
		ORDER BY created_at DESC, id DESC LIMIT 1`, userID, orderID)
	if err != nil {
		return r, fmt.Errorf("order notification: %w", noRowIsNotFound(err))
	}
	r.Prefs, err = loadPrefs(ctx, db.x, userID)
	return r, err
}
