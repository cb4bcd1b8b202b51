package market

import (
	"context"
	"errors"
)

// PollPayPalPayouts asks PayPal about up to limit PayPal withdrawals in transit for
// longer than PollAfter (a webhook may have been lost) and applies each final answer
// as a webhook would, once (the withdrawal's row lock; a later webhook finds it
// finished). It returns how many it finished, and the errors of those it could not
// ask or apply (they are asked again next run).
func (p *Payouts) PollPayPalPayouts(ctx context.Context, limit int) (int, error) {
	list, err := p.store.WithdrawalsInTransit(ctx, PayoutPayPal, p.now().Add(-p.cfg.PollAfter), limit)
	if err != nil {
		return 0, err
	}
	done := 0
	var errs []error
	for _, w := range list {
		out, final, err := p.gateway.PayPalPayout(ctx, w)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !final {
			continue
		}
		out.EventID, out.EventType, out.Provider = "poll:"+w.ID, "poll", PayoutPayPal
		outcome, err := p.ApplyPayoutOutcome(ctx, out)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if outcome == OutcomeApplied {
			done++
		}
	}
	return done, errors.Join(errs...)
}
