package market

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Resumables is the resumable-upload engine (tus) as the upload use cases see it: it
// finishes an upload whose last byte is in (assemble the object, scan it) and lists
// those whose verdict went missing. handlers/ adapts media/tus to it.
type Resumables interface {
	// Finish assembles and scans the upload tusID and returns its verdict. It returns
	// an error wrapping ErrResumableFinished when the upload no longer waits for one
	// (a PATCH, a HEAD or another node finished it), wrapping ErrResumableBusy while
	// another request holds it, wrapping ErrNotFound when it is gone, and the engine's
	// error when it still has no verdict (clamd or S3 failed).
	Finish(ctx context.Context, tusID string) (ResumableVerdict, error)
	// Stalled lists the uploads whose last byte arrived more than quiet ago and that
	// still wait for their verdict.
	Stalled(ctx context.Context, quiet time.Duration) ([]StalledResumable, error)
}

// ErrResumableFinished means a resumable upload had its verdict already.
var ErrResumableFinished = errors.New("market: resumable upload already finished")

// ErrResumableBusy means another request (on any node) holds the resumable upload's
// lease: it is being written or finished right now.
var ErrResumableBusy = errors.New("market: resumable upload busy")

// ResumableVerdict is what finishing a resumable upload came to: a clean Object, or
// Rejected with the reason; neither while it is still unfinished.
type ResumableVerdict struct {
	Object   *StoredObject
	Rejected *RejectedUpload
}

// StalledResumable names a resumable upload waiting for its verdict, and its owner.
type StalledResumable struct {
	TusID   string
	OwnerID string
}

// SettleResumable records the verdict of a resumable upload on its uploads row rowID:
// clean with its object, or rejected; a verdict of neither changes nothing. It returns
// the *RejectedUpload of a rejected upload and the failures of recording a clean one.
func (u *Uploads) SettleResumable(ctx context.Context, rowID string, v ResumableVerdict) error {
	var err error
	switch {
	case v.Object != nil:
		_, err = u.Settle(ctx, rowID, *v.Object)
	case v.Rejected != nil:
		_, err = u.Fail(ctx, rowID, v.Rejected)
	}
	return err
}

// FinishResumable finishes the resumable upload tusID that fills row rowID, whose last
// byte is in but whose verdict is missing, and records the verdict (SettleResumable's
// errors). An upload finished meanwhile is no error; an upload still without a verdict
// returns the engine's error and waits for the next try.
func (u *Uploads) FinishResumable(ctx context.Context, rowID, tusID string) error {
	v, err := u.resumables.Finish(ctx, tusID)
	if errors.Is(err, ErrResumableFinished) {
		return nil
	}
	if err != nil {
		return err
	}
	return u.SettleResumable(ctx, rowID, v)
}

// FinishStalled finishes every resumable upload that has waited for its verdict
// longer than quiet: its last byte arrived while clamd or S3 was failing and its client
// never came back to ask. Each node runs it every few seconds to minutes; the engine's
// per-upload lease keeps nodes from finishing one upload twice, and an upload busy
// with another request is left for the next round. It returns how many got
// a verdict and the failures joined; an upload whose retry fails again is left for the
// next round and is not an error.
func (u *Uploads) FinishStalled(ctx context.Context, quiet time.Duration) (int, error) {
	stalled, err := u.resumables.Stalled(ctx, quiet)
	if err != nil {
		return 0, err
	}
	var errs []error
	done := 0
	for _, s := range stalled {
		finished, err := u.finishStalled(ctx, s)
		if err != nil {
			errs = append(errs, fmt.Errorf("tus %s: %w", s.TusID, err))
		}
		if finished {
			done++
		}
	}
	return done, errors.Join(errs...)
}

// finishStalled finishes one stalled upload and reports whether it got its verdict.
func (u *Uploads) finishStalled(ctx context.Context, s StalledResumable) (bool, error) {
	v, err := u.resumables.Finish(ctx, s.TusID)
	switch {
	case errors.Is(err, ErrResumableFinished) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrResumableBusy):
		return false, nil // finished meanwhile, or being finished, by a PATCH, a HEAD or another node
	case err != nil:
		u.log.WarnContext(ctx, "tus: stalled upload still without a verdict", "tus_id", s.TusID, "err", err)
		return false, nil
	}
	row, err := u.Resumable(ctx, s.TusID, s.OwnerID)
	if err != nil {
		return false, fmt.Errorf("uploads row: %w", err)
	}
	if v.Rejected != nil && v.Rejected.Signature != "" {
		u.log.LogAttrs(ctx, slog.LevelWarn, "security event", slog.String("event", "upload_rejected"),
			slog.String("user_id", s.OwnerID), slog.String("upload_id", row.ID),
			slog.String("signature", v.Rejected.Signature), slog.Time("at", time.Now().UTC()))
	}
	var rejected *RejectedUpload
	if err := u.SettleResumable(ctx, row.ID, v); err != nil && !errors.As(err, &rejected) {
		return false, fmt.Errorf("settle: %w", err)
	}
	return true, nil
}
