package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/media"
	"github.com/gigstream/hub/store"
)

// imageConfig tunes image variants and the public media they are served as.
type imageConfig struct {
	MaxPixels  int64         // IMAGE_MAX_PIXELS: the most pixels an original may have to get variants
	JobTimeout time.Duration // IMAGE_JOB_TIMEOUT: longest run of one image's variants
	// CDNMaxAge is how long a shared cache (a CDN) may serve a public variant before it
	// asks the node again (MEDIA_CDN_MAX_AGE): the bound on how long a taken-down image
	// stays reachable through a CDN.
	CDNMaxAge time.Duration
	Streams   int // MEDIA_STREAMS_PER_NODE: public variants streamed at once per node
}

// loadImageConfig reads the image settings.
func loadImageConfig(e *envReader, c *config) {
	c.Images = imageConfig{
		MaxPixels:  int64(e.integer("IMAGE_MAX_PIXELS", media.DefaultImageMaxPixels, 1_000_000, 500_000_000)),
		JobTimeout: e.duration("IMAGE_JOB_TIMEOUT", 2*time.Minute, 5*time.Second, time.Hour),
		CDNMaxAge:  e.duration("MEDIA_CDN_MAX_AGE", 5*time.Minute, 0, 24*time.Hour),
		Streams:    e.integer("MEDIA_STREAMS_PER_NODE", 256, 1, 100_000),
	}
}

// newImages builds the image use case over the object store.
func newImages(cfg config, db *store.DB, objects *media.ObjectStore, rt *market.Realtime, log *slog.Logger) *market.Images {
	p := media.NewImageProcessor(objects, media.ImageConfig{MaxPixels: cfg.Images.MaxPixels})
	return market.NewImages(db, imageMedia{p: p, objects: objects}, rt, log)
}

// imageWorker runs store.ImageJob: the variants of a clean gig image or avatar.
type imageWorker struct {
	river.WorkerDefaults[store.ImageJob]
	images  *market.Images
	timeout time.Duration
}

// Work makes the variants. On the last attempt, or past its timeout (an image that
// took that long will again), the image is recorded as failed, so it never stays
// pending once river gives up; other errors are retried.
func (w *imageWorker) Work(ctx context.Context, job *river.Job[store.ImageJob]) error {
	err := w.images.Process(ctx, job.Args.UploadID)
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
	if err == nil || (!timedOut && job.Attempt < job.MaxAttempts) {
		return err
	}
	failCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if ferr := w.images.Fail(failCtx, job.Args.UploadID, market.ReasonImageGaveUp); ferr != nil {
		return errors.Join(err, ferr)
	}
	if timedOut {
		return river.JobCancel(fmt.Errorf("image job timed out: %w", err))
	}
	return err
}

// Timeout is the longest one image job may run.
func (w *imageWorker) Timeout(*river.Job[store.ImageJob]) time.Duration { return w.timeout }

// imageMedia is market.ImageMedia over media.ImageProcessor and media.ObjectStore.
type imageMedia struct {
	p       *media.ImageProcessor
	objects *media.ObjectStore
}

func (m imageMedia) MakeImage(ctx context.Context, key, prefix string) (market.ImageMade, error) {
	res, err := m.p.Process(ctx, key, prefix)
	if err != nil {
		return market.ImageMade{}, imageError(err)
	}
	made := market.ImageMade{Width: res.Width, Height: res.Height, Placeholder: res.Placeholder}
	for _, v := range res.Variants {
		made.Variants = append(made.Variants, market.StoredVariant{Width: v.Width, Height: v.Height,
			Format: v.Format, Key: v.Key, SHA256: v.SHA256, Size: v.Size})
	}
	return made, nil
}

func (m imageMedia) OpenObject(ctx context.Context, key string) (io.ReadCloser, error) {
	body, _, err := m.objects.Open(ctx, key)
	return body, err
}

// imageError maps the image tools' errors to the domain's: too large and unreadable
// originals (a missing original too) wrap the market's errors; anything else is
// returned as is.
func imageError(err error) error {
	words := func(e error) string { return strings.TrimPrefix(err.Error(), e.Error()+": ") }
	switch {
	case errors.Is(err, media.ErrImageTooLarge):
		return fmt.Errorf("%w: %s", market.ErrImageTooLarge, words(media.ErrImageTooLarge))
	case errors.Is(err, media.ErrUnreadableImage):
		return fmt.Errorf("%w: %s", market.ErrUnreadableImage, words(media.ErrUnreadableImage))
	case errors.Is(err, media.ErrObjectNotFound):
		return fmt.Errorf("%w: the original is gone", market.ErrUnreadableImage)
	}
	return err
}
