package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
)

// The river queues. Each has its own workers on every node (cmd/ sizes them), so a
// backlog of one kind of work never delays another: twenty long video transcodes leave
// auto-complete, clearing, refunds and withdrawals (money) and e-mail (mail) untouched.
const (
	QueueMoney = "money" // settlement: auto-complete, clearing, late refunds, stale withdrawals
	QueueMail  = "mail"  // notification e-mails
	QueueMedia = "media" // video probes and transcodes, deletions of objects
	QueuePush  = "push"  // chat pushes, which may wait on FCM's Retry-After
	// QueueLegacy is river's default queue, where versions before the split queued every
	// job. Nothing new goes there; nodes still drain it with one worker.
	QueueLegacy = "default"
)

// insertOnlyJobs is the river client that queues jobs inside our transactions: it
// runs no workers and holds no pool, it only writes job rows through the caller's
// transaction. It is made once per process, not once per insert, so that river's
// insert-notification limiter works: a burst of inserts sends one NOTIFY per queue
// per fetch cooldown (100 ms) instead of one each. That matters beyond the round trip:
// PostgreSQL serializes the commits of all transactions that sent a NOTIFY (one
// cluster-wide lock on the notification queue), so a NOTIFY per settlement made every
// settlement's commit wait for every other's.
var insertOnlyJobs = sync.OnceValues(func() (*river.Client[*sql.Tx], error) {
	return river.NewClient(riverdatabasesql.New(nil), &river.Config{})
})

// ObjectDeleteJob deletes objects from the object store after the transaction that
// removed their rows committed (it is queued in that transaction). Deleting a missing
// object succeeds, so a retry after a partial run is harmless; river retries a failed
// delete with backoff for about eight days (ObjectDeleteAttempts).
type ObjectDeleteJob struct {
	Keys []string `json:"keys"`
}

// ObjectDeleteAttempts is how often an ObjectDeleteJob runs before river gives it up
// (and reports it): with river's attempt⁴-second backoff the last try comes about
// eight days after the first, long enough to outlast an object-store outage.
const ObjectDeleteAttempts = 20

// Kind names the job in river's tables.
func (ObjectDeleteJob) Kind() string { return "object_delete" }

// InsertOpts puts the job in the media queue with ObjectDeleteAttempts tries.
func (ObjectDeleteJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMedia, MaxAttempts: ObjectDeleteAttempts}
}

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
