package tus

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/gigstream/hub/media"
)

// PatchRequest is a PATCH: the upload, its Upload-Offset, Content-Type, Upload-Checksum
// ("" when absent) and body.
type PatchRequest struct {
	ID          string
	Offset      int64
	ContentType string
	Checksum    string
	Body        io.Reader
	// OnComplete, when set, runs once the upload's last byte is in, under the upload's
	// lease and before the object is assembled and scanned: the moment to say
	// "scanning". It is not called for a PATCH that leaves bytes missing.
	OnComplete func()
}

// Patch appends the body at the upload's offset. Full parts go to S3 as they fill; bytes
// short of a part wait in a tail object. When the last byte arrives the upload is
// assembled and verified (see the package doc) and the returned Upload's Status says how
// that went.
//
// Without a checksum, the bytes received before a dropped connection are kept (tus
// resumes from there) and media.ErrBodyRead (wrapped) is returned with the new state.
// With one, a body that is cut short or does not match changes nothing.
//
// The PATCH runs under the upload's lease (see Lease): a second request on the upload
// waits up to Config.LeaseWait and then fails with ErrLocked, and when the lease lapses
// (the database stopped answering its renewals) the PATCH stops writing and fails with
// ErrLeaseLost, keeping what was saved before.
//
// Errors: ErrContentType, ErrChecksumAlgorithm, ErrNotFound, ErrLocked, ErrLeaseLost,
// ErrFinished, ErrOffsetMismatch, ErrExceedsLength, ErrChecksumMismatch,
// media.ErrBodyRead, media.ErrStorage, and the verification errors of
// media.Pipeline.Verify.
func (e *Engine) Patch(ctx context.Context, req PatchRequest) (Upload, error) {
	if req.ContentType != PatchContentType {
		return Upload{}, ErrContentType
	}
	want, err := parseChecksum(req.Checksum)
	if err != nil {
		return Upload{}, err
	}
	h, err := e.acquireLease(ctx, req.ID)
	if err != nil {
		return Upload{}, err
	}
	u, err := e.patchHeld(h, req, want)
	h.release()
	return u, h.fenced(err)
}

// patchHeld is Patch under the upload's lease h.
func (e *Engine) patchHeld(h *held, req PatchRequest, want []byte) (Upload, error) {
	u, err := e.Head(h.ctx, req.ID)
	switch {
	case err != nil:
		return Upload{}, err
	case u.Status != StatusUploading:
		return u, ErrFinished
	case req.Offset != u.Offset:
		return u, fmt.Errorf("%w: upload is at %d, not %d", ErrOffsetMismatch, u.Offset, req.Offset)
	}
	next, readErr, err := e.receive(h, u, req.Body, want)
	if err != nil {
		return u, err
	}
	if next.Offset == next.Length {
		if req.OnComplete != nil {
			req.OnComplete()
		}
		return e.finishHeld(h, next)
	}
	if readErr != nil {
		return next, fmt.Errorf("%w: %w", media.ErrBodyRead, readErr)
	}
	return next, nil
}

// parseChecksum reads "sha1 <base64 digest>".
func parseChecksum(header string) ([]byte, error) {
	if header == "" {
		return nil, nil
	}
	algo, digest, _ := strings.Cut(strings.TrimSpace(header), " ")
	sum, err := base64.StdEncoding.DecodeString(digest)
	if algo != ChecksumAlgorithm || err != nil || len(sum) != sha1.Size {
		return nil, fmt.Errorf("%w: %q", ErrChecksumAlgorithm, header)
	}
	return sum, nil
}

// receive streams the tail and the body into parts and returns the state to save (saved
// already). readErr is the body's failure when the bytes before it were kept.
func (e *Engine) receive(h *held, u Upload, body io.Reader, want []byte) (next Upload, readErr, err error) {
	ctx := h.ctx
	tail, err := e.openTail(ctx, u)
	if err != nil {
		return u, nil, err
	}
	defer tail.Close()
	remaining := u.Length - u.Offset
	sum := sha1.New()
	counted := &countingReader{r: io.LimitReader(body, remaining+1), ctx: ctx}
	tailIn := &countingReader{r: tail}
	in := io.MultiReader(tailIn, io.TeeReader(counted, sum))
	next = u
	next.Parts = slices.Clone(u.Parts)
	pending, err := e.sendParts(ctx, &next, in)
	if pending != nil {
		defer pending.Release()
	}
	readErr = counted.err
	switch {
	case err != nil:
		return u, nil, err
	case tailIn.err != nil:
		return u, nil, fmt.Errorf("%w: read tail %q: %w", media.ErrStorage, u.TailKey, tailIn.err)
	case counted.n > remaining:
		return u, nil, ErrExceedsLength
	case want != nil && readErr != nil:
		return u, nil, fmt.Errorf("%w: %w", media.ErrBodyRead, readErr)
	case want != nil && !bytes.Equal(sum.Sum(nil), want):
		return u, nil, ErrChecksumMismatch
	}
	next.Offset = u.Offset + counted.n
	if err := e.keepPending(ctx, &next, pending); err != nil {
		return u, nil, err
	}
	next.ExpiresAt = e.cfg.Now().Add(e.cfg.Expiry)
	if err := e.state.Save(ctx, next, h.lease); err != nil {
		if next.TailKey != u.TailKey {
			e.objects.Delete(context.WithoutCancel(ctx), next.TailKey)
		}
		return u, nil, fmt.Errorf("tus: save upload: %w", err)
	}
	if u.TailKey != "" && u.TailKey != next.TailKey {
		e.objects.Delete(context.WithoutCancel(ctx), u.TailKey)
	}
	return next, readErr, nil
}

func (e *Engine) openTail(ctx context.Context, u Upload) (io.ReadCloser, error) {
	if u.TailKey == "" {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	r, _, err := e.objects.Open(ctx, u.TailKey)
	return r, err
}

// sendParts uploads every full part in, numbering after next.Parts, and returns the bytes
// left over (less than a part) once in ends or fails; the caller releases them. They
// are held in pooled chunks that are taken as bytes arrive (see media.Chunks), so a
// PATCH that trickles never holds a whole part's memory.
func (e *Engine) sendParts(ctx context.Context, next *Upload, in io.Reader) (*media.Chunks, error) {
	size := e.objects.PartSize()
	buf := &media.Chunks{}
	for done := false; ; {
		if buf.Len() == size {
			part, err := e.objects.UploadPart(ctx, next.Key, next.MultipartID, int32(len(next.Parts)+1), buf)
			buf.Release()
			if err != nil {
				return nil, err
			}
			next.Parts = append(next.Parts, part)
		}
		if done {
			return buf, nil
		}
		_, rerr := buf.ReadOnce(in, size-buf.Len())
		done = rerr != nil
	}
}

// keepPending sends the leftover bytes as the final part when the upload is complete, or
// stores them as the new tail object.
func (e *Engine) keepPending(ctx context.Context, next *Upload, pending *media.Chunks) error {
	next.TailKey, next.TailSize = "", 0
	if pending.Len() == 0 {
		return nil
	}
	if next.Offset == next.Length {
		part, err := e.objects.UploadPart(ctx, next.Key, next.MultipartID, int32(len(next.Parts)+1), pending)
		next.Parts = append(next.Parts, part)
		return err
	}
	key := next.Key + ".tail." + strconv.FormatInt(next.Offset, 10)
	if _, err := e.objects.Put(ctx, key, pending.Reader(), media.PutOptions{}); err != nil {
		return err
	}
	next.TailKey, next.TailSize = key, int64(pending.Len())
	return nil
}

// countingReader counts bytes and remembers the first failure other than io.EOF: the
// readers above it blur a failure into io.ErrUnexpectedEOF. With ctx set it stops
// reading once ctx is done (a lapsed lease), failing with ctx's cause.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
	ctx context.Context
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.ctx != nil && c.ctx.Err() != nil {
		if c.err == nil {
			c.err = context.Cause(c.ctx)
		}
		return 0, c.err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}
