package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/media"
	"github.com/gigstream/hub/media/tus"
)

// settleResumable carries a finished tus upload over to its uploads row: clean with its
// object, or rejected with the verdict (cause). An upload still unfinished changes
// nothing. It returns the verdict of a rejected upload (a *market.RejectedUpload wrapping
// cause) and the failures of recording a clean one.
func settleResumable(ctx context.Context, uploads *market.Uploads, rowID string, up tus.Upload, cause error) error {
	switch {
	case up.Status == tus.StatusClean && up.Result != nil:
		r := up.Result
		_, err := uploads.Settle(ctx, rowID, market.StoredObject{Key: r.Key, Size: r.Size, SHA256: r.SHA256,
			ContentType: r.ContentType, Filename: r.Filename})
		return err
	case up.Status == tus.StatusRejected:
		if cause == nil {
			cause = errors.New(up.Rejection)
		}
		var infected *media.InfectedError
		signature := ""
		if errors.As(cause, &infected) {
			signature = infected.Signature
		}
		_, err := uploads.Fail(ctx, rowID, &market.RejectedUpload{Reason: up.Rejection, Signature: signature, Err: cause})
		return err
	}
	return nil
}

// TusFinisher completes the tus uploads whose last byte arrived while clamd or S3 was
// failing and whose client never came back to ask (HEAD does the same for a client that
// does): each stalled upload is assembled and scanned again, and its uploads row becomes
// clean or rejected, with the status event the uploader's browser waits for. cmd runs it
// every few seconds to minutes on every node; the engine's per-upload lock keeps nodes
// from finishing one upload twice.
type TusFinisher struct {
	Engine  *tus.Engine
	Uploads *market.Uploads
	Log     *slog.Logger
}

// FinishStalled retries every upload that has waited for its verdict longer than quiet.
// It returns how many got one (clean or rejected) and the failures joined; an upload
// whose retry fails again (clamd still down) is left for the next round and is not an
// error.
func (f TusFinisher) FinishStalled(ctx context.Context, quiet time.Duration) (int, error) {
	stalled, err := f.Engine.Stalled(ctx, quiet)
	if err != nil {
		return 0, err
	}
	var errs []error
	done := 0
	for _, s := range stalled {
		up, err := f.Engine.Finish(ctx, s.ID)
		switch {
		case errors.Is(err, tus.ErrFinished) || errors.Is(err, tus.ErrNotFound):
			continue // finished meanwhile by a PATCH, a HEAD or another node
		case err != nil && up.Status != tus.StatusRejected:
			f.Log.WarnContext(ctx, "tus: stalled upload still without a verdict", "tus_id", s.ID, "err", err)
			continue
		}
		row, rerr := f.Uploads.Resumable(ctx, s.ID, s.Owner)
		if rerr != nil {
			errs = append(errs, fmt.Errorf("tus %s: uploads row: %w", s.ID, rerr))
			continue
		}
		var infected *media.InfectedError
		if errors.As(err, &infected) {
			f.Log.LogAttrs(ctx, slog.LevelWarn, "security event", slog.String("event", "upload_rejected"),
				slog.String("user_id", s.Owner), slog.String("upload_id", row.ID),
				slog.String("signature", infected.Signature), slog.Time("at", time.Now().UTC()))
		}
		var rejected *market.RejectedUpload
		if serr := settleResumable(ctx, f.Uploads, row.ID, up, err); serr != nil && !errors.As(serr, &rejected) {
			errs = append(errs, fmt.Errorf("tus %s: settle: %w", s.ID, serr))
			continue
		}
		done++
	}
	return done, errors.Join(errs...)
}
