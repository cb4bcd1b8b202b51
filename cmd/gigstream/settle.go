package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/payments"
	"github.com/gigstream/hub/store"
)

// settlementConfig tunes the money lifecycle after payment.
type settlementConfig struct {
	FeeBPS            int           // PLATFORM_FEE_BPS: the platform's fee in basis points, 0…10000
	AutoCompleteAfter time.Duration // ORDER_AUTO_COMPLETE_AFTER: a delivered order completes itself after this
	ClearingPeriod    time.Duration // ORDER_CLEARING_PERIOD: earnings become withdrawable after this
	JobInterval       time.Duration // SETTLEMENT_JOB_INTERVAL: how often auto-complete, clearing and the retries run
	// WITHDRAWAL_RETRY_AFTER: a withdrawal still pending this long is retried by the job
	WithdrawalRetryAfter time.Duration
}

// loadSettlementConfig reads the settlement settings.
func loadSettlementConfig(e *envReader, c *config) {
	c.Settlement = settlementConfig{
		FeeBPS:               e.integer("PLATFORM_FEE_BPS", market.DefaultPlatformFeeBPS, 0, 10_000),
		AutoCompleteAfter:    e.duration("ORDER_AUTO_COMPLETE_AFTER", 3*24*time.Hour, time.Second, 365*24*time.Hour),
		ClearingPeriod:       e.duration("ORDER_CLEARING_PERIOD", 7*24*time.Hour, time.Second, 365*24*time.Hour),
		JobInterval:          e.duration("SETTLEMENT_JOB_INTERVAL", time.Minute, time.Second, 24*time.Hour),
		WithdrawalRetryAfter: e.duration("WITHDRAWAL_RETRY_AFTER", 5*time.Minute, time.Second, 7*24*time.Hour),
	}
}

// moneyGateway adapts payments' refunds and payouts to the domain: refunds go to the
// provider that took the payment (paypal nil when PayPal is not configured), payouts
// to the seller's payout method.
type moneyGateway struct {
	money   *payments.Money
	paypal  *payments.PayPal
	connect *payments.Connect
}

func (g moneyGateway) Refund(ctx context.Context, in market.RefundRequest) (string, error) {
	if in.Provider == market.ProviderPayPal {
		return refundPayPal(ctx, g.paypal, in)
	}
	amount, err := toStripe(in.AmountMinor, in.Currency)
	if err != nil {
		return "", err
	}
	return g.money.Refund(ctx, payments.RefundRequest{
		OrderID: in.OrderID, PaymentIntentID: in.PaymentIntentID, Amount: amount, IdempotencyKey: in.IdempotencyKey,
	})
}

// Payout pays a withdrawal to its destination: a transfer and payout through Stripe
// Connect, or a PayPal Payouts batch. A withdrawal without a destination (reserved before payout methods
// existed) is refused: nothing is paid to the platform's own bank any more.
func (g moneyGateway) Payout(ctx context.Context, in market.PayoutRequest) (market.PayoutResult, error) {
	switch in.Provider {
	case market.PayoutStripe:
		return payOutStripe(ctx, g.connect, in)
	case market.PayoutPayPal:
		return payOutPayPal(ctx, g.paypal, in)
	}
	return market.PayoutResult{}, fmt.Errorf("%w: no payout method %q", market.ErrPayoutRefused, in.Provider)
}

// newSettlement builds the settlement use cases on the database and Stripe.
func newSettlement(cfg config, db *store.DB, rt *market.Realtime, connect *payments.Connect, log *slog.Logger) (*market.Settlement, error) {
	client, err := payments.NewStripeClient(payments.StripeConfig{SecretKey: string(cfg.Stripe.SecretKey), APIBase: cfg.Stripe.APIBase})
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	pp, err := newPayPal(cfg.PayPal, providerHTTP(cfg, "paypal", 15*time.Second))
	if err != nil {
		return nil, err
	}
	s := cfg.Settlement
	return market.NewSettlement(db, moneyGateway{payments.NewMoney(client.V1Refunds, client.V1Payouts), pp, connect}, rt, market.SettlementConfig{
		FeeBPS: s.FeeBPS, ZeroFee: s.FeeBPS == 0, AutoCompleteAfter: s.AutoCompleteAfter, ClearingPeriod: s.ClearingPeriod,
		WithdrawalRetryAfter: s.WithdrawalRetryAfter, Withdrawals: cfg.Payout.Rules, Issuer: cfg.Billing.Issuer,
	}, log), nil
}

// settlementArgs is the periodic job that auto-completes due orders, clears due
// earnings, retries the refund of payments that arrived for cancelled orders and
// finishes withdrawals left pending. River's leader inserts it once per interval for the whole cluster; each
// order is locked and checked again as it settles, so even overlapping runs settle
// every order once.
type settlementArgs struct{}

// Kind names the job in river.
func (settlementArgs) Kind() string { return "settlement" }

// settlementBatch is how many orders one run settles of each kind at most.
const settlementBatch = 500

// settlementWorker runs settlementArgs.
type settlementWorker struct {
	river.WorkerDefaults[settlementArgs]
	settlement *market.Settlement
	payouts    *market.Payouts
	log        *slog.Logger
}

// Work auto-completes, clears, refunds late payments of cancelled orders, finishes
// stale pending withdrawals and folds the deferred ledger postings into their
// balance rows; an error makes river retry the run.
func (w *settlementWorker) Work(ctx context.Context, _ *river.Job[settlementArgs]) error {
	completed, err := w.settlement.AutoComplete(ctx, settlementBatch)
	if err != nil {
		return fmt.Errorf("auto-complete: %w", err)
	}
	cleared, err := w.settlement.ClearEarnings(ctx, settlementBatch)
	if err != nil {
		return fmt.Errorf("clearing: %w", err)
	}
	refunded, err := w.settlement.RefundCancelledPayments(ctx, settlementBatch)
	if err != nil {
		return fmt.Errorf("refunds of cancelled orders: %w", err)
	}
	withdrawn, err := w.settlement.RetryPendingWithdrawals(ctx, settlementBatch)
	if err != nil {
		return fmt.Errorf("pending withdrawals: %w", err)
	}
	polled, err := w.payouts.PollPayPalPayouts(ctx, settlementBatch)
	if err != nil {
		return fmt.Errorf("paypal payouts: %w", err)
	}
	withdrawn += polled
	folded, err := w.settlement.FoldLedger(ctx)
	if err != nil {
		return err
	}
	if completed+cleared+refunded+withdrawn > 0 {
		w.log.InfoContext(ctx, "settlement run", "auto_completed", completed, "cleared", cleared,
			"late_payments_refunded", refunded, "withdrawals_finished", withdrawn, "ledger_accounts_folded", folded)
	}
	return nil
}

// settlementJob registers the worker and its periodic schedule, in the money queue.
func settlementJob(workers *river.Workers, s *market.Settlement, p *market.Payouts, interval time.Duration, log *slog.Logger) []*river.PeriodicJob {
	river.AddWorker(workers, &settlementWorker{settlement: s, payouts: p, log: log})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) {
			return settlementArgs{}, &river.InsertOpts{Queue: store.QueueMoney, UniqueOpts: river.UniqueOpts{ByPeriod: interval}}
		}, &river.PeriodicJobOpts{RunOnStart: true})}
}
