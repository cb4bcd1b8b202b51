package payments

import (
	"context"
	"testing"
)

// sum adds the lines' amounts.
func sum(lines []PayPalLine) int64 {
	var n int64
	for _, l := range lines {
		n += l.Amount
	}
	return n
}

// OrderLines reads a PayPal order's money from the local PayPal API: nothing before
// the capture, the capture, then our refund and a dashboard refund as negative
// lines; an order PayPal does not know is no lines. PayoutLines reads a batch's item
// and its return.
func TestPayPalOrderAndPayoutLines(t *testing.T) {
	p, srv := newTestPayPal(t)
	ctx := context.Background()
	o, err := p.CreateOrder(ctx, PayPalOrderRequest{OrderID: "o-1", Amount: 4500, Currency: "USD", IdempotencyKey: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	if lines, err := p.OrderLines(ctx, o.ID); err != nil || len(lines) != 0 {
		t.Fatalf("uncaptured: %+v %v", lines, err)
	}
	_ = srv.Approve(o.ID)
	c, err := p.Capture(ctx, o.ID, "k2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.RefundCapture(ctx, PayPalRefundRequest{OrderID: "o-1", CaptureID: c.CaptureID, Amount: 500, Currency: "USD", IdempotencyKey: "k3"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := srv.ProviderRefundEvent(o.ID, "PAYMENT.CAPTURE.REFUNDED", "10.00"); err != nil {
		t.Fatal(err)
	}
	lines, err := p.OrderLines(ctx, o.ID)
	if err != nil || len(lines) != 3 || sum(lines) != 4500-500-1000 || lines[0].LineRef != c.CaptureID || lines[0].Amount != 4500 ||
		lines[0].Kind != LinePayment || lines[0].ObjectRef != o.ID || lines[0].Currency != "USD" || lines[0].Created.IsZero() {
		t.Fatalf("captured and refunded twice: %+v %v", lines, err)
	}
	if lines, err := p.OrderLines(ctx, "PP-NOBODY"); err != nil || len(lines) != 0 {
		t.Fatalf("unknown order: %+v %v", lines, err)
	}

	batch, err := p.CreatePayout(ctx, PayPalPayoutRequest{WithdrawalID: "w-1", Email: "s@example.com", Amount: 1500, Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	if lines, err := p.PayoutLines(ctx, batch); err != nil || len(lines) != 1 || sum(lines) != 1500 || lines[0].Kind != LinePayout {
		t.Fatalf("pending payout: %+v %v", lines, err)
	}
	_ = srv.SetPayoutStatus(batch, "UNCLAIMED", "")
	if lines, err := p.PayoutLines(ctx, batch); err != nil || sum(lines) != 1500 {
		t.Fatalf("unclaimed payout: %+v %v", lines, err)
	}
	_ = srv.SetPayoutStatus(batch, "RETURNED", "")
	if lines, err := p.PayoutLines(ctx, batch); err != nil || len(lines) != 2 || sum(lines) != 0 {
		t.Fatalf("returned payout: %+v %v", lines, err)
	}
	for status, final := range map[string]bool{"SUCCESS": true, "RETURNED": true, "BLOCKED": true, "FAILED": true,
		"UNCLAIMED": false, "PENDING": false, "ONHOLD": false} {
		if it := (PayPalPayoutItem{Status: status}); it.Final() != final || it.Returned() != (final && status != "SUCCESS") {
			t.Errorf("%s: final %v returned %v", status, it.Final(), it.Returned())
		}
	}
}
