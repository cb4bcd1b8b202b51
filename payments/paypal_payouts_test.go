package payments

import (
	"context"
	"errors"
	"testing"
)

// TestPayPalPayoutOncePerWithdrawal: a payout batch pays the e-mail the exact amount,
// a retry returns the same batch (PayPal-Request-Id), the item's status is read back,
// a webhook about it verifies and decodes, and a refused batch is ErrRefused.
func TestPayPalPayoutOncePerWithdrawal(t *testing.T) {
	p, srv := newTestPayPal(t)
	ctx := context.Background()
	in := PayPalPayoutRequest{WithdrawalID: "w-1", Email: "seller@example.com", Amount: 4500, Currency: "USD"}
	batch, err := p.CreatePayout(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.CreatePayout(ctx, in)
	if err != nil || again != batch || len(srv.Payouts()) != 1 {
		t.Fatalf("retry: %s %v, %d batches", again, err, len(srv.Payouts()))
	}
	got := srv.Payouts()[0]
	if got.Receiver != "seller@example.com" || got.Value != "45.00" || got.Currency != "USD" || got.SenderItemID != "w-1" {
		t.Fatalf("batch %+v", got)
	}
	item, err := p.PayoutItemOf(ctx, batch)
	if err != nil || item.Status != "PENDING" || item.WithdrawalID != "w-1" || item.Amount != 4500 {
		t.Fatalf("pending item %+v %v", item, err)
	}
	if err := srv.SetPayoutStatus(batch, "FAILED", "RECEIVER_UNREGISTERED"); err != nil {
		t.Fatal(err)
	}
	item, err = p.PayoutItemOf(ctx, batch)
	if err != nil || item.Status != "FAILED" || item.Failure == "" {
		t.Fatalf("failed item %+v %v", item, err)
	}
	h, body, err := srv.PayoutEvent("", batch, "FAILED")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := p.VerifyWebhook(ctx, PayPalWebhookHeadersFrom(h.Get), body)
	if err != nil || ev.Type != "PAYMENT.PAYOUTS-ITEM.FAILED" || ev.PayoutItem == nil || ev.PayoutItem.WithdrawalID != "w-1" ||
		ev.PayoutItem.Receiver != "seller@example.com" || ev.PayoutItem.Amount != 4500 || ev.PayoutItem.Status != "FAILED" {
		t.Fatalf("event %+v %v", ev, err)
	}
	// An amount PayPal will not take is refused for good.
	_, err = p.CreatePayout(ctx, PayPalPayoutRequest{WithdrawalID: "w-2", Email: "x@example.com", Amount: 0, Currency: "USD"})
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("a zero payout: %v, want ErrRefused", err)
	}
}
