package e2e

import (
	"testing"

	"github.com/google/uuid"
)

// TestAdminPaysBackARefundOwedThroughTheBinary: the buyer cancels a placed order, then
// their bank charges it and charges it back, and the chargeback is won before the
// payment's own event arrives: Stripe refuses refunds of a charged-back charge, so the
// platform owes the buyer the payment (platform:refunds_owed). An admin lists it, pays
// it back outside Stripe in two parts and records each: only admins see or record
// anything, bad input is a problem naming the field, a retry under the key replays,
// nothing is paid beyond what is owed, and the ledger stays exact.
func TestAdminPaysBackARefundOwedThroughTheBinary(t *testing.T) {
	o := startOrderNode(t, nil, true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	key := func() []string { return []string{"Idempotency-Key", uuid.NewString()} }
	r, ord := o.placeOrder(t, uuid.NewString())
	expect(t, r, 201, "place order")
	expect(t, buyer.do("POST", "/orders/"+ord.ID+"/cancel", nil, key()...), 200, "the buyer cancels the placed order")
	dispute := "dp_" + uuid.NewString()[:8]
	o.signedStripe(t, disputeWebhook("charge.dispute.created", dispute, "needs_response", ord, o.price), "dispute created")
	o.signedStripe(t, disputeWebhook("charge.dispute.closed", dispute, "won", ord, o.price), "dispute won")
	o.pay(t, ord)
	if owed := o.accountBalance(t, "platform:refunds_owed"); owed != o.price {
		t.Fatalf("platform:refunds_owed holds %d, want the payment, %d", owed, o.price)
	}

	admin := &client{t: t, base: o.n.URL, bearer: o.adminToken(t)}
	expect(t, buyer.do("GET", "/admin/refunds-owed", nil), 404, "a buyer lists refunds owed")
	var page struct {
		RefundsOwed []struct {
			OrderID   string `json:"order_id"`
			OwedMinor int64  `json:"owed_minor"`
			PaidMinor int64  `json:"paid_minor"`
		} `json:"refunds_owed"`
		NextCursor *string `json:"next_cursor"`
	}
	expect(t, admin.do("GET", "/admin/refunds-owed", nil), 200, "the admin lists refunds owed").json(t, &page)
	if len(page.RefundsOwed) != 1 || page.RefundsOwed[0].OrderID != ord.ID || page.RefundsOwed[0].OwedMinor != o.price {
		t.Fatalf("refunds owed = %+v, want the order's %d", page.RefundsOwed, o.price)
	}

	path := "/admin/orders/" + ord.ID + "/refund-owed-payments"
	pay := func(amount int64, method, ref string) map[string]any {
		return map[string]any{"amount_minor": amount, "method": method, "reference": ref}
	}
	expect(t, buyer.do("POST", path, pay(1, "bank_transfer", "x"), key()...), 404, "a buyer records a payment")
	expect(t, admin.do("POST", path, pay(1, "bank_transfer", "x")), 400, "no Idempotency-Key")
	expectField(t, admin.do("POST", path, pay(o.price+1, "bank_transfer", "x"), key()...), 422, "amount_minor", "more than is owed")
	expectField(t, admin.do("POST", path, pay(1, "wire", "x"), key()...), 422, "method", "an unknown method")
	expectField(t, admin.do("POST", path, map[string]any{"amount_minor": 1, "method": "cheque"}, key()...), 422, "reference", "no reference")
	expect(t, admin.do("POST", "/admin/orders/"+uuid.NewString()+"/refund-owed-payments", pay(1, "cheque", "x"), key()...), 404, "an unknown order")

	first := key()
	var rec struct {
		ID          string `json:"id"`
		AmountMinor int64  `json:"amount_minor"`
	}
	expect(t, admin.do("POST", path, pay(o.price-100, "bank_transfer", "TRX-42"), first...), 201, "the first part").json(t, &rec)
	again := expect(t, admin.do("POST", path, pay(o.price-100, "bank_transfer", "TRX-42"), first...), 200, "its retry")
	var replay struct {
		ID string `json:"id"`
	}
	if again.json(t, &replay); replay.ID != rec.ID || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the retry answered %s (Idempotent-Replayed %q), want %s replayed", replay.ID, again.header.Get("Idempotent-Replayed"), rec.ID)
	}
	expectField(t, admin.do("POST", path, pay(50, "bank_transfer", "TRX-42"), first...), 422, "Idempotency-Key", "the key with another amount")
	expectField(t, admin.do("POST", path, pay(101, "cheque", "CHQ-1"), key()...), 422, "amount_minor", "more than is left")
	expect(t, admin.do("POST", path, pay(100, "cheque", "CHQ-1"), key()...), 201, "the rest")
	expect(t, admin.do("POST", path, pay(1, "cheque", "CHQ-2"), key()...), 409, "nothing is owed any more")

	if owed := o.accountBalance(t, "platform:refunds_owed"); owed != 0 {
		t.Errorf("platform:refunds_owed holds %d after paying it all back, want 0", owed)
	}
	if paid := o.accountBalance(t, "external:offline"); paid != o.price {
		t.Errorf("external:offline holds %d, want %d", paid, o.price)
	}
	expect(t, admin.do("GET", "/admin/refunds-owed", nil), 200, "the admin lists refunds owed again").json(t, &page)
	if len(page.RefundsOwed) != 0 {
		t.Errorf("refunds owed after paying it all back: %+v", page.RefundsOwed)
	}
	if n := o.sqlInt64(t, `SELECT count(*) FROM events WHERE type = 'refund_owed.paid' AND data->>'order_id' = $1`, ord.ID); n != 2 {
		t.Errorf("the buyer heard of %d payments, want 2", n)
	}
	o.assertLedgerConserved(t)
}
