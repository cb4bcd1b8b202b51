package market

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
)

// Videos is the video jobs' use case: a clean video upload is probed, refused when it
// would cost too much to process, and otherwise gets its poster, duration and rendition,
// recorded on its row and announced to its uploader.
type Videos struct {
	store    VideoStore
	media    VideoMedia
	realtime *Realtime
	cfg      VideosConfig
	log      *slog.Logger
}

// VideosConfig tunes the video jobs. The zero value means the defaults below.
type VideosConfig struct {
	// MaxWork is the most pixels one video's processing may encode: width × height ×
	// frames per second × the seconds it transcodes (VideoEstimate.Work). A video over it
	// is refused before its transcode is queued. 0 means DefaultVideoMaxWork.
	MaxWork int64
}

// DefaultVideoMaxWork is ten minutes of 1080p at 60 frames a second (about 7.5 × 10¹⁰
// pixels): every video short enough for a rendition at that size passes; 4K passes up
// to five minutes at 30 frames a second.
const DefaultVideoMaxWork int64 = 1920 * 1080 * 60 * 600

// NewVideos returns the video use case over its collaborators.
func NewVideos(s VideoStore, m VideoMedia, rt *Realtime, cfg VideosConfig, log *slog.Logger) *Videos {
	if log == nil {
		log = slog.Default()
	}
	if cfg.MaxWork <= 0 {
		cfg.MaxWork = DefaultVideoMaxWork
	}
	return &Videos{store: s, media: m, realtime: rt, cfg: cfg, log: log}
}

// VideoStatus is where a video upload's poster and rendition stand. Each change after
// pending is an upload.video event on the uploader's user channel.
type VideoStatus string

// The statuses of a video's processing: pending from the moment the video is clean
// (its job is queued in that transaction), then ready or failed.
const (
	VideoPending VideoStatus = "pending"
	VideoReady   VideoStatus = "ready"
	VideoFailed  VideoStatus = "failed"
)

// Video is what the video job learned of a video upload; every field is nil for an
// upload that is no video. The object keys are never shown: clients get presigned
// URLs (see VideoLinks).
type Video struct {
	VideoStatus  *VideoStatus `json:"video_status,omitempty" db:"video_status"`
	DurationMS   *int64       `json:"duration_ms,omitempty" db:"duration_ms"`
	VideoError   *string      `json:"video_error,omitempty" db:"video_error"`
	PosterKey    *string      `json:"-" db:"poster_key"`
	RenditionKey *string      `json:"-" db:"rendition_key"`
}

// IsVideo reports whether a clean upload gets a poster, a duration and a rendition:
// every gig video, and attachments whose bytes were sniffed as video.
func IsVideo(u Upload) bool {
	if u.Kind == UploadGigVideo {
		return true
	}
	return u.Kind == UploadAttachment && u.ContentType != nil && strings.HasPrefix(*u.ContentType, "video/")
}

// ErrUnreadableVideo means the video tools cannot read a video (corrupt or not really
// a video): the job records the video as failed and is not retried.
var ErrUnreadableVideo = errors.New("market: video cannot be read")

// VideoMade is what the video tools made of a video. RenditionKey is "" when the
// video was too long for a rendition.
type VideoMade struct {
	DurationMS   int64
	PosterKey    string
	RenditionKey string
}

// VideoEstimate is what a probe learned of a video before any processing: its size,
// frame rate and duration, and Work, the pixels its processing would encode (width ×
// height × frame rate × the seconds transcoded: the whole video when it gets a
// rendition, one second for a poster only).
type VideoEstimate struct {
	Width, Height int
	FPS           float64
	DurationMS    int64
	Work          int64
}

// VideoMedia is the video tools over stored objects; cmd/ adapts media.VideoProcessor to
// it. EstimateVideo probes the video under key; MakeVideo makes its poster and rendition
// and stores them under prefix. Both return an error wrapping ErrUnreadableVideo for a
// video that cannot be read; any other error is worth a retry.
type VideoMedia interface {
	EstimateVideo(ctx context.Context, key string) (VideoEstimate, error)
	MakeVideo(ctx context.Context, key, prefix string) (VideoMade, error)
}

// VideoStore keeps what the video jobs decided; store/ implements it. FinishVideo and
// FailVideo return the upload.video event they stored with the change; they and
// QueueVideoTranscode wrap ErrNotFound when the upload is missing or its video is no
// longer pending.
type VideoStore interface {
	Upload(ctx context.Context, id string) (Upload, error)
	QueueVideoTranscode(ctx context.Context, id string) error
	FinishVideo(ctx context.Context, id string, made VideoMade) (Upload, Event, error)
	FailVideo(ctx context.Context, id, reason string) (Upload, Event, error)
}

// Probe decides whether the pending video of upload id is processed: one that cannot be
// read, or whose VideoEstimate.Work is over the budget (VideosConfig.MaxWork), is failed
// with its reason; any other gets its transcode queued. An upload that is gone or not
// pending is done already. It returns storage and tool errors other than unreadable
// videos, for the job to be retried.
func (v *Videos) Probe(ctx context.Context, id string) error {
	row, ok, err := v.pending(ctx, id)
	if err != nil || !ok {
		return err
	}
	est, err := v.media.EstimateVideo(ctx, *row.ObjectKey)
	if errors.Is(err, ErrUnreadableVideo) {
		v.log.WarnContext(ctx, "video unreadable", "upload_id", id, "err", err)
		return v.Fail(ctx, id, ReasonUnreadableVideo)
	}
	if err != nil {
		return fmt.Errorf("probe video of upload %s: %w", id, err)
	}
	if est.Work > v.cfg.MaxWork {
		v.log.InfoContext(ctx, "video over the processing budget", "upload_id", id, "width", est.Width,
			"height", est.Height, "fps", est.FPS, "duration_ms", est.DurationMS, "work", est.Work, "budget", v.cfg.MaxWork)
		return v.Fail(ctx, id, ReasonVideoOverBudget)
	}
	if err := v.store.QueueVideoTranscode(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// pending returns upload id when its video waits for processing.
func (v *Videos) pending(ctx context.Context, id string) (Upload, bool, error) {
	row, err := v.store.Upload(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Upload{}, false, nil
	}
	if err != nil {
		return Upload{}, false, err
	}
	ok := row.VideoStatus != nil && *row.VideoStatus == VideoPending && row.ObjectKey != nil
	return row, ok, nil
}

// Process makes and records the poster, duration and rendition of upload id. An
// upload that is gone or whose video is not pending is done already (a job may run
// twice); an unreadable video is recorded as failed. Both return nil. Any other error
// (storage, S3, a stopped job) is returned for the job to be retried.
func (v *Videos) Process(ctx context.Context, id string) error {
	row, ok, err := v.pending(ctx, id)
	if err != nil || !ok {
		return err
	}
	made, err := v.media.MakeVideo(ctx, *row.ObjectKey, UploadKeyPrefix(row))
	if errors.Is(err, ErrUnreadableVideo) {
		v.log.WarnContext(ctx, "video unreadable", "upload_id", id, "err", err)
		return v.Fail(ctx, id, ReasonUnreadableVideo)
	}
	if err != nil {
		return fmt.Errorf("video of upload %s: %w", id, err)
	}
	_, ev, err := v.store.FinishVideo(ctx, id, made)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	v.realtime.PublishCommitted(ctx, ev)
	return nil
}

// Reasons a video failed, as its uploader reads them in video_error: never the tools'
// own words (paths, internals), which are only logged.
const (
	ReasonUnreadableVideo = "the file could not be read as a video"
	ReasonVideoGaveUp     = "the video could not be processed; upload it again later"
	// ReasonVideoOverBudget: its resolution × frame rate × duration is more than a
	// video's processing may cost (VideosConfig.MaxWork).
	ReasonVideoOverBudget = "the video is too large to process: lower its resolution, frame rate or length"
	// ReasonVideoTimedOut: processing ran past its time limit; it is not tried again.
	ReasonVideoTimedOut = "the video took too long to process"
	// ReasonTooManyVideos: the uploader already had the most videos waiting for
	// processing that one user may have; nothing was queued.
	ReasonTooManyVideos = "too many of your videos are being processed; upload this one again when they are done"
)

// Fail records that the video of upload id cannot be made, and why (a public reason,
// see ReasonUnreadableVideo), and announces it. A video no longer pending is left as
// it is. It returns only storage errors.
func (v *Videos) Fail(ctx context.Context, id, reason string) error {
	_, ev, err := v.store.FailVideo(ctx, id, reason)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	v.realtime.PublishCommitted(ctx, ev)
	return nil
}

// VideoLinks are short-lived URLs of a video's poster (a JPEG) and, once ready, its
// web-playable rendition (H.264/AAC MP4). Until then the original download plays.
type VideoLinks struct {
	PosterURL    string `json:"poster_url,omitempty"`
	RenditionURL string `json:"rendition_url,omitempty"`
}

// VideoLinks presigns the poster and rendition of row, an upload the caller was
// allowed to see (see Visible); an upload without them has empty links. It returns
// the pipeline's presigning errors.
func (u *Uploads) VideoLinks(ctx context.Context, row Upload) (VideoLinks, error) {
	var links VideoLinks
	if row.VideoStatus == nil || *row.VideoStatus != VideoReady {
		return links, nil
	}
	base := strings.TrimSuffix(row.Filename, path.Ext(row.Filename))
	if base == "" {
		base = "video"
	}
	var err error
	if row.PosterKey != nil {
		if links.PosterURL, err = u.media.PresignDownload(ctx, *row.PosterKey, base+"-poster.jpg", "image/jpeg"); err != nil {
			return VideoLinks{}, err
		}
	}
	if row.RenditionKey != nil {
		if links.RenditionURL, err = u.media.PresignDownload(ctx, *row.RenditionKey, base+".mp4", "video/mp4"); err != nil {
			return VideoLinks{}, err
		}
	}
	return links, nil
}
