package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/gigstream/hub/market"
)

// VideoProbeJob is the queued job (river, in Postgres) that reads a clean video's size,
// frame rate and duration with ffprobe and either refuses it (over the processing budget,
// unreadable) or queues its VideoJob. It is cheap, so an expensive video is turned away
// before it can hold a transcode worker.
type VideoProbeJob struct {
	UploadID string `json:"upload_id"`
}

// Kind names the job in river's tables.
func (VideoProbeJob) Kind() string { return "upload_video_probe" }

// InsertOpts puts the probe in the media queue with the retries of a video job.
func (VideoProbeJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMedia, MaxAttempts: VideoJobAttempts}
}

// VideoJob is the queued job (river, in Postgres, so it survives restarts) that makes
// a video upload's poster, duration and rendition; its VideoProbeJob queues it.
type VideoJob struct {
	UploadID string `json:"upload_id"`
}

// Kind names the job in river's tables.
func (VideoJob) Kind() string { return "upload_video" }

// VideoJobAttempts is how often a video job runs before its video is recorded as
// failed. With river's backoff (attempt⁴ seconds) the last try comes about 20 minutes
// after the first: enough to ride out an S3 or database blip. A job that runs past its
// timeout is not tried again (see market.ReasonVideoTimedOut).
const VideoJobAttempts = 6

// InsertOpts puts the job in the media queue and bounds its retries.
func (VideoJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMedia, MaxAttempts: VideoJobAttempts}
}

// JobDriver is river's database/sql driver over the pool, for the job client that cmd/
// runs; jobs live in the same database as the rows that enqueue them.
func (db *DB) JobDriver() riverdriver.Driver[*sql.Tx] {
	return riverdatabasesql.New(db.x.DB.DB)
}

// MigrateJobs applies river's own migrations (its job tables) and returns how many it
// applied; river serializes concurrent migrators itself.
func (db *DB) MigrateJobs(ctx context.Context, log *slog.Logger) (int, error) {
	m, err := rivermigrate.New(db.JobDriver(), &rivermigrate.Config{Logger: log})
	if err != nil {
		return 0, fmt.Errorf("job migrations: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return 0, fmt.Errorf("migrate job tables: %w", err)
	}
	return len(res.Versions), nil
}

// CheckJobsMigrated returns an error wrapping ErrNotMigrated when river's migrations
// are behind the version this binary was built with.
func (db *DB) CheckJobsMigrated(ctx context.Context) error {
	m, err := rivermigrate.New(db.JobDriver(), nil)
	if err != nil {
		return fmt.Errorf("job migrations: %w", err)
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("check job tables: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("%w: job tables: %v", ErrNotMigrated, res.Messages)
	}
	return nil
}

// startVideo marks a video that just became clean as pending and queues its probe job
// in tx, so the job exists exactly when the clean row does. Other uploads are left alone.
// When the owner already has videoJobsPerUser videos pending, the video is failed at once
// with market.ReasonTooManyVideos and nothing is queued: one user's uploads cannot fill
// the media queue. A transaction-scoped advisory lock per owner makes the count exact
// under concurrent uploads.
func (db *DB) startVideo(ctx context.Context, tx *sqlx.Tx, u *market.Upload) error {
	if !market.IsVideo(*u) {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('video-jobs:' || $1::text, 0))`, u.OwnerID); err != nil {
		return fmt.Errorf("lock the owner's video jobs: %w", err)
	}
	var pending int
	err := tx.GetContext(ctx, &pending, `SELECT count(*) FROM uploads
		WHERE owner_id = $1 AND video_status = 'pending' AND id <> $2`, u.OwnerID, u.ID)
	if err != nil {
		return fmt.Errorf("count pending videos: %w", err)
	}
	if pending >= db.videoJobsPerUser {
		err := tx.GetContext(ctx, u, `UPDATE uploads SET video_status = 'failed', video_error = $2
			WHERE id = $1 RETURNING `+uploadColumns, u.ID, market.ReasonTooManyVideos)
		if err != nil {
			return fmt.Errorf("refuse video: %w", err)
		}
		return nil
	}
	err = tx.GetContext(ctx, u, `UPDATE uploads SET video_status = 'pending' WHERE id = $1 RETURNING `+uploadColumns, u.ID)
	if err != nil {
		return fmt.Errorf("mark video pending: %w", err)
	}
	return insertJob(ctx, tx, VideoProbeJob{UploadID: u.ID})
}

// insertJob queues args in tx through insertOnlyJobs.
func insertJob(ctx context.Context, tx *sqlx.Tx, args river.JobArgs) error {
	jobs, err := insertOnlyJobs()
	if err != nil {
		return fmt.Errorf("job client: %w", err)
	}
	if _, err := jobs.InsertTx(ctx, tx.Tx, args, jobTraceOpts(ctx)); err != nil {
		return fmt.Errorf("queue %s job: %w", args.Kind(), err)
	}
	return nil
}

// QueueVideoTranscode queues the VideoJob of a pending video that passed its probe. A
// video that is missing or no longer pending wraps ErrNotFound and queues nothing.
func (db *DB) QueueVideoTranscode(ctx context.Context, id string) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		var pending bool
		err := tx.GetContext(ctx, &pending, `SELECT true FROM uploads WHERE id = $1 AND video_status = 'pending' FOR UPDATE`, id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("pending video %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("lock pending video: %w", err)
		}
		return insertJob(ctx, tx, VideoJob{UploadID: id})
	})
}

// FinishVideo records what the video job made on a pending video, with its
// upload.video event, in one transaction. An upload that is missing or not pending
// wraps ErrNotFound.
func (db *DB) FinishVideo(ctx context.Context, id string, made market.VideoMade) (market.Upload, market.Event, error) {
	return db.settleVideo(ctx, id, `
		UPDATE uploads SET video_status = 'ready', poster_key = $2, rendition_key = NULLIF($3, ''),
			duration_ms = $4, video_error = NULL, updated_at = now()
		WHERE id = $1 AND video_status = 'pending' RETURNING `+uploadColumns,
		id, made.PosterKey, made.RenditionKey, made.DurationMS)
}

// FailVideo records why a pending video cannot be processed, with its upload.video
// event. An upload that is missing or not pending wraps ErrNotFound.
func (db *DB) FailVideo(ctx context.Context, id, reason string) (market.Upload, market.Event, error) {
	if len(reason) > 500 {
		reason = reason[:500]
	}
	return db.settleVideo(ctx, id, `
		UPDATE uploads SET video_status = 'failed', video_error = $2, updated_at = now()
		WHERE id = $1 AND video_status = 'pending' RETURNING `+uploadColumns, id, reason)
}

func (db *DB) settleVideo(ctx context.Context, id, query string, args ...any) (market.Upload, market.Event, error) {
	var u market.Upload
	var ev market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &u, query, args...)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("pending video %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("record video: %w", err)
		}
		ev, err = appendEvent(ctx, tx, market.UserChannel(u.OwnerID), "upload.video", u)
		return err
	})
	return u, ev, err
}

var _ market.VideoStore = (*DB)(nil)
