package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/media"
	"github.com/gigstream/hub/store"
	"github.com/gigstream/hub/telemetry"
)

// jobsConfig tunes the background jobs every serve node runs (river, in Postgres).
type jobsConfig struct {
	Workers              queueWorkers  // JOB_WORKERS_MONEY, _MAIL, _MEDIA, _PUSH: jobs at once per node and queue
	PollInterval         time.Duration // JOB_POLL_INTERVAL: how often idle workers look for jobs
	JobTimeout           time.Duration // VIDEO_JOB_TIMEOUT: longest run of one transcode; past it the video fails
	ProbeTimeout         time.Duration // VIDEO_PROBE_TIMEOUT: longest run of one video probe
	MaxRenditionDuration time.Duration // VIDEO_MAX_RENDITION_DURATION: longer videos get no rendition
	MaxWork              int64         // VIDEO_MAX_WORK: pixels one video's processing may encode
	TempDir              string        // VIDEO_TEMP_DIR: where videos are processed; "" is the system's
	FFmpegPath           string        // FFMPEG_PATH
	FFprobePath          string        // FFPROBE_PATH
	FFmpegThreads        int           // FFMPEG_THREADS: encoder threads per job; 0 lets ffmpeg choose
}

// queueWorkers is how many jobs of each queue one node runs at once. Each queue has its
// own workers, so no queue's backlog takes another's.
type queueWorkers struct{ Money, Mail, Media, Push int }

// loadJobsConfig reads the job settings; it returns the reader's first error.
func loadJobsConfig(e *envReader) (jobsConfig, error) {
	c := jobsConfig{
		Workers: queueWorkers{
			Money: e.integer("JOB_WORKERS_MONEY", 2, 1, 64),
			Mail:  e.integer("JOB_WORKERS_MAIL", 2, 1, 64),
			Media: e.integer("JOB_WORKERS_MEDIA", max(1, runtime.NumCPU()/2), 1, 64),
			Push:  e.integer("JOB_WORKERS_PUSH", 4, 1, 64),
		},
		PollInterval:         e.duration("JOB_POLL_INTERVAL", time.Second, 100*time.Millisecond, time.Minute),
		JobTimeout:           e.duration("VIDEO_JOB_TIMEOUT", 30*time.Minute, 5*time.Second, 24*time.Hour),
		ProbeTimeout:         e.duration("VIDEO_PROBE_TIMEOUT", 5*time.Minute, 5*time.Second, time.Hour),
		MaxRenditionDuration: e.duration("VIDEO_MAX_RENDITION_DURATION", 10*time.Minute, time.Second, 24*time.Hour),
		MaxWork:              int64(e.integer("VIDEO_MAX_WORK", int(market.DefaultVideoMaxWork), 1, 1<<60)),
		TempDir:              e.str("VIDEO_TEMP_DIR", ""),
		FFmpegPath:           e.str("FFMPEG_PATH", "ffmpeg"),
		FFprobePath:          e.str("FFPROBE_PATH", "ffprobe"),
		FFmpegThreads:        e.integer("FFMPEG_THREADS", 0, 0, 64),
	}
	return c, e.err
}

// queues gives money, mail and media their own workers. The legacy default queue, where
// earlier versions put every job, keeps one worker so that jobs queued before an upgrade
// still run.
func (w queueWorkers) queues() map[string]river.QueueConfig {
	return map[string]river.QueueConfig{
		store.QueueMoney:  {MaxWorkers: w.Money},
		store.QueueMail:   {MaxWorkers: w.Mail},
		store.QueueMedia:  {MaxWorkers: w.Media},
		store.QueuePush:   {MaxWorkers: w.Push},
		store.QueueLegacy: {MaxWorkers: 1},
	}
}

// startJobs runs this node's job workers until the returned stop is called. stop lets
// running jobs finish within shutdown, then cancels them: a cancelled job is retried
// later, on this node or another, because river keeps it in Postgres. The queues' backlog
// and every job's outcome are exported to reg (see jobMetrics).
func startJobs(ctx context.Context, cfg config, jc jobsConfig, db *store.DB, objects *media.ObjectStore, d *domain, reg prometheus.Registerer, rep *telemetry.Reporter, log *slog.Logger) (stop func(), err error) {
	workers := river.NewWorkers()
	addVideoWorkers(workers, jc, db, objects, d, log)
	river.AddWorker(workers, &objectDeleteWorker{objects: objects})
	river.AddWorker(workers, &imageWorker{images: d.images, timeout: cfg.Images.JobTimeout})
	periodic := settlementJob(workers, d.settlement, d.payouts, cfg.Settlement.JobInterval, log)
	periodic = append(periodic, reconciliationJob(workers, d.reconciliation, cfg.Reconciliation, log)...)
	mail := newSubscribedMail(cfg, d.mail, reg, log) // unsubscribe links, suppression, DKIM
	addNotificationEmailWorker(workers, cfg, d.notifications, mail)
	river.AddWorker(workers, &invoiceDeliverWorker{invoices: d.invoices})
	addChatReachWorkers(workers, cfg, d.chat, mail)
	river.AddWorker(workers, &heldPushWorker{notifications: d.notifications, chat: d.chat})
	river.AddWorker(workers, &savedSearchMatchWorker{savedSearches: d.savedSearches, log: log})
	river.AddWorker(workers, &notificationPushWorker{notifications: d.notifications, maxWait: cfg.Notifications.PushMaxRetryAfter})
	client, err := river.NewClient(db.JobDriver(), &river.Config{
		Queues:            jc.Workers.queues(),
		Workers:           workers,
		PeriodicJobs:      periodic,
		JobTimeout:        10 * time.Minute, // workers with their own Timeout override it
		FetchPollInterval: jc.PollInterval,
		FetchCooldown:     min(100*time.Millisecond, jc.PollInterval),
		Logger:            log.With("component", "jobs"),
		Middleware:        jobMiddleware(rep, cfg.Telemetry.tracer), // spans; panics and jobs given up on go to Sentry
	})
	if err != nil {
		return nil, fmt.Errorf("job client: %w", err)
	}
	metrics, err := newJobMetrics(reg, db, log)
	if err != nil {
		return nil, err
	}
	events, unsubscribe := client.Subscribe(jobEvents...)
	metricsCtx, stopMetrics := context.WithCancel(context.WithoutCancel(ctx))
	go metrics.run(metricsCtx, events, jc.PollInterval)
	stop = func() {
		stopJobs(ctx, client, cfg.ShutdownTimeout, log)
		stopMetrics()
		unsubscribe()
	}
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		stop()
		return nil, fmt.Errorf("start jobs: %w", err)
	}
	return stop, nil
}

// addVideoWorkers registers the video probe and transcode workers.
func addVideoWorkers(workers *river.Workers, jc jobsConfig, db *store.DB, objects *media.ObjectStore, d *domain, log *slog.Logger) {
	tools := media.NewFFmpeg(media.FFmpegConfig{FFmpegPath: jc.FFmpegPath, FFprobePath: jc.FFprobePath, Threads: jc.FFmpegThreads})
	processor := media.NewVideoProcessor(objects, tools,
		media.VideoConfig{TempDir: jc.TempDir, MaxRenditionDuration: jc.MaxRenditionDuration})
	videos := market.NewVideos(db, videoMedia{processor}, d.realtime, market.VideosConfig{MaxWork: jc.MaxWork}, log)
	river.AddWorker(workers, &videoProbeWorker{videos: videos, timeout: jc.ProbeTimeout})
	river.AddWorker(workers, &videoWorker{videos: videos, timeout: jc.JobTimeout})
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

// videoProbeWorker runs store.VideoProbeJob: it refuses a video that is unreadable or
// over the processing budget, and queues the transcode of any other.
type videoProbeWorker struct {
	river.WorkerDefaults[store.VideoProbeJob]
	videos  *market.Videos
	timeout time.Duration
}

// Work probes the video; see videoOutcome for timeouts and the last attempt.
func (w *videoProbeWorker) Work(ctx context.Context, job *river.Job[store.VideoProbeJob]) error {
	return videoOutcome(ctx, w.videos, job.JobRow, job.Args.UploadID, w.videos.Probe(ctx, job.Args.UploadID))
}

// Timeout is the longest one probe may run.
func (w *videoProbeWorker) Timeout(*river.Job[store.VideoProbeJob]) time.Duration { return w.timeout }

// videoWorker runs store.VideoJob: the poster, duration and rendition of an upload.
type videoWorker struct {
	river.WorkerDefaults[store.VideoJob]
	videos  *market.Videos
	timeout time.Duration
}

// Work processes the video; see videoOutcome for timeouts and the last attempt.
func (w *videoWorker) Work(ctx context.Context, job *river.Job[store.VideoJob]) error {
	return videoOutcome(ctx, w.videos, job.JobRow, job.Args.UploadID, w.videos.Process(ctx, job.Args.UploadID))
}

// Timeout is the longest one video job may run.
func (w *videoWorker) Timeout(*river.Job[store.VideoJob]) time.Duration { return w.timeout }

// videoOutcome turns a video job's error into river's answer. A job that ran past its
// timeout is final: the video is recorded as failed (ReasonVideoTimedOut) and the job
// cancelled, since the same video would take as long again. On the last attempt any
// failure is recorded on the upload, so a video never stays pending once river gives up.
// Other errors (a shutdown, S3 down) are retried.
func videoOutcome(ctx context.Context, videos *market.Videos, job *rivertype.JobRow, uploadID string, err error) error {
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
	if err == nil || (!timedOut && job.Attempt < job.MaxAttempts) {
		return err
	}
	reason := market.ReasonVideoGaveUp
	if timedOut {
		reason = market.ReasonVideoTimedOut
	}
	failCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if ferr := videos.Fail(failCtx, uploadID, reason); ferr != nil {
		return errors.Join(err, ferr) // retried: the failure could not be recorded
	}
	if timedOut {
		return river.JobCancel(fmt.Errorf("video job timed out: %w", err))
	}
	return err
}

// videoMedia is market.VideoMedia over media.VideoProcessor.
type videoMedia struct{ p *media.VideoProcessor }

func (m videoMedia) EstimateVideo(ctx context.Context, key string) (market.VideoEstimate, error) {
	est, err := m.p.Estimate(ctx, key)
	if err != nil {
		return market.VideoEstimate{}, videoError(err)
	}
	return market.VideoEstimate{Width: est.Width, Height: est.Height, FPS: est.FPS, DurationMS: est.Duration.Milliseconds(), Work: est.Work}, nil
}

func (m videoMedia) MakeVideo(ctx context.Context, key, prefix string) (market.VideoMade, error) {
	res, err := m.p.Process(ctx, key, prefix)
	if err != nil {
		return market.VideoMade{}, videoError(err)
	}
	return market.VideoMade{DurationMS: res.Duration.Milliseconds(), PosterKey: res.PosterKey, RenditionKey: res.RenditionKey}, nil
}

// videoError maps the video tools' errors to the domain's: unreadable and missing
// originals wrap market.ErrUnreadableVideo; anything else is returned as is.
func videoError(err error) error {
	switch {
	case errors.Is(err, media.ErrUnreadableVideo):
		return fmt.Errorf("%w: %s", market.ErrUnreadableVideo, strings.TrimPrefix(err.Error(), media.ErrUnreadableVideo.Error()+": "))
	case errors.Is(err, media.ErrObjectNotFound):
		return fmt.Errorf("%w: the original is gone", market.ErrUnreadableVideo)
	}
	return err
}
