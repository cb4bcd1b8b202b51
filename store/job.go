package store

import (
	"context"
	"fmt"
)

// The river queues. Each has its own workers on every node (cmd/ sizes them), so a
// backlog of one kind of work never delays another: twenty long video transcodes leave
// auto-complete, clearing, refunds and withdrawals (money) and e-mail (mail) untouched.
const (
	QueueMoney = "money" // settlement: auto-complete, clearing, late refunds, stale withdrawals
	QueueMail  = "mail"  // notification e-mails
	QueueMedia = "media" // video probes and transcodes
	QueuePush  = "push"  // chat pushes, which may wait on FCM's Retry-After
	// QueueLegacy is river's default queue, where versions before the split queued every
	// job. Nothing new goes there; nodes still drain it with one worker.
	QueueLegacy = "default"
)

// JobQueueStat is the backlog of one kind of job in one queue, across the cluster.
type JobQueueStat struct {
	Queue    string  `db:"queue"`
	Kind     string  `db:"kind"`
	Queued   int64   `db:"queued"`   // available to run now
	Running  int64   `db:"running"`  // being worked
	Retrying int64   `db:"retrying"` // failed an attempt, waiting for the next
	Lag      float64 `db:"lag"`      // seconds the oldest available job has waited; 0 when none
}

// JobQueueStats reads the backlog of every queue and job kind that has any, from river's
// job table (one aggregate over its unfinished rows).
func (db *DB) JobQueueStats(ctx context.Context) ([]JobQueueStat, error) {
	var out []JobQueueStat
	err := db.x.SelectContext(ctx, &out, `
		SELECT queue, kind,
			count(*) FILTER (WHERE state = 'available') AS queued,
			count(*) FILTER (WHERE state = 'running') AS running,
			count(*) FILTER (WHERE state = 'retryable') AS retrying,
			GREATEST(0, COALESCE(EXTRACT(EPOCH FROM now() - min(scheduled_at) FILTER (WHERE state = 'available')), 0))::float8 AS lag
		FROM river_job WHERE state IN ('available', 'running', 'retryable')
		GROUP BY queue, kind`)
	if err != nil {
		return nil, fmt.Errorf("job queue stats: %w", err)
	}
	return out, nil
}
