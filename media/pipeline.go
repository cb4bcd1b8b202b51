package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"log/slog"
	"sync"
)

// Pipeline takes uploads in: size limit, type sniffed from the bytes, then clamd INSTREAM
// and an S3 multipart upload fed side by side from one pass over the body, with SHA-256
// computed on the way. An object is committed in S3 only after clamd said clean, so no
// byte of an infected or unscanned upload is ever readable, and every failure removes
// what was written.
type Pipeline struct {
	scanner *Scanner
	objects *ObjectStore
	cfg     Config
	log     *slog.Logger
}

// NewPipeline returns a Pipeline that scans with scanner and stores in objects.
func NewPipeline(scanner *Scanner, objects *ObjectStore, cfg Config) *Pipeline {
	return &Pipeline{scanner: scanner, objects: objects, cfg: cfg, log: cfg.logger()}
}

// IngestRequest is one upload as a handler hands it over.
type IngestRequest struct {
	Kind Kind
	// Body is the client's bytes, read once, never buffered whole.
	Body io.Reader
	// DeclaredSize is the client's Content-Length or tus Upload-Length; -1 when unknown.
	// A body that differs from it fails with ErrSizeMismatch.
	DeclaredSize int64
	// Filename is the client's name for the file; only its sanitized form is kept.
	Filename string
	// KeyPrefix is the server's folder for the object, e.g. "deliverables/order-42";
	// empty means the kind's name. The key's last element is always random.
	KeyPrefix string
}

// Result describes a stored, clean upload, for store/ to record.
type Result struct {
	Key         string
	Size        int64
	SHA256      string // hex
	ContentType string // sniffed, see Sniff
	Filename    string // sanitized
}

// Ingest streams req.Body through the checks into S3 and returns the clean object.
//
// Errors, all before anything is left in S3:
//   - *TooLargeError (errors.Is ErrTooLarge) from the declared size before a byte is
//     read, or from the running count, without reading more than the limit plus one byte;
//   - *UnsupportedTypeError (errors.Is ErrUnsupportedType) from the first bytes,
//     before anything is sent to clamd or S3;
//   - *InfectedError when clamd found something or could not scan it whole;
//   - ErrScannerUnavailable, ErrStorage, ErrSizeMismatch, ErrEmpty, ErrBodyRead,
//     ErrUnknownKind, ErrInvalidKey, or ctx's error, all wrapped.
//
// Cancelling ctx stops clamd and S3 at once, but a Read on req.Body that is already
// blocked ends only when the body does: handlers give it a read deadline.
func (p *Pipeline) Ingest(ctx context.Context, req IngestRequest) (Result, error) {
	pol, err := p.cfg.Policy(req.Kind)
	if err != nil {
		return Result{}, err
	}
	if req.DeclaredSize > pol.MaxSize {
		return Result{}, &TooLargeError{Limit: pol.MaxSize}
	}
	prefix, err := cleanKeyPrefix(req.KeyPrefix, req.Kind)
	if err != nil {
		return Result{}, err
	}
	body, contentType, err := sniffBody(newSourceReader(req.Body, pol.MaxSize, req.DeclaredSize), pol)
	if err != nil {
		return Result{}, err
	}
	in := ingestion{
		kind: req.Kind, key: newObjectKey(prefix), body: body,
		contentType: contentType, filename: SanitizeFilename(req.Filename),
	}
	return p.stream(ctx, in)
}

// sniffBody reads the first SniffLen bytes, names their type and refuses it unless pol
// allows it. The returned reader yields the whole body again, the peeked bytes included.
func sniffBody(src io.Reader, pol Policy) (io.Reader, string, error) {
	head := make([]byte, SniffLen)
	n, err := io.ReadFull(src, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, "", err
	}
	if n == 0 {
		return nil, "", ErrEmpty
	}
	head = head[:n]
	contentType := Sniff(head)
	if !pol.Allows(contentType) {
		return nil, "", &UnsupportedTypeError{ContentType: contentType}
	}
	return io.MultiReader(bytes.NewReader(head), src), contentType, nil
}

// ingestion is one upload on its way through stream.
type ingestion struct {
	kind        Kind
	key         string
	body        io.Reader
	contentType string
	filename    string
	size        int64
	sum         hash.Hash
}

// stream runs the scan and the store side by side and decides what survives. The first
// failure anywhere cancels ctx with itself as the cause, which closes both pipes, stops
// clamd and the part uploads, and is the error returned.
func (p *Pipeline) stream(parent context.Context, in ingestion) (Result, error) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	bufSize := p.cfg.streamBuffer()
	scanR, scanW := newBufferedPipe(bufSize)
	storeR, storeW := newBufferedPipe(bufSize)
	defer context.AfterFunc(ctx, func() {
		scanR.CloseWithError(context.Cause(ctx))
		storeR.CloseWithError(context.Cause(ctx))
	})()
	w := p.objects.NewWriter(ctx, in.key, PutOptions{
		ContentType: in.contentType, ContentDisposition: ContentDisposition(in.filename),
		Metadata: map[string]string{"kind": string(in.kind), "filename": encodeRFC5987(in.filename)},
	})
	var wg sync.WaitGroup
	var verdict Verdict
	wg.Go(func() { verdict = p.scanSide(ctx, cancel, scanR) })
	wg.Go(func() { storeSide(cancel, w, storeR) })
	err := in.feed(scanW, storeW)
	if err != nil {
		cancel(err)
	}
	scanW.CloseWithError(err)
	storeW.CloseWithError(err)
	wg.Wait()
	return p.settle(ctx, in, w, verdict)
}

// feed copies the body once into both sides, hashing on the way (see readBuffer).
func (in *ingestion) feed(scan, store io.Writer) error {
	in.sum = sha256.New()
	out := io.MultiWriter(in.sum, scan, store)
	var rb readBuffer
	defer rb.release()
	for {
		b := rb.next()
		n, err := in.body.Read(b)
		rb.used(n)
		in.size += int64(n)
		if n > 0 {
			if _, werr := out.Write(b[:n]); werr != nil {
				return werr
			}
		}
		switch {
		case err == io.EOF:
			return nil
		case err != nil:
			return err
		}
	}
}

// Read buffers of feed: small while a body comes in small reads, big (pooled) while
// reads fill them.
const (
	smallRead = 4 << 10
	bigRead   = 64 << 10
)

var bigReads = sync.Pool{New: func() any { return new([bigRead]byte) }}

// readBuffer is the buffer a body is read into. A read blocks until the client sends
// something and pins its buffer meanwhile, so a buffer sized for fast bodies would cost
// every trickling upload that much: this one starts small, turns big (from a pool) when
// a read fills it, and goes small again, handing the big one back, when a read brings
// less than a small one holds.
type readBuffer struct {
	small [smallRead]byte
	big   *[bigRead]byte
}

func (r *readBuffer) next() []byte {
	if r.big != nil {
		return r.big[:]
	}
	return r.small[:]
}

func (r *readBuffer) used(n int) {
	switch {
	case r.big == nil && n == smallRead:
		r.big = bigReads.Get().(*[bigRead]byte)
	case r.big != nil && n < smallRead:
		r.release()
	}
}

func (r *readBuffer) release() {
	if r.big != nil {
		bigReads.Put(r.big)
		r.big = nil
	}
}

func (p *Pipeline) scanSide(ctx context.Context, cancel context.CancelCauseFunc, r *pipeReader) Verdict {
	v, err := p.scanner.Scan(ctx, r)
	if err != nil {
		cancel(err)
	}
	r.CloseWithError(errSideFinished)
	return v
}

func storeSide(cancel context.CancelCauseFunc, w *ObjectWriter, r *pipeReader) {
	if _, err := io.Copy(w, r); err != nil {
		cancel(err)
	}
	r.CloseWithError(errSideFinished)
}

// errSideFinished is what a write to a side that has stopped reading fails with. It never
// surfaces: a side that stops early has cancelled the ingestion with the real cause first.
var errSideFinished = errors.New("media: pipeline side finished early")

// settle commits a clean, complete upload and removes anything else.
func (p *Pipeline) settle(ctx context.Context, in ingestion, w *ObjectWriter, v Verdict) (Result, error) {
	if ctx.Err() != nil {
		err := context.Cause(ctx)
		p.discard(ctx, in, w, err)
		return Result{}, err
	}
	if !v.Clean {
		p.logRejected(ctx, in, v)
		p.discard(ctx, in, w, nil)
		return Result{}, &InfectedError{Signature: v.Signature}
	}
	if _, err := w.Commit(ctx); err != nil {
		p.discard(ctx, in, w, err)
		return Result{}, err
	}
	return Result{
		Key: in.key, Size: in.size, SHA256: hex.EncodeToString(in.sum.Sum(nil)),
		ContentType: in.contentType, Filename: in.filename,
	}, nil
}

// discard removes what w wrote, on a context that survives ctx's cancellation.
func (p *Pipeline) discard(ctx context.Context, in ingestion, w *ObjectWriter, cause error) {
	if errors.Is(cause, ErrScannerUnavailable) {
		p.log.ErrorContext(ctx, "media: upload refused, virus scanner unavailable",
			"kind", in.kind, "key", in.key, "err", cause)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := w.Abort(ctx); err != nil {
		p.log.ErrorContext(ctx, "media: could not remove a failed upload from S3",
			"kind", in.kind, "key", in.key, "err", err)
	}
}

// logRejected records a security event for an upload clamd turned down.
func (p *Pipeline) logRejected(ctx context.Context, in ingestion, v Verdict) {
	p.log.WarnContext(ctx, "media: upload rejected by virus scanner",
		"event", "security.upload_rejected", "kind", in.kind, "key", in.key,
		"signature", v.Signature, "limits_exceeded", v.LimitsExceeded(),
		"filename", in.filename, "content_type", in.contentType,
		"size", in.size, "sha256", hex.EncodeToString(in.sum.Sum(nil)))
}
