package market

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
)

// Videos is the video job's use case: a clean video upload gets its poster, duration
// and rendition, recorded on its row and announced to its uploader.
type Videos struct {
	store    VideoStore
	media    VideoMedia
	realtime *Realtime
	log      *slog.Logger
}

// NewVideos returns the video use case over its collaborators.
func NewVideos(s VideoStore, m VideoMedia, rt *Realtime, log *slog.Logger) *Videos {
	if log == nil {
		log = slog.Default()
	}
	return &Videos{store: s, media: m, realtime: rt, log: log}
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

// VideoMedia makes a video's poster and rendition from its object and stores them
// under prefix; cmd/ adapts media.VideoProcessor to it. It returns an error wrapping
// ErrUnreadableVideo for a video that cannot be read; any other error is worth a retry.
type VideoMedia interface {
	MakeVideo(ctx context.Context, key, prefix string) (VideoMade, error)
}

// VideoStore keeps what the video job made; store/ implements it. Both methods return
// the upload.video event they stored with the change, and wrap ErrNotFound when the
// upload is missing or its video is no longer pending.
type VideoStore interface {
	Upload(ctx context.Context, id string) (Upload, error)
	FinishVideo(ctx context.Context, id string, made VideoMade) (Upload, Event, error)
	FailVideo(ctx context.Context, id, reason string) (Upload, Event, error)
}

// Process makes and records the poster, duration and rendition of upload id. An
// upload that is gone or whose video is not pending is done already (a job may run
// twice); an unreadable video is recorded as failed. Both return nil. Any other error
// (storage, S3, a stopped job) is returned for the job to be retried.
func (v *Videos) Process(ctx context.Context, id string) error {
	row, err := v.store.Upload(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if row.VideoStatus == nil || *row.VideoStatus != VideoPending || row.ObjectKey == nil {
		return nil
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
