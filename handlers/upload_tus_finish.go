package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/media"
	"github.com/gigstream/hub/media/tus"
)

// TusResumables is the tus engine as market's upload use cases see it
// (market.Resumables): cmd builds the uploads with it, so that HEAD and the background
// upkeep finish a stalled upload through one use case, Uploads.FinishResumable.
type TusResumables struct{ Engine *tus.Engine }

var _ market.Resumables = TusResumables{}

// Finish assembles and scans the upload again; see market.Resumables. The engine's
// errors keep their text, and tus.ErrFinished, tus.ErrLocked and tus.ErrNotFound are
// also market.ErrResumableFinished, market.ErrResumableBusy and market.ErrNotFound.
func (r TusResumables) Finish(ctx context.Context, tusID string) (market.ResumableVerdict, error) {
	up, err := r.Engine.Finish(ctx, tusID)
	switch {
	case errors.Is(err, tus.ErrFinished):
		return market.ResumableVerdict{}, tusError{err: err, is: market.ErrResumableFinished}
	case errors.Is(err, tus.ErrLocked):
		return market.ResumableVerdict{}, tusError{err: err, is: market.ErrResumableBusy}
	case errors.Is(err, tus.ErrNotFound):
		return market.ResumableVerdict{}, tusError{err: err, is: market.ErrNotFound}
	case err != nil && up.Status != tus.StatusRejected:
		return market.ResumableVerdict{}, err
	}
	return tusVerdict(up, err), nil
}

// Stalled lists the uploads whose verdict has been missing for longer than quiet.
func (r TusResumables) Stalled(ctx context.Context, quiet time.Duration) ([]market.StalledResumable, error) {
	list, err := r.Engine.Stalled(ctx, quiet)
	if err != nil {
		return nil, err
	}
	out := make([]market.StalledResumable, len(list))
	for i, up := range list {
		out[i] = market.StalledResumable{TusID: up.ID, OwnerID: up.Owner}
	}
	return out, nil
}

// tusVerdict is what a tus upload came to: clean with its object, or rejected for
// cause (the engine's verdict; nil when only the stored rejection is known); neither
// while unfinished.
func tusVerdict(up tus.Upload, cause error) market.ResumableVerdict {
	switch {
	case up.Status == tus.StatusClean && up.Result != nil:
		r := up.Result
		return market.ResumableVerdict{Object: &market.StoredObject{Key: r.Key, Size: r.Size, SHA256: r.SHA256,
			ContentType: r.ContentType, Filename: r.Filename}}
	case up.Status == tus.StatusRejected:
		if cause == nil {
			cause = errors.New(up.Rejection)
		}
		var infected *media.InfectedError
		signature := ""
		if errors.As(cause, &infected) {
			signature = infected.Signature
		}
		return market.ResumableVerdict{Rejected: &market.RejectedUpload{Reason: up.Rejection, Signature: signature, Err: cause}}
	}
	return market.ResumableVerdict{}
}

// tusError is an engine error, text and all, that is also the market error is.
type tusError struct{ err, is error }

func (e tusError) Error() string        { return e.err.Error() }
func (e tusError) Unwrap() error        { return e.err }
func (e tusError) Is(target error) bool { return target == e.is }
