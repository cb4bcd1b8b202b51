package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/media"
	"github.com/gigstream/hub/store"
)

// jobsConfig tunes the background jobs every serve node runs (river, in Postgres).
type jobsConfig struct {
	Workers              int           // JOB_WORKERS: jobs at once per node; default half the CPUs, at least 1
	PollInterval         time.Duration // JOB_POLL_INTERVAL: how often idle workers look for jobs
	JobTimeout           time.Duration // VIDEO_JOB_TIMEOUT: longest run of one video job
	MaxRenditionDuration time.Duration // VIDEO_MAX_RENDITION_DURATION: longer videos get no rendition
	TempDir              string        // VIDEO_TEMP_DIR: where videos are processed; "" is the system's
	FFmpegPath           string        // FFMPEG_PATH
	FFprobePath          string        // FFPROBE_PATH
	FFmpegThreads        int           // FFMPEG_THREADS: encoder threads per job; 0 lets ffmpeg choose
}

// loadJobsConfig reads the job settings; it returns the reader's first error.
func loadJobsConfig(e *envReader) (jobsConfig, error) {
	c := jobsConfig{
		Workers:              e.integer("JOB_WORKERS", max(1, runtime.NumCPU()/2), 1, 64),
		PollInterval:         e.duration("JOB_POLL_INTERVAL", time.Second, 100*time.Millisecond, time.Minute),
		JobTimeout:           e.duration("VIDEO_JOB_TIMEOUT", 30*time.Minute, 5*time.Second, 24*time.Hour),
		MaxRenditionDuration: e.duration("VIDEO_MAX_RENDITION_DURATION", 10*time.Minute, time.Second, 24*time.Hour),
		TempDir:              e.str("VIDEO_TEMP_DIR", ""),
		FFmpegPath:           e.str("FFMPEG_PATH", "ffmpeg"),
		FFprobePath:          e.str("FFPROBE_PATH", "ffprobe"),
		FFmpegThreads:        e.integer("FFMPEG_THREADS", 0, 0, 64),
	}
	return c, e.err
}

// startJobs runs this node's job workers until the returned stop is called. stop lets
// running jobs finish within shutdown, then cancels them: a cancelled job is retried
// later, on this node or another, because river keeps it in Postgres.
func startJobs(ctx context.Context, cfg config, jc jobsConfig, db *store.DB, objects *media.ObjectStore, d *domain, log *slog.Logger) (stop func(), err error) {
	tools := media.NewFFmpeg(media.FFmpegConfig{FFmpegPath: jc.FFmpegPath, FFprobePath: jc.FFprobePath, Threads: jc.FFmpegThreads})
	processor := media.NewVideoProcessor(objects, tools,
		media.VideoConfig{TempDir: jc.TempDir, MaxRenditionDuration: jc.MaxRenditionDuration})
	workers := river.NewWorkers()
	river.AddWorker(workers, &videoWorker{videos: market.NewVideos(db, videoMedia{processor}, d.realtime, log), timeout: jc.JobTimeout})
	periodic := settlementJob(workers, d.settlement, cfg.Settlement.JobInterval, log)
	addNotificationEmailWorker(workers, cfg, d.notifications, log)
	client, err := river.NewClient(db.JobDriver(), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: jc.Workers}},
		Workers:           workers,
		PeriodicJobs:      periodic,
		JobTimeout:        jc.JobTimeout,
		FetchPollInterval: jc.PollInterval,
		FetchCooldown:     min(100*time.Millisecond, jc.PollInterval),
		Logger:            log.With("component", "jobs"),
	})
	if err != nil {
		return nil, fmt.Errorf("job client: %w", err)
	}
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("start jobs: %w", err)
	}
	return func() { stopJobs(ctx, client, cfg.ShutdownTimeout, log) }, nil
}

// stopJobs waits up to timeout for running jobs, then cancels what is left.
func stopJobs[T any](ctx context.Context, client *river.Client[T], timeout time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := client.Stop(ctx); err == nil {
		return
	}
	log.WarnContext(ctx, "jobs still running at shutdown; cancelled, they will be retried")
	hard, cancelHard := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancelHard()
	if err := client.StopAndCancel(hard); err != nil {
		log.ErrorContext(ctx, "jobs not stopped", "err", err)
	}
}

// videoWorker runs store.VideoJob: the poster, duration and rendition of an upload.
type videoWorker struct {
	river.WorkerDefaults[store.VideoJob]
	videos  *market.Videos
	timeout time.Duration
}

// Work processes the video; on the job's last attempt a failure is recorded on the
// upload, so a video never stays pending once river gives up.
func (w *videoWorker) Work(ctx context.Context, job *river.Job[store.VideoJob]) error {
	err := w.videos.Process(ctx, job.Args.UploadID)
	if err == nil || job.Attempt < job.MaxAttempts {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return errors.Join(err, w.videos.Fail(ctx, job.Args.UploadID, market.ReasonVideoGaveUp))
}

// Timeout is the longest one video job may run.
func (w *videoWorker) Timeout(*river.Job[store.VideoJob]) time.Duration { return w.timeout }

// videoMedia is market.VideoMedia over media.VideoProcessor.
type videoMedia struct{ p *media.VideoProcessor }

func (m videoMedia) MakeVideo(ctx context.Context, key, prefix string) (market.VideoMade, error) {
	res, err := m.p.Process(ctx, key, prefix)
	switch {
	case errors.Is(err, media.ErrUnreadableVideo):
		return market.VideoMade{}, fmt.Errorf("%w: %s", market.ErrUnreadableVideo, strings.TrimPrefix(err.Error(), media.ErrUnreadableVideo.Error()+": "))
	case errors.Is(err, media.ErrObjectNotFound):
		return market.VideoMade{}, fmt.Errorf("%w: the original is gone", market.ErrUnreadableVideo)
	case err != nil:
		return market.VideoMade{}, err
	}
	return market.VideoMade{DurationMS: res.Duration.Milliseconds(), PosterKey: res.PosterKey, RenditionKey: res.RenditionKey}, nil
}
