package market

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"time"
)

// Uploads holds the upload use cases: who may upload what for which gig or
// conversation, the upload row's life (uploading → scanning → clean or rejected) with
// its events, and who may see and download an upload.
type Uploads struct {
	store      UploadStore
	media      MediaPipeline
	resumables Resumables
	realtime   *Realtime
	log        *slog.Logger
}

// NewUploads returns the upload use cases over their collaborators; r finishes
// resumable uploads and may be nil where there are none.
func NewUploads(s UploadStore, m MediaPipeline, r Resumables, rt *Realtime, log *slog.Logger) *Uploads {
	if log == nil {
		log = slog.Default()
	}
	return &Uploads{store: s, media: m, resumables: r, realtime: rt, log: log}
}

// UploadKind says what an upload is for; it decides who may attach it where and who
// may see it. The values are the media pipeline's kinds.
type UploadKind string

// The upload kinds of the marketplace.
const (
	UploadAvatar      UploadKind = "avatar"
	UploadGigImage    UploadKind = "gig_image"
	UploadGigVideo    UploadKind = "gig_video"
	UploadAttachment  UploadKind = "attachment"
	UploadDeliverable UploadKind = "deliverable"
)

// ParseUploadKind turns a wire value into an UploadKind, or returns an invalid Error
// naming the kind field.
func ParseUploadKind(s string) (UploadKind, error) {
	k := UploadKind(s)
	if !slices.Contains([]UploadKind{UploadAvatar, UploadGigImage, UploadGigVideo, UploadAttachment, UploadDeliverable}, k) {
		return "", FieldError(CodeInvalid, "kind", "must be one of avatar, gig_image, gig_video, attachment, deliverable")
	}
	return k, nil
}

// UploadStatus is where an upload stands; each change is an upload.status event on the
// uploader's user channel.
type UploadStatus string

// The statuses of an upload. StatusFailed is never stored: it is the last event of an
// upload whose row was removed because clamd or S3 failed.
const (
	UploadUploading UploadStatus = "uploading"
	UploadScanning  UploadStatus = "scanning"
	UploadClean     UploadStatus = "clean"
	UploadRejected  UploadStatus = "rejected"
	UploadFailed    UploadStatus = "failed"
)

// Upload is one file a user sent. ObjectKey is set only once the upload is clean and is
// never shown to clients: downloads go through short-lived presigned URLs.
type Upload struct {
	ID             string       `json:"id" db:"id"`
	OwnerID        string       `json:"owner_id" db:"owner_id"`
	Kind           UploadKind   `json:"kind" db:"kind"`
	Status         UploadStatus `json:"status" db:"status"`
	ObjectKey      *string      `json:"-" db:"object_key"`
	Size           *int64       `json:"size" db:"size"`
	SHA256         *string      `json:"sha256" db:"sha256"`
	ContentType    *string      `json:"content_type" db:"content_type"`
	Filename       string       `json:"filename" db:"filename"`
	Rejection      *string      `json:"rejection,omitempty" db:"rejection"`
	Signature      *string      `json:"signature,omitempty" db:"signature"`
	GigID          *string      `json:"gig_id,omitempty" db:"gig_id"`
	ConversationID *string      `json:"conversation_id,omitempty" db:"conversation_id"`
	OrderID        *string      `json:"order_id,omitempty" db:"order_id"`
	CreatedAt      time.Time    `json:"created_at" db:"created_at"`
	UpdatedAt      time.Time    `json:"updated_at" db:"updated_at"`
	Video                       // poster, duration and rendition of a video (see video.go)
	Image                       // variants of a gig image or avatar (see image.go)
}

// NewUpload is an upload about to start: who sends what, for what.
type NewUpload struct {
	OwnerID        string
	Kind           UploadKind
	Filename       string // already sanitized by the pipeline
	GigID          *string
	ConversationID *string
	OrderID        *string
}

// StoredObject is a clean object the pipeline committed, to be recorded on its row.
type StoredObject struct {
	Key         string
	Size        int64
	SHA256      string
	ContentType string
	Filename    string
}

// UploadStore keeps upload rows; store/ implements it. Every method that changes a
// row's status returns the upload.status event it stored in the same transaction, for
// the caller to publish after commit. Missing rows wrap ErrNotFound.
type UploadStore interface {
	CreateUpload(ctx context.Context, in NewUpload) (Upload, Event, error)
	MarkUploadScanning(ctx context.Context, id string) (Upload, []Event, error)
	SettleUpload(ctx context.Context, id string, obj StoredObject) (Upload, Event, error)
	RejectUpload(ctx context.Context, id, reason, signature string) (Upload, Event, error)
	RemoveUpload(ctx context.Context, id, reason string) (Event, error)
	LinkResumable(ctx context.Context, id, tusID string) error
	UploadByResumable(ctx context.Context, tusID string) (Upload, error)
	Upload(ctx context.Context, id string) (Upload, error)
	GigForUpload(ctx context.Context, gigID string) (sellerID string, published bool, err error)
	// OwnerActive reports whether the user exists and is neither disabled nor deleted.
	OwnerActive(ctx context.Context, userID string) (bool, error)
	IsMember(ctx context.Context, conversationID, userID string) (bool, error)
	// OrderForUpload returns an order's seller and status; a missing order wraps ErrNotFound.
	OrderForUpload(ctx context.Context, orderID string) (sellerID string, status OrderStatus, err error)
	// DeliveredTo reports whether the upload is part of a delivery of an order userID buys.
	DeliveredTo(ctx context.Context, uploadID, userID string) (bool, error)
}

// IngestInput is one single-request upload for the pipeline.
type IngestInput struct {
	Kind         UploadKind
	Body         io.Reader
	DeclaredSize int64 // exact size (Content-Length of a raw body); -1 when unknown
	// SizeHint is a lower bound of the size known before reading (a multipart form's
	// Content-Length minus its envelope), checked against the limit only; -1 when unknown.
	SizeHint  int64
	Filename  string
	KeyPrefix string
}

// MediaPipeline is the slice of the media adapters the upload use cases need; cmd/
// adapts media.Pipeline and media.ObjectStore to it. Its errors are the pipeline's
// typed errors (handlers map them to statuses); a verdict against the content (infected,
// type or size not allowed) is wrapped in a *RejectedUpload.
type MediaPipeline interface {
	// CheckSize fails (413) when declared is over kind's limit.
	CheckSize(kind UploadKind, declared int64) error
	SanitizeFilename(name string) string
	Ingest(ctx context.Context, in IngestInput) (StoredObject, error)
	Delete(ctx context.Context, key string) error
	PresignDownload(ctx context.Context, key, filename, contentType string) (string, error)
}

// RejectedUpload is a pipeline error that is a verdict on the content, not a failure of
// the service: the upload's row is kept as rejected with Reason and Signature. Err is the
// pipeline's own error, which decides the HTTP status.
type RejectedUpload struct {
	Reason    string
	Signature string
	Err       error
}

func (e *RejectedUpload) Error() string { return e.Err.Error() }

// Unwrap exposes the pipeline's error to errors.Is and errors.As.
func (e *RejectedUpload) Unwrap() error { return e.Err }

// UploadKeyPrefix is the server's folder for an upload's object: every object of a user
// lives under "u/<owner>/", then kind and upload id; the last element is random.
func UploadKeyPrefix(u Upload) string {
	return "u/" + u.OwnerID + "/" + string(u.Kind) + "/" + u.ID
}
