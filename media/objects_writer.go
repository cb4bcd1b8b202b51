package media

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// ObjectWriter streams one object into S3 without knowing its size in advance. Bytes
// collect in a part buffer of pooled chunks (see Chunks) that grows as they arrive; full
// parts go out as a multipart upload, PartConcurrency at a time, while the next part
// fills. Nothing becomes a readable object until Commit, so the pipeline commits only
// after a clean scan and aborts otherwise. An ObjectWriter is not safe for concurrent
// use; Commit and Abort come after the last Write has returned.
type ObjectWriter struct {
	o    *ObjectStore
	ctx  context.Context
	key  string
	opts PutOptions

	buf       Chunks        // the part being filled
	sending   chan struct{} // a token per part upload in flight, PartConcurrency at most
	size      int64
	uploadID  string
	nextPart  int32
	committed bool // Commit was tried: an object may exist under key

	wg    sync.WaitGroup // part uploads in flight
	mu    sync.Mutex
	parts []types.CompletedPart
	err   error // first part upload failure
}

// NewWriter starts an object at key. Part uploads run under ctx, so cancelling it stops
// them; then call Abort. Nothing is sent before the first part fills or Commit, and no
// memory is taken before the first byte arrives.
func (o *ObjectStore) NewWriter(ctx context.Context, key string, opts PutOptions) *ObjectWriter {
	return &ObjectWriter{
		o: o, ctx: ctx, key: key, opts: opts,
		sending: make(chan struct{}, o.cfg.PartConcurrency),
	}
}

// Write buffers p, sending full parts as it goes. It blocks while PartConcurrency parts
// are in flight and the next one is full (back-pressure), so a writer holds at most
// PartConcurrency+1 parts. It returns ErrStorage (wrapped) once a part upload failed, or
// the writer context's error.
func (w *ObjectWriter) Write(p []byte) (int, error) {
	written := 0
	partSize := w.o.cfg.PartSize
	for len(p) > 0 {
		if err := w.failure(); err != nil {
			return written, err
		}
		if w.buf.Len() == partSize {
			if err := w.sendPart(); err != nil {
				return written, err
			}
		}
		n := min(len(p), partSize-w.buf.Len())
		_, _ = w.buf.Write(p[:n])
		p = p[n:]
		written += n
		w.size += int64(n)
	}
	return written, nil
}

// ReadFrom reads r to its end straight into the part buffer, sending full parts as
// Write does: io.Copy needs no buffer of its own, and a read that blocks (a client that
// trickles) pins only the free space of the last chunk. It returns the bytes read and
// r's error other than io.EOF, or Write's errors.
func (w *ObjectWriter) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	partSize := w.o.cfg.PartSize
	for {
		if err := w.failure(); err != nil {
			return total, err
		}
		if w.buf.Len() == partSize {
			if err := w.sendPart(); err != nil {
				return total, err
			}
		}
		n, err := w.buf.ReadOnce(r, partSize-w.buf.Len())
		total += int64(n)
		w.size += int64(n)
		switch {
		case err == io.EOF:
			return total, nil
		case err != nil:
			return total, err
		}
	}
}

// sendPart starts the multipart upload if needed and uploads w.buf as the next part in
// the background, once fewer than PartConcurrency parts are in flight. w.buf is handed
// over (its chunks go back to the pool when the part is sent) and starts empty again.
func (w *ObjectWriter) sendPart() error {
	if w.uploadID == "" {
		if err := w.createUpload(); err != nil {
			return err
		}
	}
	select {
	case w.sending <- struct{}{}:
	case <-w.ctx.Done():
		return fmt.Errorf("%w: upload %q: %w", ErrStorage, w.key, context.Cause(w.ctx))
	}
	w.nextPart++
	num, body := w.nextPart, w.buf
	w.buf = Chunks{}
	w.wg.Go(func() {
		defer func() { <-w.sending }()
		w.uploadPart(num, &body)
	})
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

func (w *ObjectWriter) uploadPart(num int32, body *Chunks) {
	defer body.Release()
	out, err := w.o.s3.UploadPart(w.ctx, &s3.UploadPartInput{
		Bucket: aws.String(w.o.bucket), Key: aws.String(w.key), UploadId: aws.String(w.uploadID),
		PartNumber: aws.Int32(num), Body: body.Reader(), ContentLength: aws.Int64(int64(body.Len())),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
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
	if w.buf.Len() > 0 {
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
	defer w.buf.Release()
	out, err := w.o.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(w.o.bucket), Key: aws.String(w.key),
		Body: w.buf.Reader(), ContentLength: aws.Int64(int64(w.buf.Len())),
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
	w.buf.Release()
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
