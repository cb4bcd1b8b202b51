package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// disputeWebhook is a Stripe charge.dispute.* event about the order's PaymentIntent.
func disputeWebhook(eventType, disputeID, status string, ord apiOrder, amount int64) []byte {
	return fmt.Appendf(nil, `{"id":%q,"object":"event","type":%q,"api_version":"2025-03-31.basil","created":%d,
 "data":{"object":{"id":%q,"object":"dispute","amount":%d,"currency":"usd","status":%q,"reason":"fraudulent",
 "charge":"ch_%s","payment_intent":%q}}}`, "evt_"+uuid.NewString(), eventType, time.Now().Unix(), disputeID, amount, status,
		strings.ReplaceAll(disputeID, "dp_", ""), ord.Payment.PaymentIntentID)
}

// chargeRefundedWebhook is Stripe's charge.refunded: refunded is everything refunded
// of the charge so far.
func chargeRefundedWebhook(ord apiOrder, refunded int64) []byte {
	return fmt.Appendf(nil, `{"id":%q,"object":"event","type":"charge.refunded","api_version":"2025-03-31.basil","created":%d,
 "data":{"object":{"id":"ch_%s","object":"charge","amount":4500,"amount_refunded":%d,"currency":"usd","refunded":true,
 "payment_intent":%q}}}`, "evt_"+uuid.NewString(), time.Now().Unix(), strings.ReplaceAll(ord.ID, "-", ""), refunded, ord.Payment.PaymentIntentID)
}

// signedStripe sends a Stripe webhook signed as Stripe would and expects 200.
func (o *orderNode) signedStripe(t *testing.T, body []byte, what string) {
	t.Helper()
	expect(t, o.sendWebhook(t, body, stripeSignature(body, webhookSecret, time.Now())), 200, what)
}

// orderOf reads an order as its buyer.
func (o *orderNode) orderOf(t *testing.T, id string) apiOrder {
	t.Helper()
	var ord apiOrder
	expect(t, (&client{t: t, base: o.n.URL, bearer: o.buyer}).do("GET", "/orders/"+id, nil), 200, "order").json(t, &ord)
	return ord
}

// TestChargebacksThroughTheBinary: a chargeback on an order in escrow freezes it (the
// buyer cannot accept) until Stripe decides; won, the money returns to escrow and the
// order settles as usual. A chargeback on an order whose seller was paid takes from
// pending, then available, then the seller's debt account, which the seller's next
// earnings repay as they clear; lost, nothing more moves. Every step is signed,
// duplicates change nothing, and the ledger stays exact with the debt accounts in
// bounds.
func TestChargebacksThroughTheBinary(t *testing.T) {
	o := startOrderNode(t, map[string]string{"SETTLEMENT_JOB_INTERVAL": "1s"}, true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	key := func() []string { return []string{"Idempotency-Key", uuid.NewString()} }
	escrow := func(id string) int64 { return o.accountBalance(t, "escrow:order:"+id) }

	// 1. In escrow: frozen, then won.
	id := o.deliveredOrder(t)
	ord := o.orderOf(t, id)
	first := "dp_" + uuid.NewString()[:8]
	created := disputeWebhook("charge.dispute.created", first, "needs_response", ord, o.price)
	o.signedStripe(t, created, "dispute created")
	o.signedStripe(t, created, "the same event again")
	if e := escrow(id); e != 0 {
		t.Fatalf("escrow %d after the chargeback opened, want 0 (Stripe holds the money)", e)
	}
	expect(t, buyer.do("POST", "/orders/"+id+"/accept", nil, key()...), 409, "accept while the chargeback is open")
	won := disputeWebhook("charge.dispute.closed", first, "won", ord, o.price)
	o.signedStripe(t, won, "dispute won")
	if e := escrow(id); e != o.price {
		t.Fatalf("escrow %d after the chargeback was won, want %d", e, o.price)
	}
	expect(t, buyer.do("POST", "/orders/"+id+"/accept", nil, key()...), 200, "accept after the chargeback was won")
	o.assertLedgerConserved(t)

	// 2. The seller was paid: the order's earnings cleared to available, then a
	// chargeback of the whole price. Available covers the seller's share only in part
	// once the seller withdrew some; the rest becomes debt, the platform's fee a loss.
	done := o.orderOf(t, id)
	clearNow(t, o, id)
	seller := o.sellerID
	available := o.accountBalance(t, "seller:"+seller+":available")
	if available <= 0 {
		t.Fatalf("available %d after clearing", available)
	}
	// Move most of it away so the chargeback runs into debt (a direct posting stands in
	// for a withdrawal paid out; the withdrawal flows have their own tests).
	o.sqlInt64(t, `WITH t AS (INSERT INTO ledger_transactions (kind, reference) VALUES ('withdrawal', 'e2e-spent-'||gen_random_uuid()) RETURNING id),
		p AS (INSERT INTO ledger_postings (transaction_id, account, amount_minor, currency)
			SELECT id, a, v, 'USD' FROM t, (VALUES ($1::text, -($2::bigint)), ('external:stripe', $2::bigint)) x(a, v) RETURNING 1)
		SELECT count(*) FROM p`, "seller:"+seller+":available", available-100)
	lost := "dp_" + uuid.NewString()[:8]
	o.signedStripe(t, disputeWebhook("charge.dispute.created", lost, "needs_response", ord, o.price), "chargeback on a paid-out order")
	debt := o.accountBalance(t, "seller:"+seller+":debt")
	if got := o.accountBalance(t, "seller:"+seller+":available"); got != 0 || debt != -(done.Seller-100) {
		t.Fatalf("available %d, debt %d; want 0 and %d", got, debt, -(done.Seller - 100))
	}
	if loss := o.accountBalance(t, "platform:losses"); loss != -(o.price - done.Seller) {
		t.Fatalf("platform:losses %d, want %d (the fee)", loss, -(o.price - done.Seller))
	}
	o.signedStripe(t, disputeWebhook("charge.dispute.updated", lost, "under_review", ord, o.price), "dispute updated")
	o.signedStripe(t, disputeWebhook("charge.dispute.closed", lost, "lost", ord, o.price), "dispute lost")
	if got := o.accountBalance(t, "seller:"+seller+":debt"); got != debt {
		t.Fatalf("debt %d after the loss, want %d (nothing more moves)", got, debt)
	}
	o.assertLedgerConserved(t)

	// 3. The seller's next earnings repay the debt first as they clear.
	next := o.deliveredOrder(t)
	expect(t, buyer.do("POST", "/orders/"+next+"/accept", nil, key()...), 200, "accept the next order")
	earned := o.orderOf(t, next).Seller
	clearNow(t, o, next)
	repaid := min(earned, -debt)
	if got := o.accountBalance(t, "seller:"+seller+":debt"); got != debt+repaid {
		t.Fatalf("debt %d after clearing %d, want %d", got, earned, debt+repaid)
	}
	if got := o.accountBalance(t, "seller:"+seller+":available"); got != earned-repaid {
		t.Fatalf("available %d after clearing, want %d", got, earned-repaid)
	}
	// The debt keeps the seller's account from being deleted while it is owed.
	if debt+repaid < 0 {
		sc := &client{t: t, base: o.n.URL, bearer: o.seller}
		expectField(t, sc.do("DELETE", "/me", map[string]string{"password": demoPassword}), 409, "debt", "delete while in debt")
	}
	o.assertLedgerConserved(t)
	var audit struct{ OK bool }
	admin := &client{t: t, base: o.n.URL, bearer: o.adminToken(t)}
	expect(t, admin.do("GET", "/admin/ledger/check", nil), 200, "ledger check").json(t, &audit)
	if !audit.OK {
		t.Fatal("the ledger check is not OK with the debt accounts below zero")
	}
}

// TestProviderSideRefundsCancelsAndUnhandledEvents: a refund made in Stripe's
// dashboard settles an order in escrow (cancelled, the refund back, the rest to the
// seller); the charge.refunded that follows our own refund changes nothing; a
// PaymentIntent cancelled at Stripe cancels its placed order; an event type GigStream
// does not act on is stored once and listed for admins, and only for admins.
func TestProviderSideRefundsCancelsAndUnhandledEvents(t *testing.T) {
	o := startOrderNode(t, nil, true)
	admin := &client{t: t, base: o.n.URL, bearer: o.adminToken(t)}
	key := func() []string { return []string{"Idempotency-Key", uuid.NewString()} }

	// A dashboard refund of 1500 on a paid order.
	id := o.paidOrder(t)
	ord := o.orderOf(t, id)
	o.signedStripe(t, chargeRefundedWebhook(ord, 1500), "charge.refunded from the dashboard")
	o.signedStripe(t, chargeRefundedWebhook(ord, 1500), "the same cumulative amount again (a new event id)")
	got := o.orderOf(t, id)
	if got.Status != "cancelled" || got.Refunded != 1500 {
		t.Fatalf("order after a dashboard refund: %+v", got)
	}
	if e := o.accountBalance(t, "escrow:order:"+id); e != 0 {
		t.Fatalf("escrow %d after the order settled", e)
	}

	// Our own refund, then Stripe's charge.refunded about it: nothing more.
	own := o.paidOrder(t)
	ownOrd := o.orderOf(t, own)
	expect(t, admin.do("POST", "/orders/"+own+"/refund", map[string]any{"amount_minor": o.price, "reason": "the seller never started"}, key()...), 200, "admin refund")
	before := o.accountBalance(t, "external:stripe")
	o.signedStripe(t, chargeRefundedWebhook(ownOrd, o.price), "charge.refunded of our own refund")
	if after := o.accountBalance(t, "external:stripe"); after != before {
		t.Fatalf("external:stripe moved %d on our own refund's event", after-before)
	}

	// A PaymentIntent cancelled at Stripe cancels its placed order.
	r, placed := o.placeOrder(t, uuid.NewString())
	expect(t, r, 201, "place")
	body := paymentWebhook("evt_"+uuid.NewString(), "payment_intent.canceled", placed, o.price, o.currency)
	o.signedStripe(t, body, "payment_intent.canceled")
	if s := o.orderOf(t, placed.ID).Status; s != "cancelled" {
		t.Fatalf("placed order after payment_intent.canceled is %s", s)
	}

	// An event type nobody handles is stored once and listed for admins.
	evID := "evt_" + uuid.NewString()
	odd := fmt.Appendf(nil, `{"id":%q,"object":"event","type":"radar.early_fraud_warning.created","created":%d,
 "data":{"object":{"id":"issfr_123","object":"radar.early_fraud_warning"}}}`, evID, time.Now().Unix())
	o.signedStripe(t, odd, "unhandled event")
	o.signedStripe(t, odd, "unhandled event again")
	var list struct {
		Events []struct {
			EventID   string `json:"event_id"`
			Type      string
			ObjectRef string `json:"object_ref"`
			Outcome   string
		}
	}
	expect(t, admin.do("GET", "/admin/provider-events", nil), 200, "unhandled events").json(t, &list)
	n := 0
	for _, e := range list.Events {
		if e.EventID == evID {
			n++
			if e.Type != "radar.early_fraud_warning.created" || e.ObjectRef != "issfr_123" || e.Outcome != "unhandled" {
				t.Fatalf("stored event %+v", e)
			}
		}
	}
	if n != 1 {
		t.Fatalf("the unhandled event is listed %d times, want once: %+v", n, list.Events)
	}
	expect(t, (&client{t: t, base: o.n.URL, bearer: o.buyer}).do("GET", "/admin/provider-events", nil), 404, "not an admin")
	expectField(t, admin.do("GET", "/admin/provider-events?outcome=Nope!", nil), 422, "outcome", "bad outcome")
	o.assertLedgerConserved(t)
}
