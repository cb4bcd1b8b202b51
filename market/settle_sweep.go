package market

import (
	"context"
	"errors"
	"fmt"
)

// RefundCancelledPayment refunds in full, through the provider that took it, a payment
// that succeeded for an order cancelled before it was paid (its escrow was funded when
// the payment was applied). It runs under the order's row lock and only while the
// escrow holds money, so however often it is called (webhook retries, the periodic
// sweep, several nodes) the buyer is refunded once: the provider's idempotency key is
// the order's, the ledger moves the escrow back to the provider's external account, a
// refund row and order.refunded are stored, and the order stays cancelled. When the
// provider fails nothing changes (an unavailable Error): the escrow stays funded and
// RefundCancelledPayments retries.
func (s *Settlement) RefundCancelledPayment(ctx context.Context, orderID string) error {
	events, err := s.store.RefundCancelledPayment(ctx, orderID,
		func(ctx context.Context, ord Order, split Split) (string, error) { return s.refund(ctx, ord, split) })
	if err != nil {
		return fmt.Errorf("refund payment of cancelled order %s: %w", orderID, err)
	}
	s.publish(ctx, events)
	if len(events) > 0 {
		s.log.InfoContext(ctx, "payment to a cancelled order refunded", "order_id", orderID)
	}
	return nil
}

// RefundCancelledPayments retries the refund of up to limit cancelled orders whose
// escrow still holds money, and returns how many it looked at. A provider failure on
// one order is logged and the others go on (the next run retries it); a storage error
// stops the run.
func (s *Settlement) RefundCancelledPayments(ctx context.Context, limit int) (int, error) {
	ids, err := s.store.CancelledOrdersWithEscrow(ctx, limit)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, id := range ids {
		err := s.RefundCancelledPayment(ctx, id)
		switch {
		case err == nil:
			done++
		case ErrorCode(err) == CodeUnavailable:
			// logged by refund; the escrow stays funded until the next run
		default:
			return done, err
		}
	}
	return done, nil
}

// RetryPendingWithdrawals finishes up to limit withdrawals pending for longer than
// WithdrawalRetryAfter (the process died between reserving and confirming): the
// provider is asked again under the same idempotency key, so it returns the payout it
// made, if any, rather than making a second one; a payout the provider took moves the
// withdrawal in_transit, a refusal marks it failed and releases the reservation. The
// withdrawal's row lock makes either happen once however many sweeps run. It returns
// how many withdrawals this run finished.
func (s *Settlement) RetryPendingWithdrawals(ctx context.Context, limit int) (int, error) {
	list, err := s.store.PendingWithdrawalsBefore(ctx, s.now().Add(-s.cfg.WithdrawalRetryAfter), limit)
	if err != nil {
		return 0, err
	}
	done := 0
	var errs []error
	for _, w := range list {
		got, finished, err := s.payOut(ctx, w)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if finished {
			done++
			s.log.InfoContext(ctx, "pending withdrawal finished", "withdrawal_id", w.ID, "user_id", w.UserID, "status", got.Status)
		}
	}
	return done, errors.Join(errs...)
}
