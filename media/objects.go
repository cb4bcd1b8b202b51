package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3API is the slice of the aws-sdk-go-v2 S3 client the object store uses; *s3.Client
// satisfies it.
type S3API interface {
	HeadBucket(ctx context.Context, in *s3.HeadBucketInput, opts ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, opts ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Presigner is the slice of s3.PresignClient that download links need;
// s3.NewPresignClient(client) satisfies it.
type Presigner interface {
	PresignGetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// ErrObjectNotFound means no object has the key.
var ErrObjectNotFound = errors.New("media: object not found")

// Part sizes: S3 wants at least 5 MiB for every part but the last, and at most 10,000
// parts, so 8 MiB parts carry objects up to about 78 GiB.
const (
	DefaultPartSize = 8 << 20
	minPartSize     = 5 << 20
)

// ObjectStoreConfig tunes an ObjectStore. Its zero value is ready to use.
type ObjectStoreConfig struct {
	// Presigner signs download links. Nil means s3.NewPresignClient of the client when
	// that is an *s3.Client; otherwise PresignGet fails.
	Presigner Presigner
	// PartSize is the multipart part size in bytes; 0 means DefaultPartSize, and values
	// under S3's 5 MiB minimum are raised to it.
	PartSize int
	// PartConcurrency is how many parts of one upload are sent at once while the next
	// fills; 0 means 1. An upload holds at most PartConcurrency+1 part buffers, so memory
	// stays flat. clamd, not a nearby S3, is the bottleneck (see BenchmarkUploadThroughput),
	// and each extra part in flight costs PartSize of live heap, about twice that in RSS
	// under Go's default GC pacing; raise it only for a distant S3.
	PartConcurrency int
	// Logger receives cleanup failures; nil means slog.Default().
	Logger *slog.Logger
}

// ObjectStore keeps upload bytes in one private S3 bucket.
type ObjectStore struct {
	s3     S3API
	bucket string
	cfg    ObjectStoreConfig
}

// NewObjectStore returns an ObjectStore on bucket, reached through client, with the zero
// ObjectStoreConfig.
func NewObjectStore(client S3API, bucket string) *ObjectStore {
	return NewObjectStoreWithConfig(client, bucket, ObjectStoreConfig{})
}

// NewObjectStoreWithConfig returns an ObjectStore on bucket, reached through client, tuned
// by cfg.
func NewObjectStoreWithConfig(client S3API, bucket string, cfg ObjectStoreConfig) *ObjectStore {
	if cfg.Presigner == nil {
		if c, ok := client.(*s3.Client); ok {
			cfg.Presigner = s3.NewPresignClient(c)
		}
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultPartSize
	}
	cfg.PartSize = max(cfg.PartSize, minPartSize)
	if cfg.PartConcurrency <= 0 {
		cfg.PartConcurrency = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &ObjectStore{s3: client, bucket: bucket, cfg: cfg}
}

// Ping reports whether the bucket exists and the credentials may reach it. It returns
// a wrapped SDK error otherwise.
func (o *ObjectStore) Ping(ctx context.Context) error {
	if _, err := o.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(o.bucket)}); err != nil {
		return fmt.Errorf("head bucket %q: %w", o.bucket, err)
	}
	return nil
}

// PutOptions describe an object being written. Metadata values must be ASCII.
type PutOptions struct {
	ContentType        string
	ContentDisposition string
	Metadata           map[string]string
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key         string
	Size        int64
	ContentType string
	ETag        string
	Metadata    map[string]string
}

// Put stores everything r yields under key: in one PutObject when it fits one part, as a
// multipart upload otherwise, with memory bounded by the part buffers. On failure nothing
// is left under key. It returns ErrStorage (wrapped), or r's error.
func (o *ObjectStore) Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (ObjectInfo, error) {
	w := o.NewWriter(ctx, key, opts)
	if _, err := io.Copy(w, r); err != nil {
		o.discard(ctx, w)
		return ObjectInfo{}, err
	}
	info, err := w.Commit(ctx)
	if err != nil {
		o.discard(ctx, w)
		return ObjectInfo{}, err
	}
	return info, nil
}

// discard aborts w on a context that outlives ctx's cancellation, logging a failure: the
// caller already has the error that matters.
func (o *ObjectStore) discard(ctx context.Context, w *ObjectWriter) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := w.Abort(ctx); err != nil {
		o.cfg.Logger.ErrorContext(ctx, "media: could not remove a failed upload", "key", w.key, "err", err)
	}
}

// cleanupTimeout bounds the S3 calls that remove what a failed upload left.
const cleanupTimeout = 30 * time.Second

// Head returns the stored object's description. It returns ErrObjectNotFound or
// ErrStorage (wrapped).
func (o *ObjectStore) Head(ctx context.Context, key string) (ObjectInfo, error) {
	out, err := o.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(key)})
	if err != nil {
		return ObjectInfo{}, storageError("head", key, err)
	}
	return ObjectInfo{
		Key: key, Size: aws.ToInt64(out.ContentLength), ContentType: aws.ToString(out.ContentType),
		ETag: aws.ToString(out.ETag), Metadata: out.Metadata,
	}, nil
}

// Open returns the object's bytes for a proxied download; the caller closes them. It
// returns ErrObjectNotFound or ErrStorage (wrapped).
func (o *ObjectStore) Open(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error) {
	out, err := o.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, ObjectInfo{}, storageError("get", key, err)
	}
	info := ObjectInfo{
		Key: key, Size: aws.ToInt64(out.ContentLength), ContentType: aws.ToString(out.ContentType),
		ETag: aws.ToString(out.ETag), Metadata: out.Metadata,
	}
	return out.Body, info, nil
}

// Delete removes the object; deleting a missing key succeeds. It returns ErrStorage
// (wrapped).
func (o *ObjectStore) Delete(ctx context.Context, key string) error {
	_, err := o.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(key)})
	if err != nil {
		return storageError("delete", key, err)
	}
	return nil
}

// storageError wraps an SDK error as ErrStorage, or as ErrObjectNotFound for a missing key.
func storageError(op, key string, err error) error {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return fmt.Errorf("%w: %s %q: %w", ErrObjectNotFound, op, key, err)
	}
	return fmt.Errorf("%w: %s %q: %w", ErrStorage, op, key, err)
}
