package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
)

// Verify checks an object that was assembled in S3 before it could be scanned (a tus
// upload, whose bytes arrive over several requests): it reads the object once, sniffs its
// type against kind's policy, scans it with clamd and hashes it. A clean, allowed object
// stays and its Result is returned; anything else is deleted.
//
// Errors: *TooLargeError, *UnsupportedTypeError, *InfectedError (object deleted);
// ErrScannerUnavailable (wrapped; object kept, so Verify can be retried later);
// ErrObjectNotFound or ErrStorage (wrapped); ctx's error.
func (p *Pipeline) Verify(ctx context.Context, kind Kind, key, filename string) (Result, error) {
	pol, err := p.cfg.Policy(kind)
	if err != nil {
		return Result{}, err
	}
	obj, info, err := p.objects.Open(ctx, key)
	if err != nil {
		return Result{}, err
	}
	defer obj.Close()
	in := ingestion{kind: kind, key: key, filename: SanitizeFilename(filename), size: info.Size, sum: sha256.New()}
	body, contentType, err := sniffBody(newSourceReader(obj, pol.MaxSize, info.Size), pol)
	if err != nil {
		return Result{}, p.refuse(ctx, in, err)
	}
	in.contentType = contentType
	v, err := p.scanner.Scan(ctx, io.TeeReader(body, in.sum))
	if err != nil {
		return Result{}, err
	}
	if !v.Clean {
		p.logRejected(ctx, in, v)
		return Result{}, p.refuse(ctx, in, &InfectedError{Signature: v.Signature})
	}
	return Result{
		Key: key, Size: info.Size, SHA256: hex.EncodeToString(in.sum.Sum(nil)),
		ContentType: contentType, Filename: in.filename,
	}, nil
}

// refuse deletes an object that failed verification and returns cause, joined with the
// deletion's failure if any.
func (p *Pipeline) refuse(ctx context.Context, in ingestion, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := p.objects.Delete(ctx, in.key); err != nil {
		p.log.ErrorContext(ctx, "media: could not delete a refused upload", "kind", in.kind, "key", in.key, "err", err)
		return errors.Join(cause, err)
	}
	return cause
}
