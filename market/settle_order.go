package market

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Accept is the buyer accepting a delivered order: it completes, and its escrow goes
// to the seller's pending balance less the platform fee, in one transaction with the
// order.completed event. A retry under the same Idempotency-Key returns the order
// (replayed true). Errors: invalid for a bad key; not found for an order the caller is
// no party to; forbidden for the seller; conflict when the order is not delivered or
// is settled already.
func (s *Settlement) Accept(ctx context.Context, orderID, userID, key string) (Order, bool, error) {
	return s.settle(ctx, SettleRequest{OrderID: orderID, UserID: userID, Action: SettleComplete, IdempotencyKey: key})
}

// Cancel cancels an order: a placed one by either party (no money moved yet), a paid,
// delivered or revision_requested one by its seller only, with a full refund to the
// buyer through the provider. Errors as Accept's, and unavailable when the provider
// refund fails (nothing changed; retry).
func (s *Settlement) Cancel(ctx context.Context, orderID, userID, key string) (Order, bool, error) {
	return s.settle(ctx, SettleRequest{OrderID: orderID, UserID: userID, Action: SettleCancel, IdempotencyKey: key})
}

// Refund is an admin refunding amount of a paid order that is not completed, with a
// reason, under the admin's Idempotency-Key: amount goes back to the buyer, the rest
// to the seller less the fee on that rest (SplitEscrow), and the order is cancelled
// with order.refunded. Errors: invalid
// naming amount_minor or reason; not found for an unknown order; forbidden for a user
// who is not an admin; conflict when the order cannot be refunded now; unavailable
// when the provider refund fails (nothing changed).
func (s *Settlement) Refund(ctx context.Context, orderID string, admin User, amount int64, reason, key string) (Order, bool, error) {
	if err := checkIdempotencyKey(key); err != nil {
		return Order{}, false, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 1000 {
		return Order{}, false, FieldError(CodeInvalid, "reason", "is required, at most 1000 characters")
	}
	if amount < 1 {
		return Order{}, false, FieldError(CodeInvalid, "amount_minor", "must be a positive number of minor units")
	}
	return s.settleAs(ctx, SettleRequest{OrderID: orderID, UserID: admin.ID, Admin: admin.IsAdmin, Action: SettleRefund,
		RefundMinor: amount, Reason: reason}, key)
}

func (s *Settlement) settle(ctx context.Context, in SettleRequest) (Order, bool, error) {
	if err := checkIdempotencyKey(in.IdempotencyKey); err != nil {
		return Order{}, false, err
	}
	return s.settleAs(ctx, in, in.IdempotencyKey)
}

// settleAs runs a final action under key: the decision under the order's lock, the
// provider refund (when money goes back) still under it, then the events.
func (s *Settlement) settleAs(ctx context.Context, in SettleRequest, key string) (Order, bool, error) {
	in.IdempotencyKey = key
	in.RequestHash = settleRequestHash(in)
	out, err := s.store.SettleOrder(ctx, in,
		func(ord Order, prior *PriorSettlement) (SettleDecision, error) {
			d, err := decideSettlement(in, ord, prior, s.cfg.FeeBPS)
			if err == nil && d.Paid && !d.Replay {
				d.Invoices = DraftInvoices(ord, d.Split, BillingConfig{Issuer: s.cfg.Issuer}.withDefaults().Issuer)
			}
			return d, err
		},
		func(ctx context.Context, ord Order, split Split) (string, error) { return s.refund(ctx, ord, split) })
	if err != nil {
		return Order{}, false, err
	}
	s.publish(ctx, out.Events)
	if !out.Replayed {
		s.log.InfoContext(ctx, "order settled", "order_id", out.Order.ID, "action", in.Action, "status", out.Order.Status,
			"user_id", in.UserID, "refund_minor", in.RefundMinor)
	}
	return out.Order.visibleTo(in.UserID), out.Replayed, nil
}

// refund asks the provider for the split's refund of the order's payment: the
// refunded part of the price with its share of the service fee and tax. The
// provider key is the order's, so a retry after a lost commit gets the same refund
// back rather than a second one, and a different amount under it is refused.
func (s *Settlement) refund(ctx context.Context, ord Order, split Split) (string, error) {
	if ord.Payment == nil || ord.Payment.PaymentIntentID == "" {
		return "", fmt.Errorf("refund of order %s: no payment recorded", ord.ID)
	}
	if ord.Payment.Provider == ProviderPayPal && ord.Payment.CaptureID == "" {
		return "", fmt.Errorf("refund of order %s: no PayPal capture recorded", ord.ID)
	}
	ref, err := s.gateway.Refund(ctx, RefundRequest{
		Provider: ord.Payment.Provider, CaptureID: ord.Payment.CaptureID,
		OrderID: ord.ID, PaymentIntentID: ord.Payment.PaymentIntentID, AmountMinor: split.BuyerRefund(), Currency: ord.Currency,
		IdempotencyKey: "gigstream-order-" + ord.ID + "-refund",
	})
	if err != nil {
		s.log.WarnContext(ctx, "refund failed; nothing changed", "order_id", ord.ID, "err", err)
		return "", Errorf(CodeUnavailable, "the payment provider did not refund; nothing changed, retry later")
	}
	return ref, nil
}

// AutoComplete completes every order delivered longer than AutoCompleteAfter ago, up to
// limit of them, and returns how many it completed. Each is locked and checked again,
// so an order accepted, cancelled or completed by another node meanwhile is skipped:
// each order completes exactly once.
func (s *Settlement) AutoComplete(ctx context.Context, limit int) (int, error) {
	before := s.now().Add(-s.cfg.AutoCompleteAfter)
	ids, err := s.store.OrdersDeliveredBefore(ctx, before, limit)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, id := range ids {
		_, _, err := s.settleAs(ctx, SettleRequest{OrderID: id, Action: SettleAutoComplete, DeliveredBefore: before}, "auto-complete")
		switch {
		case err == nil:
			done++
		case ErrorCode(err) == CodeConflict:
			// settled or re-delivered meanwhile
		default:
			return done, fmt.Errorf("auto-complete order %s: %w", id, err)
		}
	}
	return done, nil
}

// ClearEarnings moves the seller's share of every order settled longer than the
// clearing period ago from pending to available, once per order, and returns how
// many orders cleared.
func (s *Settlement) ClearEarnings(ctx context.Context, limit int) (int, error) {
	events, err := s.store.ClearEarnings(ctx, s.now().Add(-s.cfg.ClearingPeriod), limit)
	s.publish(ctx, events)
	return len(events), err
}
