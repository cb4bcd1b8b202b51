package market

import (
	"context"
	"errors"
)

// checkOrder lets the seller of an order upload deliverables for it while the order
// takes deliveries (paid, revision_requested, delivered). Errors: invalid naming
// order_id when it is missing or not a UUID (or another target is given); not found
// for an order that does not exist or is not the uploader's to deliver; conflict when
// the order is in another status.
func (u *Uploads) checkOrder(ctx context.Context, in NewUpload) error {
	if in.OrderID == nil {
		return FieldError(CodeInvalid, "order_id", "is required for a deliverable: the order it is for")
	}
	if !uuidText.MatchString(*in.OrderID) {
		return FieldError(CodeInvalid, "order_id", "must be a UUID")
	}
	if err := noTarget(in.GigID, "gig_id", in.ConversationID, "conversation_id", nil, ""); err != nil {
		return err
	}
	seller, status, err := u.store.OrderForUpload(ctx, *in.OrderID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err != nil || seller != in.OwnerID {
		return FieldError(CodeNotFound, "order_id", "no such order of yours to deliver")
	}
	if _, err := NextStatus(status, ActionDeliver); err != nil {
		return FieldError(CodeConflict, "order_id", "the order is "+string(status)+" and takes no deliverables now")
	}
	return nil
}
