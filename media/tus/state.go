package tus

import (
	"context"
	"errors"
	"time"

	"github.com/gigstream/hub/media"
)

// Status is where an upload stands; handlers publish its changes on the uploader's channel.
type Status string

// The statuses of an upload.
const (
	StatusUploading Status = "uploading"
	StatusScanning  Status = "scanning"
	StatusClean     Status = "clean"
	StatusRejected  Status = "rejected"
)

// Upload is the state of one resumable upload, as StateStore keeps it.
type Upload struct {
	ID        string
	Owner     string // the uploader, for authorization and status events; opaque here
	Kind      media.Kind
	Length    int64
	Offset    int64
	Metadata  map[string]string
	CreatedAt time.Time
	ExpiresAt time.Time
	Status    Status

	Key         string       // the object's server-generated key
	MultipartID string       // the S3 multipart upload id
	Parts       []media.Part // parts received so far
	TailKey     string       // object holding received bytes that do not fill a part yet
	TailSize    int64

	Result    *media.Result // set once clean
	Rejection string        // why, once rejected
}

// StateStore keeps upload state. store/ implements it in Postgres.
//
// Requests on one upload are serialized with a Lease (see Lease) rather than a lock held
// on a connection: parts are numbered by the state read under the lease, so two PATCHes
// must never interleave, and a lease is only ever held by one holder, across hub nodes.
// Every write of a holder names its lease and is refused once the lease is someone
// else's.
type StateStore interface {
	// Create records a new upload, leased to no one.
	Create(ctx context.Context, u Upload) error
	// Get returns an upload, or ErrNotFound (wrapped).
	Get(ctx context.Context, id string) (Upload, error)
	// Save replaces an upload's state while lease holds it; ErrLeaseLost (wrapped) when
	// it does not.
	Save(ctx context.Context, u Upload, lease Lease) error
	// Delete forgets an upload held under lease; a missing one is not an error.
	Delete(ctx context.Context, id string, lease Lease) error
	// Acquire gives the upload to lease for lease.TTL, measured on the store's clock,
	// unless another unexpired lease holds it (ErrLocked, wrapped); ErrNotFound
	// (wrapped) when there is no such upload.
	Acquire(ctx context.Context, id string, lease Lease) error
	// Renew extends lease by its TTL from now; ErrLeaseLost (wrapped) when the upload is
	// leased to someone else or gone.
	Renew(ctx context.Context, id string, lease Lease) error
	// Release ends lease; a lease that is no longer held is not an error.
	Release(ctx context.Context, id string, lease Lease) error
	// Expired lists uploads still in StatusUploading whose ExpiresAt is before t.
	Expired(ctx context.Context, t time.Time) ([]Upload, error)
	// Stalled lists uploads in StatusScanning last saved before t: their last byte is
	// in but their verdict is missing.
	Stalled(ctx context.Context, t time.Time) ([]Upload, error)
}

// Errors of the engine. They say what went wrong, not how to answer it:
// handlers/errors.go is the one map to HTTP.
var (
	// ErrNotFound: no such upload, or it expired.
	ErrNotFound = errors.New("tus: upload not found")
	// ErrOffsetMismatch: Upload-Offset is not the upload's offset.
	ErrOffsetMismatch = errors.New("tus: offset mismatch")
	// ErrContentType: a PATCH without Content-Type application/offset+octet-stream.
	ErrContentType = errors.New("tus: PATCH needs Content-Type application/offset+octet-stream")
	// ErrChecksumMismatch: the PATCH body does not match Upload-Checksum; nothing of it was
	// kept.
	ErrChecksumMismatch = errors.New("tus: checksum mismatch")
	// ErrChecksumAlgorithm: Upload-Checksum names an algorithm other than sha1, or is
	// malformed.
	ErrChecksumAlgorithm = errors.New("tus: unsupported checksum algorithm")
	// ErrInvalidLength: Upload-Length missing or negative.
	ErrInvalidLength = errors.New("tus: invalid Upload-Length")
	// ErrInvalidMetadata: Upload-Metadata is not key/base64 pairs.
	ErrInvalidMetadata = errors.New("tus: invalid Upload-Metadata")
	// ErrExceedsLength: a PATCH carries more than the upload's remaining length.
	ErrExceedsLength = errors.New("tus: body exceeds Upload-Length")
	// ErrFinished: the upload is no longer accepting bytes (scanning or done).
	ErrFinished = errors.New("tus: upload already complete")
)
