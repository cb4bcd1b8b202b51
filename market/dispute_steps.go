package market

import "context"

// Open is the buyer disputing a paid, delivered or revision_requested order with a
// reason (10…2000 characters): the order becomes disputed, and nothing but the
// dispute's end moves it on. A retry under the same Idempotency-Key replays (true).
// Errors: invalid naming reason or Idempotency-Key; not found for an order the caller
// is no party to; forbidden for the seller; conflict when the order cannot be
// disputed now.
func (d *Disputes) Open(ctx context.Context, orderID, userID, reason, key string) (DisputeOutcome, error) {
	text, err := checkDisputeText(reason, "reason", 10)
	if err != nil {
		return DisputeOutcome{}, err
	}
	return d.change(ctx, DisputeChange{OrderID: orderID, UserID: userID, Step: DisputeOpenStep, Text: text, IdempotencyKey: key})
}

// Answer is the seller's one answer (1…2000 characters) to the order's open dispute.
// Errors as Open's; forbidden for the buyer; conflict when no dispute is open or it
// was answered already.
func (d *Disputes) Answer(ctx context.Context, orderID, userID, answer, key string) (DisputeOutcome, error) {
	text, err := checkDisputeText(answer, "response", 1)
	if err != nil {
		return DisputeOutcome{}, err
	}
	return d.change(ctx, DisputeChange{OrderID: orderID, UserID: userID, Step: DisputeAnswerStep, Text: text, IdempotencyKey: key})
}

// Withdraw is the buyer taking the open dispute back: the order returns to the status
// it had. Errors as Open's; forbidden for the seller; conflict when no dispute is open.
func (d *Disputes) Withdraw(ctx context.Context, orderID, userID, key string) (DisputeOutcome, error) {
	return d.change(ctx, DisputeChange{OrderID: orderID, UserID: userID, Step: DisputeWithdrawStep, IdempotencyKey: key})
}

// Dispute returns the order's latest dispute to its buyer or seller, or to an admin.
// Errors: not found for anyone else, and when the order was never disputed.
func (d *Disputes) Dispute(ctx context.Context, orderID string, caller User) (Dispute, error) {
	return d.store.LatestDispute(ctx, orderID, caller.ID, caller.IsAdmin)
}

// change takes a step under the order's lock and publishes its event after commit.
func (d *Disputes) change(ctx context.Context, in DisputeChange) (DisputeOutcome, error) {
	if err := checkIdempotencyKey(in.IdempotencyKey); err != nil {
		return DisputeOutcome{}, err
	}
	in.RequestHash = disputeRequestHash(in)
	out, err := d.store.ChangeDispute(ctx, in, func(ord Order, latest *Dispute) (DisputeDecision, error) {
		return decideDispute(in, ord, latest)
	})
	if err != nil {
		return DisputeOutcome{}, err
	}
	if d.realtime != nil && len(out.Events) > 0 {
		d.realtime.PublishCommitted(ctx, out.Events...)
	}
	if !out.Replayed {
		d.log.InfoContext(ctx, "dispute "+in.Step, "order_id", in.OrderID, "user_id", in.UserID, "status", out.Order.Status)
	}
	out.Order = out.Order.visibleTo(in.UserID)
	return out, nil
}
