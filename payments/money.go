package payments

import (
	"context"
	"fmt"
	"strings"

	"github.com/stripe/stripe-go/v82"
)

// RefundAPI is the slice of stripe-go that refunds use: a stripe.Client's V1Refunds.
type RefundAPI interface {
	Create(ctx context.Context, params *stripe.RefundCreateParams) (*stripe.Refund, error)
}

// PayoutAPI is the slice of stripe-go that payouts use: a stripe.Client's V1Payouts.
type PayoutAPI interface {
	Create(ctx context.Context, params *stripe.PayoutCreateParams) (*stripe.Payout, error)
}

// Money gives money back to buyers (refunds of their PaymentIntents) and pays sellers
// out (payouts).
type Money struct {
	refunds RefundAPI
	payouts PayoutAPI
}

// NewMoney returns the adapter over a stripe.Client's V1Refunds and V1Payouts.
func NewMoney(refunds RefundAPI, payouts PayoutAPI) *Money {
	return &Money{refunds: refunds, payouts: payouts}
}

// RefundRequest asks for Amount minor units of a PaymentIntent back. IdempotencyKey
// makes a retried call return the first refund instead of refunding twice.
type RefundRequest struct {
	OrderID         string
	PaymentIntentID string
	Amount          int64
	IdempotencyKey  string
}

// Refund refunds part or all of a PaymentIntent, with the order id in its metadata,
// and returns the refund's id. It returns an error wrapping ErrProvider when Stripe
// fails or answers without an id.
func (m *Money) Refund(ctx context.Context, in RefundRequest) (string, error) {
	params := &stripe.RefundCreateParams{
		PaymentIntent: stripe.String(in.PaymentIntentID),
		Amount:        stripe.Int64(in.Amount),
	}
	params.Context = ctx
	params.AddMetadata("order_id", in.OrderID)
	params.SetIdempotencyKey(in.IdempotencyKey)
	r, err := m.refunds.Create(ctx, params)
	if err != nil {
		return "", fmt.Errorf("%w: refund order %s: %w", ErrProvider, in.OrderID, err)
	}
	if r == nil || r.ID == "" {
		return "", fmt.Errorf("%w: refund of order %s came back without an id", ErrProvider, in.OrderID)
	}
	return r.ID, nil
}

// PayoutRequest asks for a payout of Amount minor units of Currency (ISO 4217, any
// case) for one withdrawal. IdempotencyKey makes a retry return the first payout.
type PayoutRequest struct {
	WithdrawalID, UserID string
	Amount               int64
	Currency             string
	IdempotencyKey       string
}

// Payout creates a payout with the withdrawal and user in its metadata and returns its
// id. It returns an error wrapping ErrProvider when Stripe fails or answers without an
// id.
func (m *Money) Payout(ctx context.Context, in PayoutRequest) (string, error) {
	params := &stripe.PayoutCreateParams{
		Amount:   stripe.Int64(in.Amount),
		Currency: stripe.String(strings.ToLower(in.Currency)),
	}
	params.Context = ctx
	params.AddMetadata("withdrawal_id", in.WithdrawalID)
	params.AddMetadata("user_id", in.UserID)
	params.SetIdempotencyKey(in.IdempotencyKey)
	p, err := m.payouts.Create(ctx, params)
	if err != nil {
		return "", fmt.Errorf("%w: payout of withdrawal %s: %w", ErrProvider, in.WithdrawalID, err)
	}
	if p == nil || p.ID == "" {
		return "", fmt.Errorf("%w: payout of withdrawal %s came back without an id", ErrProvider, in.WithdrawalID)
	}
	return p.ID, nil
}
