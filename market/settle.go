package market

import (
	"context"
	"log/slog"
	"time"
)

// Settlement holds the money lifecycle after payment: accept and auto-complete, cancel
// and refund, clearing, balances and withdrawals.
type Settlement struct {
	store    SettlementStore
	gateway  MoneyGateway
	realtime *Realtime
	cfg      SettlementConfig
	log      *slog.Logger
	now      func() time.Time
}

// NewSettlement returns the settlement use cases over their collaborators.
func NewSettlement(s SettlementStore, g MoneyGateway, rt *Realtime, cfg SettlementConfig, log *slog.Logger) *Settlement {
	if cfg.FeeBPS == 0 && !cfg.ZeroFee {
		cfg.FeeBPS = DefaultPlatformFeeBPS
	}
	cfg.FeeBPS = max(0, min(cfg.FeeBPS, 10_000))
	if cfg.AutoCompleteAfter <= 0 {
		cfg.AutoCompleteAfter = 3 * 24 * time.Hour
	}
	if cfg.ClearingPeriod <= 0 {
		cfg.ClearingPeriod = 7 * 24 * time.Hour
	}
	if cfg.WithdrawalRetryAfter <= 0 {
		cfg.WithdrawalRetryAfter = 5 * time.Minute
	}
	if log == nil {
		log = slog.Default()
	}
	return &Settlement{store: s, gateway: g, realtime: rt, cfg: cfg, log: log, now: time.Now}
}

// SettlementStore keeps the final actions, the clearing of earnings and withdrawals;
// store/ implements it. SettleOrder locks the order (not found for a user who is no
// party to it, unless Admin), calls decide with it (its Payment set) and the prior
// final action, and when the decision refunds money calls refund with the locked order
// while still holding the lock: a provider error rolls everything back. Then the
// status, the split, the ledger release, the refund row, the order events and the
// seller's balance.updated event are written in the same transaction.
type SettlementStore interface {
	SettleOrder(ctx context.Context, in SettleRequest, decide func(Order, *PriorSettlement) (SettleDecision, error),
		refund func(context.Context, Order, Split) (string, error)) (SettledOrder, error)
	OrdersDeliveredBefore(ctx context.Context, before time.Time, limit int) ([]string, error)
	ClearEarnings(ctx context.Context, settledBefore time.Time, limit int) ([]Event, error)
	// FoldLedger adds the postings the database deferred to their accounts' balance
	// rows and returns how many accounts it folded.
	FoldLedger(ctx context.Context) (int, error)
	Balances(ctx context.Context, userID string) ([]Balance, error)
	// ReserveWithdrawal returns the withdrawal under in's key if there is one;
	// otherwise, under the seller's lock, it reads the facts, asks plan, and records
	// the withdrawal as planned (or returns plan's error).
	ReserveWithdrawal(ctx context.Context, in NewWithdrawal, plan func(WithdrawalFacts) (WithdrawalPlan, error)) (Withdrawal, bool, error)
	// StartWithdrawalTransit records the provider's answer on a pending withdrawal
	// under its lock: with a failure it is failed (nothing posted); otherwise
	// available → transit is posted and it is in_transit with res's references.
	StartWithdrawalTransit(ctx context.Context, id string, res PayoutResult, failure string) (Withdrawal, []Event, error)
	// ReviewWithdrawal moves a withdrawal in review to pending (approve) or rejected
	// (with reason) under its lock, by admin; conflict when it is not in review.
	ReviewWithdrawal(ctx context.Context, id, adminID string, approve bool, reason string) (Withdrawal, []Event, error)
	// WithdrawalsInReview lists up to limit withdrawals in review, oldest first, after
	// the key (created_at, id) of the last one seen (nil: from the oldest).
	WithdrawalsInReview(ctx context.Context, after *PageKey, limit int) ([]Withdrawal, error)
	// Withdrawals lists up to limit of userID's withdrawals, newest first, after the
	// key (created_at, id) of the last one seen (nil from the newest).
	Withdrawals(ctx context.Context, userID string, after *PageKey, limit int) ([]Withdrawal, error)
	// RefundCancelledPayment locks the order and, when it is cancelled and its escrow
	// holds money, calls refund with the whole escrow while holding the lock, then posts
	// escrow → the provider's external account, the refund row and order.refunded.
	RefundCancelledPayment(ctx context.Context, orderID string, refund func(context.Context, Order, Split) (string, error)) ([]Event, error)
	CancelledOrdersWithEscrow(ctx context.Context, limit int) ([]string, error)
	PendingWithdrawalsBefore(ctx context.Context, before time.Time, limit int) ([]Withdrawal, error)
	// ApplyReversal records the event once (a duplicate changes nothing), locks the
	// order whose payment it is about (by PaymentIntent, or PayPal capture), reads
	// the facts, asks decide and writes its plan in the same transaction: the
	// reversal record, the ledger, the order's final action, the order event and the
	// seller's balance.updated.
	ApplyReversal(ctx context.Context, ev PaymentEvent, decide func(ReversalFacts) ReversalPlan) (PaymentOutcome, error)
}

// SettlementConfig tunes settlement. The zero value means the defaults.
type SettlementConfig struct {
	FeeBPS            int           // platform fee in basis points; default DefaultPlatformFeeBPS; 0…10000
	AutoCompleteAfter time.Duration // a delivered order completes itself after this; default 3 days
	ClearingPeriod    time.Duration // earnings become withdrawable after this; default 7 days
	ZeroFee           bool          // FeeBPS 0 means no fee rather than the default
	// WithdrawalRetryAfter is how long a withdrawal stays pending before the periodic
	// sweep retries it; default 5 minutes.
	WithdrawalRetryAfter time.Duration
	// Withdrawals are the withdrawal rules; the zero value has none.
	Withdrawals WithdrawalRules
	// Issuer issues the invoice and credit note of every paid order's settlement
	// (InvoiceRule); the zero value issues them as "GigStream".
	Issuer Issuer
}

// SettleRequest is one final action on an order: the buyer accepts (complete), the
// auto-complete job (auto_complete, no user), a party cancels (cancel), or an admin
// refunds (refund, RefundMinor of the escrow, with a Reason).
type SettleRequest struct {
	OrderID        string
	UserID         string // "" for auto_complete
	Admin          bool   // the caller is an admin: the order is found whoever its parties are
	Action         string // SettleComplete, SettleAutoComplete, SettleCancel, SettleRefund
	IdempotencyKey string
	RequestHash    string
	RefundMinor    int64
	Reason         string
	// DeliveredBefore, for auto_complete: only an order delivered before it completes.
	DeliveredBefore time.Time
}

// The final actions on an order; order_settlements keeps at most one per order.
const (
	SettleComplete     = "complete"
	SettleAutoComplete = "auto_complete"
	SettleCancel       = "cancel"
	SettleRefund       = "refund"
	SettleResolve      = "resolve" // an admin resolves a dispute (dispute_resolve.go)
)

// PriorSettlement is the final action already taken on an order, if any.
type PriorSettlement struct {
	Action         string  `db:"action"`
	UserID         *string `db:"user_id"`
	IdempotencyKey string  `db:"idempotency_key"`
	RequestHash    string  `db:"request_hash"`
}

// SettleDecision is what a final action does to a locked order: replay an earlier
// identical request (nothing written), or move the order to Status releasing its
// escrow as Split (when it was paid), with the order events to store.
type SettleDecision struct {
	Replay     bool
	Status     OrderStatus
	Paid       bool // the order had been paid: the escrow is released as Split
	Split      Split
	EventTypes []string
	Reason     string
	// Invoices are the documents the settlement issues (InvoiceRule), numbered and
	// stored by the store in the same transaction.
	Invoices []InvoiceDocument
}

// RefundRequest asks the provider to give part or all of an order's payment back.
type RefundRequest struct {
	Provider                 string // "stripe" or "paypal": who took the payment
	CaptureID                string // PayPal's capture to refund
	OrderID, PaymentIntentID string
	AmountMinor              int64
	Currency                 string
	IdempotencyKey           string
}

// PayoutRequest asks the provider to pay a seller's withdrawal out to Destination (a
// Stripe connected account, or a PayPal e-mail) through Provider.
type PayoutRequest struct {
	WithdrawalID, UserID  string
	Provider, Destination string
	AmountMinor           int64
	Currency              string
	IdempotencyKey        string // the prefix of every provider call's key
}

// PayoutResult is what the provider made for a withdrawal: Stripe's transfer to the
// connected account and the payout on it, or PayPal's payout batch.
type PayoutResult struct {
	TransferRef, PayoutRef string
}

// MoneyGateway is the providers as settlement needs them; cmd/ adapts payments/ to
// it. Refund returns the provider's id of the refund, or an error when the provider
// failed or refused (a retry with the same idempotency key is safe). Payout returns
// what it made, or an error wrapping ErrPayoutRefused when the provider surely paid
// nothing, or another error when that is not certain (a retry under the same key
// returns what was made).
type MoneyGateway interface {
	Refund(ctx context.Context, in RefundRequest) (string, error)
	Payout(ctx context.Context, in PayoutRequest) (PayoutResult, error)
}

// SettledOrder is the outcome of a final action: the order, whether it replayed an
// earlier identical request, and the events stored with it.
type SettledOrder struct {
	Order    Order
	Replayed bool
	Events   []Event
}

// publish hands committed events to the hub, when there is one.
func (s *Settlement) publish(ctx context.Context, events []Event) {
	if s.realtime != nil && len(events) > 0 {
		s.realtime.PublishCommitted(ctx, events...)
	}
}
