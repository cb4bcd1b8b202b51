package market

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Images is the image jobs' use case and the public media it produces: a clean gig
// image or avatar gets responsive variants (WebP and JPEG at up to three widths), its
// dimensions and a blur placeholder, recorded on its row and announced to its
// uploader; the variants are then served at content-addressed public URLs while the
// image is public (see OpenPublicVariant).
type Images struct {
	store    ImageStore
	media    ImageMedia
	realtime *Realtime
	log      *slog.Logger
}

// NewImages returns the image use case over its collaborators.
func NewImages(s ImageStore, m ImageMedia, rt *Realtime, log *slog.Logger) *Images {
	if log == nil {
		log = slog.Default()
	}
	return &Images{store: s, media: m, realtime: rt, log: log}
}

// ImageStatus is where an image upload's variants stand. Each change after pending is
// an upload.image event on the uploader's user channel.
type ImageStatus string

// The statuses of an image's processing: pending from the moment the image is clean
// (its job is queued in that transaction), then ready or failed.
const (
	ImagePending ImageStatus = "pending"
	ImageReady   ImageStatus = "ready"
	ImageFailed  ImageStatus = "failed"
)

// Image is what the image job learned of a gig image or avatar upload; every field is
// nil for an upload that is no such image (or one whose type gets no variants, AVIF).
type Image struct {
	ImageStatus *ImageStatus `json:"image_status,omitempty" db:"image_status"`
	ImageWidth  *int         `json:"width,omitempty" db:"image_width"`
	ImageHeight *int         `json:"height,omitempty" db:"image_height"`
	Placeholder *string      `json:"placeholder,omitempty" db:"placeholder"`
	ImageError  *string      `json:"image_error,omitempty" db:"image_error"`
}

// VariantImageTypes are the sniffed types whose originals get variants: the types a
// pure-Go decoder reads. AVIF originals are served as uploaded.
var VariantImageTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp"}

// HasVariants reports whether a clean upload gets image variants: gig images and
// avatars of a type in VariantImageTypes.
func HasVariants(u Upload) bool {
	if u.Kind != UploadGigImage && u.Kind != UploadAvatar || u.ContentType == nil {
		return false
	}
	for _, t := range VariantImageTypes {
		if *u.ContentType == t {
			return true
		}
	}
	return false
}

// ImageVariant is one responsive variant as clients see it: its size, format (webp or
// jpeg) and URL, a content-addressed public path (see MediaPath).
type ImageVariant struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Format string `json:"format"`
	URL    string `json:"url"`
}

// Picture is what a client needs to show a ready image: its full dimensions, a
// BlurHash placeholder to paint while loading, and its variants, widest first and
// WebP before JPEG at each width (a srcset per format).
type Picture struct {
	Width       int            `json:"width"`
	Height      int            `json:"height"`
	Placeholder string         `json:"placeholder"`
	Variants    []ImageVariant `json:"variants"`
}

// Scan reads a picture the store built as JSON ({width, height, placeholder, variants:
// [{width, height, format, sha256}]}) and turns each variant's hash into its URL. NULL
// leaves the picture empty; the caller's field is a pointer, so it stays nil.
func (p *Picture) Scan(src any) error {
	var row struct {
		Width, Height int
		Placeholder   string
		Variants      []struct {
			Width, Height  int
			Format, SHA256 string
		}
	}
	if null, err := scanJSON(src, "picture", &row); null || err != nil {
		return err
	}
	*p = Picture{Width: row.Width, Height: row.Height, Placeholder: row.Placeholder, Variants: []ImageVariant{}}
	for _, v := range row.Variants {
		p.Variants = append(p.Variants, ImageVariant{Width: v.Width, Height: v.Height, Format: v.Format, URL: MediaPath(v.SHA256, v.Format)})
	}
	return nil
}

// MediaPath is the public, immutable URL path of a variant: the SHA-256 of its bytes
// and its format's extension. The bytes behind a path never change, so caches may
// keep them for a year; whether the path is served at all is decided per request
// (see OpenPublicVariant).
func MediaPath(sha256, format string) string {
	return "/media/" + sha256 + VariantExt(format)
}

// VariantExt is the file extension of a variant format, with its dot.
func VariantExt(format string) string {
	if format == "webp" {
		return ".webp"
	}
	return ".jpg"
}

// VariantContentType is the media type of a variant format.
func VariantContentType(format string) string {
	if format == "webp" {
		return "image/webp"
	}
	return "image/jpeg"
}

// ParseMediaPath reads the file name of a public media path ("{sha256}.webp" or
// ".jpg") into its hash and format; ok is false for anything else.
func ParseMediaPath(name string) (sha256, format string, ok bool) {
	hash, ext, found := strings.Cut(name, ".")
	if !found || len(hash) != 64 || strings.Trim(hash, "0123456789abcdef") != "" {
		return "", "", false
	}
	switch ext {
	case "webp":
		return hash, "webp", true
	case "jpg":
		return hash, "jpeg", true
	}
	return "", "", false
}

// StoredVariant is one variant the image tools stored.
type StoredVariant struct {
	Width, Height int
	Format        string // webp or jpeg
	Key           string
	SHA256        string
	Size          int64
}

// ImageMade is what the image tools made of an original.
type ImageMade struct {
	Width, Height int
	Placeholder   string
	Variants      []StoredVariant
}

// ErrUnreadableImage means the image tools cannot decode an image (corrupt, not really
// an image) and ErrImageTooLarge that its header declares more pixels than processing
// may cost (a decompression bomb): the job records the image as failed, not retried.
var (
	ErrUnreadableImage = errors.New("market: image cannot be read")
	ErrImageTooLarge   = errors.New("market: image too large to process")
)

// PublicVariant is a variant found public by its hash: where its bytes are and what
// they are.
type PublicVariant struct {
	Key    string `db:"object_key"`
	Format string `db:"format"`
	Size   int64  `db:"size"`
}

// ImageMedia is the image tools over stored objects; cmd/ adapts media.ImageProcessor
// and media.ObjectStore to it. MakeImage returns an error wrapping ErrUnreadableImage
// or ErrImageTooLarge for an image it will not process; any other error is worth a
// retry. OpenObject streams a stored object.
type ImageMedia interface {
	MakeImage(ctx context.Context, key, prefix string) (ImageMade, error)
	OpenObject(ctx context.Context, key string) (io.ReadCloser, error)
}

// ImageStore keeps what the image jobs decided; store/ implements it. FinishImage and
// FailImage return the upload.image event they stored with the change and wrap
// ErrNotFound when the upload is missing or its image no longer pending.
// PublicVariant finds a variant with the hash whose image anyone may see now (a gig
// image of a published gig of an active seller, an avatar of an active user), or wraps
// ErrNotFound.
type ImageStore interface {
	Upload(ctx context.Context, id string) (Upload, error)
	FinishImage(ctx context.Context, id string, made ImageMade) (Upload, Event, error)
	FailImage(ctx context.Context, id, reason string) (Upload, Event, error)
	PublicVariant(ctx context.Context, sha256, format string) (PublicVariant, error)
}

// Reasons an image got no variants, as its uploader reads them in image_error.
const (
	ReasonUnreadableImage = "the file could not be read as an image"
	ReasonImageTooLarge   = "the image has too many pixels to process"
	ReasonImageGaveUp     = "the image could not be processed; upload it again later"
)

// Process makes and records the variants of upload id. An upload that is gone, not
// clean or whose image is not pending is done already (a job may run twice); an image
// that cannot be read or is over the pixel budget is recorded as failed. Both return
// nil. Any other error (storage, S3, a stopped job) is returned for a retry.
func (im *Images) Process(ctx context.Context, id string) error {
	row, err := im.store.Upload(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if row.Status != UploadClean || row.ObjectKey == nil || row.ImageStatus == nil || *row.ImageStatus != ImagePending {
		return nil
	}
	made, err := im.media.MakeImage(ctx, *row.ObjectKey, UploadKeyPrefix(row))
	switch {
	case errors.Is(err, ErrImageTooLarge):
		im.log.WarnContext(ctx, "image over the pixel budget", "upload_id", id, "err", err)
		return im.Fail(ctx, id, ReasonImageTooLarge)
	case errors.Is(err, ErrUnreadableImage):
		im.log.WarnContext(ctx, "image unreadable", "upload_id", id, "err", err)
		return im.Fail(ctx, id, ReasonUnreadableImage)
	case err != nil:
		return fmt.Errorf("image of upload %s: %w", id, err)
	}
	_, ev, err := im.store.FinishImage(ctx, id, made)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	im.realtime.PublishCommitted(ctx, ev)
	return nil
}

// Fail records that the variants of upload id cannot be made, and why (a public
// reason), and announces it. An image no longer pending is left as it is. It returns
// only storage errors.
func (im *Images) Fail(ctx context.Context, id, reason string) error {
	_, ev, err := im.store.FailImage(ctx, id, reason)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	im.realtime.PublishCommitted(ctx, ev)
	return nil
}

// OpenPublicVariant opens the bytes of the public variant named by sha256 and format
// (see ParseMediaPath) for streaming: the visibility check is one query, finished
// before the object store is asked, so no database connection is held while the bytes
// flow. A variant whose image is not public now (the gig unpublished or paused, the
// seller or avatar owner disabled or deleted) is a not-found Error, as is an unknown
// hash. Other errors are the store's or the object store's.
func (im *Images) OpenPublicVariant(ctx context.Context, sha256, format string) (io.ReadCloser, PublicVariant, error) {
	v, err := im.store.PublicVariant(ctx, sha256, format)
	if err != nil {
		return nil, PublicVariant{}, err
	}
	body, err := im.media.OpenObject(ctx, v.Key)
	if err != nil {
		return nil, PublicVariant{}, err
	}
	return body, v, nil
}

// CheckPublicVariant is OpenPublicVariant without the bytes: a conditional request
// whose ETag matches needs only to know the variant is still public.
func (im *Images) CheckPublicVariant(ctx context.Context, sha256, format string) (PublicVariant, error) {
	return im.store.PublicVariant(ctx, sha256, format)
}
