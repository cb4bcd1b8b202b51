package media

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// ObjectWriter streams one object into S3 without knowing its size in advance. Bytes
// collect in a part buffer; full parts go out as a multipart upload, PartConcurrency at a
// time, while the next part fills. Nothing becomes a readable object until Commit, so the
// pipeline commits only after a clean scan and aborts otherwise. An ObjectWriter is not
// safe for concurrent use; Commit and Abort come after the last Write has returned.
type ObjectWriter struct {
	o    *ObjectStore
	ctx  context.Context
	key  string
	opts PutOptions

	buf       []byte      // the part being filled
	free      chan []byte // full-size part buffers back from finished uploads
	allocated int         // full-size part buffers made so far
	size      int64
	uploadID  string
	nextPart  int32
	committed bool // Commit was tried: an object may exist under key

	wg    sync.WaitGroup // part uploads in flight
	mu    sync.Mutex
	parts []types.CompletedPart
	err   error // first part upload failure
}

// firstBufferSize is where the first part buffer starts; it doubles up to the part size,
// so small uploads do not pin a whole part in memory.
const firstBufferSize = 64 << 10

// NewWriter starts an object at key. Part uploads run under ctx, so cancelling it stops
// them; then call Abort. Nothing is sent before the first part fills or Commit.
func (o *ObjectStore) NewWriter(ctx context.Context, key string, opts PutOptions) *ObjectWriter {
	return &ObjectWriter{
		o: o, ctx: ctx, key: key, opts: opts,
		free: make(chan []byte, o.cfg.PartConcurrency+1),
	}
}

// Write buffers p, sending full parts as it goes. It blocks while PartConcurrency parts
// are in flight and all buffers are taken (back-pressure). It returns ErrStorage (wrapped)
// once a part upload failed, or the writer context's error.
func (w *ObjectWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if err := w.failure(); err != nil {
			return written, err
		}
		if err := w.makeRoom(); err != nil {
			return written, err
		}
		n := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+n]
		p = p[n:]
		written += n
		w.size += int64(n)
	}
	return written, nil
}

// makeRoom makes sure the part buffer has space: it grows the first buffer, and sends a
// full one off as a part and takes the next.
func (w *ObjectWriter) makeRoom() error {
	partSize := w.o.cfg.PartSize
	switch {
	case w.buf == nil:
		w.buf = make([]byte, 0, min(firstBufferSize, partSize))
	case len(w.buf) < cap(w.buf):
	case cap(w.buf) < partSize:
		grown := make([]byte, len(w.buf), min(2*cap(w.buf), partSize))
		copy(grown, w.buf)
		w.buf = grown
	default:
		if err := w.sendPart(); err != nil {
			return err
		}
		buf, err := w.takeBuffer()
		if err != nil {
			return err
		}
		w.buf = buf
	}
	return nil
}

// takeBuffer returns an empty full-size buffer: a recycled one, a new one while fewer than
// PartConcurrency+1 exist, or else the next one a finished upload gives back.
func (w *ObjectWriter) takeBuffer() ([]byte, error) {
	select {
	case b := <-w.free:
		return b, nil
	default:
	}
	if w.allocated < w.o.cfg.PartConcurrency+1 {
		w.allocated++
		return make([]byte, 0, w.o.cfg.PartSize), nil
	}
	select {
	case b := <-w.free:
		return b, nil
	case <-w.ctx.Done():
		return nil, fmt.Errorf("%w: upload %q: %w", ErrStorage, w.key, context.Cause(w.ctx))
	}
}

// sendPart starts the multipart upload if needed and uploads w.buf as the next part in
// the background. w.buf is handed over.
func (w *ObjectWriter) sendPart() error {
	if w.uploadID == "" {
		if err := w.createUpload(); err != nil {
			return err
		}
	}
	w.nextPart++
	num, body := w.nextPart, w.buf
	w.buf = nil
	if cap(body) == w.o.cfg.PartSize {
		w.allocated = max(w.allocated, 1) // the grown first buffer counts once
	}
	w.wg.Go(func() { w.uploadPart(num, body) })
	return nil
}

func (w *ObjectWriter) createUpload() error {
	out, err := w.o.s3.CreateMultipartUpload(w.ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(w.o.bucket), Key: aws.String(w.key),
		ContentType: optional(w.opts.ContentType), ContentDisposition: optional(w.opts.ContentDisposition),
		Metadata: w.opts.Metadata, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return storageError("create multipart upload", w.key, err)
	}
	w.uploadID = aws.ToString(out.UploadId)
	return nil
}

func (w *ObjectWriter) uploadPart(num int32, body []byte) {
	out, err := w.o.s3.UploadPart(w.ctx, &s3.UploadPartInput{
		Bucket: aws.String(w.o.bucket), Key: aws.String(w.key), UploadId: aws.String(w.uploadID),
		PartNumber: aws.Int32(num), Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if cap(body) == w.o.cfg.PartSize {
		w.free <- body[:0]
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		if w.err == nil {
			w.err = storageError(fmt.Sprintf("upload part %d", num), w.key, err)
		}
		return
	}
	w.parts = append(w.parts, types.CompletedPart{
		PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32,
	})
}

func (w *ObjectWriter) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Commit makes the written bytes the object at key: one PutObject when no part was sent,
// otherwise the last part and CompleteMultipartUpload. It returns ErrStorage (wrapped);
// after a failure, call Abort.
func (w *ObjectWriter) Commit(ctx context.Context) (ObjectInfo, error) {
	w.committed = true
	if w.uploadID == "" {
		return w.putWhole(ctx)
	}
	if len(w.buf) > 0 {
		if err := w.sendPart(); err != nil {
			return ObjectInfo{}, err
		}
	}
	w.wg.Wait()
	if err := w.failure(); err != nil {
		return ObjectInfo{}, err
	}
	slices.SortFunc(w.parts, func(a, b types.CompletedPart) int {
		return cmp.Compare(aws.ToInt32(a.PartNumber), aws.ToInt32(b.PartNumber))
	})
	out, err := w.o.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(w.o.bucket), Key: aws.String(w.key), UploadId: aws.String(w.uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts},
	})
	if err != nil {
		return ObjectInfo{}, storageError("complete multipart upload", w.key, err)
	}
	return w.info(aws.ToString(out.ETag)), nil
}

func (w *ObjectWriter) putWhole(ctx context.Context) (ObjectInfo, error) {
	out, err := w.o.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(w.o.bucket), Key: aws.String(w.key),
		Body: bytes.NewReader(w.buf), ContentLength: aws.Int64(int64(len(w.buf))),
		ContentType: optional(w.opts.ContentType), ContentDisposition: optional(w.opts.ContentDisposition),
		Metadata: w.opts.Metadata,
	})
	if err != nil {
		return ObjectInfo{}, storageError("put", w.key, err)
	}
	return w.info(aws.ToString(out.ETag)), nil
}

func (w *ObjectWriter) info(etag string) ObjectInfo {
	return ObjectInfo{Key: w.key, Size: w.size, ContentType: w.opts.ContentType, ETag: etag, Metadata: w.opts.Metadata}
}

// Abort removes whatever the writer left in S3: it waits for parts in flight, aborts the
// multipart upload, and deletes the object if Commit was tried (its outcome may be
// unknown). Use a context that is still live. It returns ErrStorage (wrapped) for what it
// could not remove.
func (w *ObjectWriter) Abort(ctx context.Context) error {
	w.wg.Wait()
	var errs []error
	if w.uploadID != "" {
		_, err := w.o.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(w.o.bucket), Key: aws.String(w.key), UploadId: aws.String(w.uploadID),
		})
		var gone *types.NoSuchUpload
		if err != nil && !errors.As(err, &gone) {
			errs = append(errs, storageError("abort multipart upload", w.key, err))
		}
	}
	if w.committed {
		if err := w.o.Delete(ctx, w.key); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
