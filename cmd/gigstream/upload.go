package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gigstream/hub/handlers"
	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/media"
	"github.com/gigstream/hub/media/tus"
	"github.com/gigstream/hub/store"
)

// uploadConfig holds the upload settings: per-kind size limits (0 keeps the pipeline's
// default), timeouts and clamd's stream limit.
type uploadConfig struct {
	MaxSize         map[media.Kind]int64
	IdleTimeout     time.Duration
	Streams         handlers.UploadStreams // caps on bodies in flight, minimum rate
	PresignTTL      time.Duration
	TusExpiry       time.Duration
	TusRetry        time.Duration // how often, and after how long, stalled tus scans are retried
	TusLeaseTTL     time.Duration // a tus request's claim on its upload, renewed while it works
	TusLeaseWait    time.Duration // how long a tus request waits for another's claim
	StreamMaxLength int64
	ScanLimit       int64 // the largest file clamd can judge; 0: media.DefaultScanLimit
	// VideoJobsPerUser is how many videos of one user may be pending (probe or transcode
	// queued or running) at once; a further video is failed at once (store.Config).
	VideoJobsPerUser int
}

// loadUploadConfig reads the upload settings.
func loadUploadConfig(e *envReader, c *config) {
	c.Uploads = uploadConfig{
		MaxSize: map[media.Kind]int64{
			media.KindAvatar:      int64(e.integer("UPLOAD_MAX_AVATAR", 0, 0, 1<<40)),
			media.KindGigImage:    int64(e.integer("UPLOAD_MAX_GIG_IMAGE", 0, 0, 1<<40)),
			media.KindGigVideo:    int64(e.integer("UPLOAD_MAX_GIG_VIDEO", 0, 0, 1<<40)),
			media.KindAttachment:  int64(e.integer("UPLOAD_MAX_ATTACHMENT", 0, 0, 1<<40)),
			media.KindDeliverable: int64(e.integer("UPLOAD_MAX_DELIVERABLE", 0, 0, 1<<40)),
		},
		IdleTimeout: e.duration("UPLOAD_IDLE_TIMEOUT", 60*time.Second, time.Second, time.Hour),
		Streams: handlers.UploadStreams{
			PerNode: e.integer("UPLOAD_STREAMS_PER_NODE", 64, 1, 100_000),
			PerUser: e.integer("UPLOAD_STREAMS_PER_USER", 4, 1, 10_000),
			MinRate: e.integer("UPLOAD_MIN_RATE", 2048, 1, 1<<30),
			Window:  e.duration("UPLOAD_RATE_WINDOW", 20*time.Second, time.Second, time.Hour),
		},
		PresignTTL:      e.duration("UPLOAD_DOWNLOAD_URL_TTL", 5*time.Minute, 10*time.Second, 24*time.Hour),
		TusExpiry:       e.duration("TUS_EXPIRY", 24*time.Hour, time.Minute, 30*24*time.Hour),
		TusRetry:        e.duration("TUS_RETRY_INTERVAL", time.Minute, time.Second, time.Hour),
		TusLeaseTTL:     e.duration("TUS_LEASE_TTL", 30*time.Second, time.Second, 10*time.Minute),
		TusLeaseWait:    e.duration("TUS_LEASE_WAIT", 5*time.Second, 10*time.Millisecond, time.Minute),
		StreamMaxLength: int64(e.integer("CLAMD_STREAM_MAX_LENGTH", 0, 0, 1<<40)),
		ScanLimit:       int64(e.integer("CLAMD_SCAN_LIMIT", 0, 0, 1<<40)),

		VideoJobsPerUser: e.integer("VIDEO_JOBS_PER_USER", 3, 1, 1000),
	}
}

// mediaConfig is the pipeline's Config with the configured limits on top of its defaults.
func (u uploadConfig) mediaConfig(log *slog.Logger) media.Config {
	policies := map[media.Kind]media.Policy{}
	for k, n := range u.MaxSize {
		if n > 0 {
			def, _ := media.DefaultPolicy(k)
			policies[k] = media.Policy{MaxSize: n, AnyType: def.AnyType}
		}
	}
	return media.Config{Policies: policies, Logger: log, ScanLimit: u.ScanLimit}
}

// maxSize is the largest limit of any kind (tus's Tus-Max-Size).
func maxSize(cfg media.Config) int64 {
	var largest int64
	for _, k := range media.Kinds() {
		if p, err := cfg.Policy(k); err == nil {
			largest = max(largest, p.MaxSize)
		}
	}
	return largest
}

// uploadWiring is what the upload routes need.
type uploadWiring struct {
	uploads *market.Uploads
	tus     *tus.Engine
	maxSize int64
}

// newUploads builds the pipeline, the upload use cases and the tus engine; serve runs
// the tus upkeep (tusUpkeep).
func newUploads(cfg config, db *store.DB, objects *media.ObjectStore, scanner *media.Scanner, rt *market.Realtime, log *slog.Logger) uploadWiring {
	mcfg := cfg.Uploads.mediaConfig(log)
	pipeline := media.NewPipeline(scanner, objects, mcfg)
	adapter := mediaAdapter{pipeline: pipeline, objects: objects, cfg: mcfg, ttl: cfg.Uploads.PresignTTL}
	engine := tus.NewEngine(db.TusState(), objects, pipeline, tus.Config{Media: mcfg, Expiry: cfg.Uploads.TusExpiry, Logger: log,
		LeaseTTL: cfg.Uploads.TusLeaseTTL, LeaseWait: cfg.Uploads.TusLeaseWait})
	uploads := market.NewUploads(db, adapter, handlers.TusResumables{Engine: engine}, rt, log)
	return uploadWiring{uploads: uploads, tus: engine, maxSize: maxSize(mcfg)}
}

// tusUpkeep finishes stalled uploads every retry (those quiet that long) and
// terminates unfinished tus uploads past their expiry every five minutes.
func tusUpkeep(ctx context.Context, uploads *market.Uploads, engine *tus.Engine, retry time.Duration, log *slog.Logger) {
	finish := time.NewTicker(retry)
	defer finish.Stop()
	expire := time.NewTicker(5 * time.Minute)
	defer expire.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-finish.C:
			if n, err := uploads.FinishStalled(ctx, retry); err != nil || n > 0 {
				log.InfoContext(ctx, "finished stalled tus uploads", "finished", n, "err", err)
			}
		case <-expire.C:
			if n, err := engine.ExpireStale(ctx); err != nil || n > 0 {
				log.InfoContext(ctx, "expired tus uploads", "removed", n, "err", err)
			}
		}
	}
}

// mediaAdapter is market.MediaPipeline over media.Pipeline and media.ObjectStore.
type mediaAdapter struct {
	pipeline *media.Pipeline
	objects  *media.ObjectStore
	cfg      media.Config
	ttl      time.Duration
}

func (m mediaAdapter) CheckSize(kind market.UploadKind, declared int64) error {
	pol, err := m.cfg.Policy(media.Kind(kind))
	if err != nil {
		return err
	}
	if declared > pol.MaxSize {
		return &media.TooLargeError{Limit: pol.MaxSize}
	}
	return nil
}

func (m mediaAdapter) SanitizeFilename(name string) string { return media.SanitizeFilename(name) }

func (m mediaAdapter) Ingest(ctx context.Context, in market.IngestInput) (market.StoredObject, error) {
	res, err := m.pipeline.Ingest(ctx, media.IngestRequest{
		Kind: media.Kind(in.Kind), Body: in.Body, DeclaredSize: in.DeclaredSize,
		Filename: in.Filename, KeyPrefix: in.KeyPrefix,
	})
	if err != nil {
		return market.StoredObject{}, asRejection(err)
	}
	return market.StoredObject{Key: res.Key, Size: res.Size, SHA256: res.SHA256, ContentType: res.ContentType, Filename: res.Filename}, nil
}

// asRejection wraps the pipeline's verdicts on the content in a *market.RejectedUpload.
func asRejection(err error) error {
	var infected *media.InfectedError
	var badType *media.UnsupportedTypeError
	switch {
	case errors.As(err, &infected):
		return &market.RejectedUpload{Reason: "rejected by the virus scanner", Signature: infected.Signature, Err: err}
	case errors.As(err, &badType):
		return &market.RejectedUpload{Reason: "content type " + badType.ContentType + " not allowed", Err: err}
	case errors.Is(err, media.ErrTooLarge):
		return &market.RejectedUpload{Reason: "too large", Err: err}
	}
	return err
}

func (m mediaAdapter) Delete(ctx context.Context, key string) error {
	return m.objects.Delete(ctx, key)
}

func (m mediaAdapter) PresignDownload(ctx context.Context, key, filename, contentType string) (string, error) {
	return m.objects.PresignGet(ctx, key, filename, contentType, m.ttl)
}
