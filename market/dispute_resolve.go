package market

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ResolveDispute is an admin ending an order's open dispute, the order's one final
// action: refund (0…price) goes back to the buyer through the provider that took the
// payment, the rest to the seller less the fee on that rest (SplitEscrow, as an admin
// refund); no refund completes the order (the seller wins), any refund cancels it.
// It stores order.dispute_resolved and order.completed or order.refunded. A retry under
// the same Idempotency-Key replays (true). Errors: invalid naming refund_minor, note
// or Idempotency-Key; not found for an unknown order, or one a non-admin is no party
// to; forbidden for a party who is no admin; conflict when the order is not disputed
// (or settled already); unavailable when the provider refund fails (nothing changed).
func (s *Settlement) ResolveDispute(ctx context.Context, orderID string, admin User, refund int64, note, key string) (Order, bool, error) {
	if err := checkIdempotencyKey(key); err != nil {
		return Order{}, false, err
	}
	note = strings.TrimSpace(note)
	if note == "" || utf8.RuneCountInString(note) > 1000 {
		return Order{}, false, FieldError(CodeInvalid, "note", "is required, at most 1000 characters")
	}
	if refund < 0 {
		return Order{}, false, FieldError(CodeInvalid, "refund_minor", "must be zero or a positive number of minor units")
	}
	return s.settleAs(ctx, SettleRequest{OrderID: orderID, UserID: admin.ID, Admin: admin.IsAdmin, Action: SettleResolve,
		RefundMinor: refund, Reason: note}, key)
}

// decideResolve is the rule of an admin's resolution of a locked, disputed order.
func decideResolve(in SettleRequest, ord Order, feeBPS int) (SettleDecision, error) {
	if !in.Admin {
		return SettleDecision{}, Errorf(CodeForbidden, "only an admin resolves a dispute")
	}
	if in.RefundMinor < 0 || in.RefundMinor > ord.PriceMinor {
		return SettleDecision{}, FieldError(CodeInvalid, "refund_minor", "must be between 0 and the order's price, "+strconv.FormatInt(ord.PriceMinor, 10))
	}
	action, events := ActionResolveSeller, []string{"order.dispute_resolved", "order.completed"}
	if in.RefundMinor > 0 {
		action, events = ActionResolveRefund, []string{"order.dispute_resolved", "order.refunded"}
	}
	d, err := release(ord, action, in.RefundMinor, feeBPS, events...)
	d.Reason = in.Reason
	return d, err
}
