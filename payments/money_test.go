package payments

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/stripe/stripe-go/v82"
)

type recordingMoney struct {
	refund *stripe.RefundCreateParams
	payout *stripe.PayoutCreateParams
	err    error
}

func (r *recordingMoney) refundAPI() RefundAPI { return refundFunc(r.createRefund) }
func (r *recordingMoney) payoutAPI() PayoutAPI { return payoutFunc(r.createPayout) }

func (r *recordingMoney) createRefund(_ context.Context, p *stripe.RefundCreateParams) (*stripe.Refund, error) {
	r.refund = p
	if r.err != nil {
		return nil, r.err
	}
	return &stripe.Refund{ID: "re_x"}, nil
}

func (r *recordingMoney) createPayout(_ context.Context, p *stripe.PayoutCreateParams) (*stripe.Payout, error) {
	r.payout = p
	if r.err != nil {
		return nil, r.err
	}
	return &stripe.Payout{ID: "po_x"}, nil
}

type refundFunc func(context.Context, *stripe.RefundCreateParams) (*stripe.Refund, error)

func (f refundFunc) Create(ctx context.Context, p *stripe.RefundCreateParams) (*stripe.Refund, error) {
	return f(ctx, p)
}

type payoutFunc func(context.Context, *stripe.PayoutCreateParams) (*stripe.Payout, error)

func (f payoutFunc) Create(ctx context.Context, p *stripe.PayoutCreateParams) (*stripe.Payout, error) {
	return f(ctx, p)
}

func TestRefundAndPayoutSendAmountsMetadataAndKeys(t *testing.T) {
	rec := &recordingMoney{}
	m := NewMoney(rec.refundAPI(), rec.payoutAPI())
	ctx := context.Background()
	id, err := m.Refund(ctx, RefundRequest{OrderID: "o1", PaymentIntentID: "pi_1", Amount: 300, IdempotencyKey: "k1"})
	if err != nil || id != "re_x" || *rec.refund.PaymentIntent != "pi_1" || *rec.refund.Amount != 300 ||
		rec.refund.Metadata["order_id"] != "o1" || *rec.refund.IdempotencyKey != "k1" {
		t.Fatalf("refund %s %v: %+v", id, err, rec.refund)
	}
	id, err = m.Payout(ctx, PayoutRequest{WithdrawalID: "w1", UserID: "u1", Amount: 900, Currency: "USD", IdempotencyKey: "k2"})
	if err != nil || id != "po_x" || *rec.payout.Amount != 900 || *rec.payout.Currency != "usd" ||
		rec.payout.Metadata["withdrawal_id"] != "w1" || *rec.payout.IdempotencyKey != "k2" {
		t.Fatalf("payout %s %v: %+v", id, err, rec.payout)
	}
	rec.err = errors.New("boom")
	if _, err := m.Refund(ctx, RefundRequest{}); !errors.Is(err, ErrProvider) {
		t.Fatalf("failing refund: %v", err)
	}
	if _, err := m.Payout(ctx, PayoutRequest{}); !errors.Is(err, ErrProvider) {
		t.Fatalf("failing payout: %v", err)
	}
}

// TestRefundAndPayoutAgainstStripeMock checks the requests against stripe-mock, which
// validates them against Stripe's OpenAPI description.
func TestRefundAndPayoutAgainstStripeMock(t *testing.T) {
	base := os.Getenv("STRIPE_API_BASE")
	if base == "" {
		t.Fatal("STRIPE_API_BASE is not set: run tests with `make test`, or `eval \"$(scripts/devstack env)\"` first")
	}
	client, err := NewStripeClient(StripeConfig{SecretKey: os.Getenv("STRIPE_SECRET_KEY"), APIBase: base})
	if err != nil {
		t.Fatal(err)
	}
	m := NewMoney(client.V1Refunds, client.V1Payouts)
	ctx := context.Background()
	if id, err := m.Refund(ctx, RefundRequest{OrderID: "o", PaymentIntentID: "pi_123", Amount: 450, IdempotencyKey: "gigstream-test-refund"}); err != nil || id == "" {
		t.Fatalf("refund %q: %v", id, err)
	}
	if id, err := m.Payout(ctx, PayoutRequest{WithdrawalID: "w", UserID: "u", Amount: 900, Currency: "USD", IdempotencyKey: "gigstream-test-payout"}); err != nil || id == "" {
		t.Fatalf("payout %q: %v", id, err)
	}
}
