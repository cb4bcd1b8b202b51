package tus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gigstream/hub/media"
)

// Objects is the slice of *media.ObjectStore the engine uses.
type Objects interface {
	PartSize() int
	CreateMultipart(ctx context.Context, key string, opts media.PutOptions) (string, error)
	UploadPart(ctx context.Context, key, uploadID string, number int32, body *media.Chunks) (media.Part, error)
	CompleteMultipart(ctx context.Context, key, uploadID string, parts []media.Part) error
	AbortMultipart(ctx context.Context, key, uploadID string) error
	Put(ctx context.Context, key string, r io.Reader, opts media.PutOptions) (media.ObjectInfo, error)
	Open(ctx context.Context, key string) (io.ReadCloser, media.ObjectInfo, error)
	Delete(ctx context.Context, key string) error
}

// Verifier checks an assembled object; *media.Pipeline satisfies it.
type Verifier interface {
	Verify(ctx context.Context, kind media.Kind, key, filename string) (media.Result, error)
}

// Config tunes an Engine. Its zero value is ready to use.
type Config struct {
	// Media gives each kind's size limit (Tus-Max-Size); its zero value the defaults.
	Media media.Config
	// Expiry is how long an unfinished upload lives after its last PATCH; 0 means 24 hours.
	Expiry time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives cleanup failures; nil means slog.Default().
	Logger *slog.Logger
	// LeaseTTL is how long a request's claim on an upload lasts unless renewed (it is
	// renewed every third of it while the request works); it is also how long an upload
	// whose node died mid-PATCH stays busy. 0 means 30 seconds.
	LeaseTTL time.Duration
	// LeaseWait is how long a request waits for another's lease on the same upload
	// before it fails with ErrLocked; 0 means 5 seconds.
	LeaseWait time.Duration
}

// Engine runs the tus protocol over a StateStore, S3 and the media verifier.
type Engine struct {
	state   StateStore
	objects Objects
	verify  Verifier
	cfg     Config
}

// NewEngine returns an Engine.
func NewEngine(state StateStore, objects Objects, verify Verifier, cfg Config) *Engine {
	if cfg.Expiry <= 0 {
		cfg.Expiry = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 30 * time.Second
	}
	if cfg.LeaseWait <= 0 {
		cfg.LeaseWait = 5 * time.Second
	}
	return &Engine{state: state, objects: objects, verify: verify, cfg: cfg}
}

// Protocol constants handlers put in headers.
const (
	Version           = "1.0.0"
	Extensions        = "creation,termination,expiration,checksum"
	ChecksumAlgorithm = "sha1"
	PatchContentType  = "application/offset+octet-stream"
)

// MaxSize is the Tus-Max-Size for kind. It returns media.ErrUnknownKind (wrapped).
func (e *Engine) MaxSize(kind media.Kind) (int64, error) {
	pol, err := e.cfg.Media.Policy(kind)
	return pol.MaxSize, err
}

// CreateRequest is a creation POST: Upload-Length, the raw Upload-Metadata header, and
// what the server decides (kind, owner, key prefix).
type CreateRequest struct {
	Kind      media.Kind
	Owner     string
	Length    int64
	Metadata  string
	KeyPrefix string
}

// Create starts an upload: it checks the length against the kind's limit and opens the
// S3 multipart upload. Errors: ErrInvalidLength, ErrInvalidMetadata,
// media.ErrTooLarge, media.ErrUnknownKind, media.ErrStorage, all wrapped.
func (e *Engine) Create(ctx context.Context, req CreateRequest) (Upload, error) {
	maxSize, err := e.MaxSize(req.Kind)
	if err != nil {
		return Upload{}, err
	}
	if req.Length < 0 {
		return Upload{}, ErrInvalidLength
	}
	if req.Length > maxSize {
		return Upload{}, &media.TooLargeError{Limit: maxSize}
	}
	meta, err := ParseMetadata(req.Metadata)
	if err != nil {
		return Upload{}, err
	}
	now := e.cfg.Now()
	u := Upload{
		ID: randomID(), Owner: req.Owner, Kind: req.Kind, Length: req.Length, Metadata: meta,
		CreatedAt: now, ExpiresAt: now.Add(e.cfg.Expiry), Status: StatusUploading,
	}
	u.Key = objectKey(req.KeyPrefix, req.Kind, u.ID)
	opts := media.PutOptions{ContentDisposition: media.ContentDisposition(meta["filename"])}
	if u.MultipartID, err = e.objects.CreateMultipart(ctx, u.Key, opts); err != nil {
		return Upload{}, err
	}
	if err := e.state.Create(ctx, u); err != nil {
		e.removeObjects(ctx, u)
		return Upload{}, fmt.Errorf("tus: record upload: %w", err)
	}
	if u.Length == 0 {
		return e.finishUnderLease(ctx, u)
	}
	return u, nil
}

// finishUnderLease finishes a new, empty upload under a lease of its own.
func (e *Engine) finishUnderLease(ctx context.Context, u Upload) (Upload, error) {
	h, err := e.acquireLease(ctx, u.ID)
	if err != nil {
		return u, err
	}
	u, err = e.finishHeld(h, u)
	h.release()
	return u, h.fenced(err)
}

func objectKey(prefix string, kind media.Kind, id string) string {
	if prefix == "" {
		prefix = string(kind)
	}
	return prefix + "/" + id
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Head returns the upload for a HEAD request (Upload-Offset, Upload-Length,
// Upload-Metadata, Upload-Expires). Errors: ErrNotFound (also once expired).
func (e *Engine) Head(ctx context.Context, id string) (Upload, error) {
	u, err := e.state.Get(ctx, id)
	if err != nil {
		return Upload{}, err
	}
	if e.expired(u) {
		return Upload{}, fmt.Errorf("%w: expired", ErrNotFound)
	}
	return u, nil
}

func (e *Engine) expired(u Upload) bool {
	return u.Status == StatusUploading && !e.cfg.Now().Before(u.ExpiresAt)
}

// Terminate deletes an upload and every byte of it (termination extension). Errors:
// ErrNotFound, ErrLocked (a request on it is still running), ErrLeaseLost,
// media.ErrStorage (wrapped).
func (e *Engine) Terminate(ctx context.Context, id string) error {
	h, err := e.acquireLease(ctx, id)
	if err != nil {
		return err
	}
	err = e.terminateHeld(h)
	h.release()
	return h.fenced(err)
}

func (e *Engine) terminateHeld(h *held) error {
	u, err := e.state.Get(h.ctx, h.id)
	if err != nil {
		return err
	}
	if err := e.removeObjects(h.ctx, u); err != nil {
		return err
	}
	return e.state.Delete(h.ctx, h.id, h.lease)
}

// ExpireStale terminates unfinished uploads past their expiry (expiration extension); a
// periodic job calls it. It returns how many it removed, and the failures joined; an
// upload busy with a request is left for the next round.
func (e *Engine) ExpireStale(ctx context.Context) (int, error) {
	stale, err := e.state.Expired(ctx, e.cfg.Now())
	if err != nil {
		return 0, err
	}
	var errs []error
	removed := 0
	for _, u := range stale {
		err := e.Terminate(ctx, u.ID)
		switch {
		case errors.Is(err, ErrLocked):
			continue
		case err != nil && !errors.Is(err, ErrNotFound):
			errs = append(errs, err)
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

// removeObjects drops the multipart upload, the tail and any assembled object.
func (e *Engine) removeObjects(ctx context.Context, u Upload) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var errs []error
	if u.MultipartID != "" {
		errs = append(errs, e.objects.AbortMultipart(ctx, u.Key, u.MultipartID))
	}
	if u.TailKey != "" {
		errs = append(errs, e.objects.Delete(ctx, u.TailKey))
	}
	errs = append(errs, e.objects.Delete(ctx, u.Key))
	return errors.Join(errs...)
}
