package tus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gigstream/hub/media"
)

// Finish retries the completion of an upload stuck in StatusScanning (clamd or S3 was
// down when its last byte arrived); HEAD and a periodic job (see Stalled) call it. It
// returns the same errors as the end of Patch, ErrLocked while another request holds
// the upload, and ErrFinished for an upload not waiting to be scanned.
func (e *Engine) Finish(ctx context.Context, id string) (Upload, error) {
	h, err := e.acquireLease(ctx, id)
	if err != nil {
		return Upload{}, err
	}
	u, err := e.state.Get(h.ctx, id)
	switch {
	case err != nil:
	case u.Status != StatusScanning:
		err = ErrFinished
	default:
		u, err = e.finishHeld(h, u)
	}
	h.release()
	return u, h.fenced(err)
}

// Stalled lists the uploads whose last byte arrived but whose verdict has been missing
// for longer than quiet (clamd or S3 failed at the last PATCH and the client has not
// come back), for a periodic job to Finish. Errors are the StateStore's.
func (e *Engine) Stalled(ctx context.Context, quiet time.Duration) ([]Upload, error) {
	return e.state.Stalled(ctx, e.cfg.Now().Add(-quiet))
}

// finishHeld assembles the object and verifies it under the lease h, saving each step
// so that a failure can be resumed with Finish.
func (e *Engine) finishHeld(h *held, u Upload) (Upload, error) {
	ctx := h.ctx
	u.Status = StatusScanning
	if err := e.assemble(ctx, &u); err != nil {
		e.save(h, u)
		return u, err
	}
	if err := e.state.Save(ctx, u, h.lease); err != nil {
		return u, fmt.Errorf("tus: save upload: %w", err)
	}
	res, err := e.verify.Verify(ctx, u.Kind, u.Key, u.Metadata["filename"])
	var infected *media.InfectedError
	switch {
	case err == nil:
		u.Status, u.Result = StatusClean, &res
	case errors.As(err, &infected), errors.Is(err, media.ErrUnsupportedType), errors.Is(err, media.ErrTooLarge),
		errors.Is(err, media.ErrEmpty):
		u.Status, u.Rejection = StatusRejected, err.Error()
	default:
		return u, err // still scanning: Finish retries
	}
	if serr := e.state.Save(ctx, u, h.lease); serr != nil {
		return u, errors.Join(err, fmt.Errorf("tus: save upload: %w", serr))
	}
	return u, err
}

// assemble completes the multipart upload into the object (an empty upload becomes an
// empty object). It is a no-op once done.
func (e *Engine) assemble(ctx context.Context, u *Upload) error {
	if u.MultipartID == "" {
		return nil
	}
	if u.Length == 0 {
		if _, err := e.objects.Put(ctx, u.Key, bytes.NewReader(nil), media.PutOptions{}); err != nil {
			return err
		}
		if err := e.objects.AbortMultipart(ctx, u.Key, u.MultipartID); err != nil {
			return err
		}
	} else if err := e.objects.CompleteMultipart(ctx, u.Key, u.MultipartID, u.Parts); err != nil {
		return err
	}
	u.MultipartID, u.Parts = "", nil
	return nil
}

func (e *Engine) save(h *held, u Upload) {
	if err := e.state.Save(h.ctx, u, h.lease); err != nil {
		e.cfg.Logger.ErrorContext(h.ctx, "tus: save upload", "id", u.ID, "err", err)
	}
}
