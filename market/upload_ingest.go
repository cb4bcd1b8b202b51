package market

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// cleanupTimeout bounds the bookkeeping done after a request failed or was cancelled.
const cleanupTimeout = 30 * time.Second

// Start checks that in.OwnerID may upload in.Kind for its gig or conversation, and
// that declaredSize (-1: unknown) fits the kind, then records the upload as uploading
// and publishes that. Errors: invalid (422) for a missing or extra target, not found
// (404) for a gig or conversation the owner may not use, the pipeline's size error
// (413), or a storage error.
func (u *Uploads) Start(ctx context.Context, in NewUpload, declaredSize int64) (Upload, error) {
	if err := u.media.CheckSize(in.Kind, declaredSize); err != nil {
		return Upload{}, err
	}
	if err := u.checkTarget(ctx, in); err != nil {
		return Upload{}, err
	}
	in.Filename = u.media.SanitizeFilename(in.Filename)
	row, ev, err := u.store.CreateUpload(ctx, in)
	if err != nil {
		return Upload{}, err
	}
	u.realtime.PublishCommitted(ctx, ev)
	return row, nil
}

// Ingest runs a whole single-request upload: Start, then the pipeline over body, then
// the row becomes clean (pointing to the object) or rejected. When the pipeline fails
// for any other reason (clamd or S3 down, body cut short) the row is removed, so
// nothing is left. It returns Start's errors and the pipeline's, unchanged.
func (u *Uploads) Ingest(ctx context.Context, in NewUpload, body IngestInput) (Upload, error) {
	row, err := u.Start(ctx, in, max(body.DeclaredSize, body.SizeHint))
	if err != nil {
		return Upload{}, err
	}
	body.Kind, body.KeyPrefix = row.Kind, UploadKeyPrefix(row)
	if body.Filename == "" {
		body.Filename = in.Filename
	}
	obj, err := u.media.Ingest(ctx, body)
	if err != nil {
		return u.Fail(ctx, row.ID, err)
	}
	return u.Settle(ctx, row.ID, obj)
}

// Fail records why an upload did not become clean and returns cause: a *RejectedUpload
// keeps the row as rejected, anything else removes it. The bookkeeping runs even when
// ctx was cancelled.
func (u *Uploads) Fail(ctx context.Context, id string, cause error) (Upload, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	var rej *RejectedUpload
	if errors.As(cause, &rej) {
		row, ev, err := u.store.RejectUpload(ctx, id, rej.Reason, rej.Signature)
		if err != nil {
			return Upload{}, errors.Join(cause, err)
		}
		u.realtime.PublishCommitted(ctx, ev)
		return row, cause
	}
	// The event goes to the client: it says what kind of failure, never the
	// internal detail (addresses, keys, SQL), which is only logged.
	u.log.WarnContext(ctx, "upload failed", "upload_id", id, "err", cause)
	ev, err := u.store.RemoveUpload(ctx, id, publicFailure(cause))
	if err != nil {
		return Upload{}, errors.Join(cause, err)
	}
	u.realtime.PublishCommitted(ctx, ev)
	return Upload{}, cause
}

// Settle records obj on a clean upload and publishes it. When the row cannot be
// updated the object is deleted, so no object outlives its row.
func (u *Uploads) Settle(ctx context.Context, id string, obj StoredObject) (Upload, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	row, ev, err := u.store.SettleUpload(ctx, id, obj)
	if err != nil {
		if derr := u.media.Delete(ctx, obj.Key); derr != nil {
			u.log.ErrorContext(ctx, "uploads: object of an unrecorded upload not deleted", "key", obj.Key, "err", derr)
		}
		_, ferr := u.Fail(ctx, id, fmt.Errorf("record clean upload: %w", err))
		return Upload{}, ferr
	}
	u.realtime.PublishCommitted(ctx, ev)
	return row, nil
}

// MarkScanning moves an upload to scanning (its last byte is in) and publishes that;
// an upload already scanning is left as it is.
func (u *Uploads) MarkScanning(ctx context.Context, id string) error {
	_, events, err := u.store.MarkUploadScanning(ctx, id)
	if err != nil {
		return err
	}
	u.realtime.PublishCommitted(ctx, events...)
	return nil
}

// LinkResumable records which tus upload fills the upload id.
func (u *Uploads) LinkResumable(ctx context.Context, id, tusID string) error {
	return u.store.LinkResumable(ctx, id, tusID)
}

// Resumable returns the upload a tus upload fills, when userID owns it; anyone else
// gets a not-found Error.
func (u *Uploads) Resumable(ctx context.Context, tusID, userID string) (Upload, error) {
	row, err := u.store.UploadByResumable(ctx, tusID)
	if err != nil {
		return Upload{}, err
	}
	if row.OwnerID != userID {
		return Upload{}, ErrNotFound
	}
	return row, nil
}

// checkTarget applies who may upload what where: gig media by the gig's seller, an
// attachment by a participant of the conversation, an avatar for oneself, a deliverable
// by the seller of an order that takes deliveries (see checkOrder).
func (u *Uploads) checkTarget(ctx context.Context, in NewUpload) error {
	switch in.Kind {
	case UploadGigImage, UploadGigVideo:
		return u.checkGig(ctx, in)
	case UploadAttachment:
		return u.checkConversation(ctx, in)
	case UploadAvatar:
		return noTarget(in.GigID, "gig_id", in.ConversationID, "conversation_id", in.OrderID, "order_id")
	case UploadDeliverable:
		return u.checkOrder(ctx, in)
	}
	return FieldError(CodeInvalid, "kind", "unknown upload kind")
}

func (u *Uploads) checkGig(ctx context.Context, in NewUpload) error {
	if in.GigID == nil {
		return FieldError(CodeInvalid, "gig_id", "is required for gig media")
	}
	if err := noTarget(nil, "", in.ConversationID, "conversation_id", in.OrderID, "order_id"); err != nil {
		return err
	}
	seller, _, err := u.store.GigForUpload(ctx, *in.GigID)
	if err != nil {
		return err
	}
	if seller != in.OwnerID {
		return Errorf(CodeNotFound, "no such gig of yours")
	}
	return nil
}

func (u *Uploads) checkConversation(ctx context.Context, in NewUpload) error {
	if in.ConversationID == nil {
		return FieldError(CodeInvalid, "conversation_id", "is required for an attachment")
	}
	if err := noTarget(in.GigID, "gig_id", nil, "", in.OrderID, "order_id"); err != nil {
		return err
	}
	ok, err := u.store.IsMember(ctx, *in.ConversationID, in.OwnerID)
	if err != nil {
		return err
	}
	if !ok {
		return Errorf(CodeNotFound, "no such conversation of yours")
	}
	return nil
}

// noTarget refuses the ids a kind does not take.
func noTarget(a *string, an string, b *string, bn string, c *string, cn string) error {
	for _, t := range []struct {
		v    *string
		name string
	}{{a, an}, {b, bn}, {c, cn}} {
		if t.v != nil {
			return FieldError(CodeInvalid, t.name, "does not apply to this kind of upload")
		}
	}
	return nil
}

// publicFailure is what the uploader is told about a failed upload: a domain Error's
// own message, or a generic line for faults of clamd, S3 or the database.
func publicFailure(err error) string {
	var de *Error
	if errors.As(err, &de) && de.Message != "" {
		return de.Message
	}
	return "the upload could not be completed; try again"
}
