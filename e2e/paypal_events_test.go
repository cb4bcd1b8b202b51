package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gigstream/hub/payments/paypaltest"
)

// TestPayPalCaptureEventsThroughTheBinary runs every PayPal capture event GigStream
// acts on over the built binary and the local PayPal API, each signed, each applied
// once: a capture PayPal holds PENDING answers 409 and the order is paid by
// PAYMENT.CAPTURE.COMPLETED later; another PENDING capture PayPal denies
// (PAYMENT.CAPTURE.DENIED) leaves the order placed with its payment failed;
// PAYMENT.CAPTURE.REFUNDED made in PayPal's dashboard settles an order in escrow
// (cancelled, the refund back, the rest to the seller); PAYMENT.CAPTURE.REVERSED
// (a chargeback PayPal decided for the buyer) takes the whole payment back. The
// ledger stays exact.
func TestPayPalCaptureEventsThroughTheBinary(t *testing.T) {
	o, pp := startPayPalNode(t)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	send := func(h http.Header, body []byte, err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // PayPal retries; the second delivery changes nothing
			if code, err := sendPayPalWebhook(o.n, h, body); err != nil || code != 200 {
				t.Fatalf("%s: %d %v", what, code, err)
			}
		}
	}
	paypalNet := func(id string) int64 {
		return o.sqlInt64(t, `SELECT COALESCE(sum(p.amount_minor), 0) FROM ledger_postings p JOIN ledger_transactions x ON x.id = p.transaction_id
			WHERE x.order_id = $1 AND p.account = 'external:paypal'`, id)
	}

	// PENDING, then COMPLETED by webhook.
	pp.SetCaptureStatus("PENDING")
	held := o.approvedPayPalOrder(t, pp)
	expect(t, buyer.do("POST", "/orders/"+held.ID+"/paypal/capture", nil), 409, "capture held PENDING by PayPal")
	if s := o.orderOf(t, held.ID).Status; s != "placed" {
		t.Fatalf("order with a pending capture is %s", s)
	}
	h, body, err := pp.CaptureEvent("", held.Payment.PayPalOrderID)
	send(h, body, err, "PAYMENT.CAPTURE.COMPLETED after review")
	o.assertFundedOnce(t, held.ID)

	// PENDING, then DENIED.
	denied := o.approvedPayPalOrder(t, pp)
	expect(t, buyer.do("POST", "/orders/"+denied.ID+"/paypal/capture", nil), 409, "capture held PENDING by PayPal")
	pp.SetCaptureStatus("")
	h, body, err = pp.DeniedEvent(denied.Payment.PayPalOrderID)
	send(h, body, err, "PAYMENT.CAPTURE.DENIED")
	var got paypalOrder
	expect(t, buyer.do("GET", "/orders/"+denied.ID, nil), 200, "denied order").json(t, &got)
	if got.Status != "placed" || got.Payment.Status != "failed" {
		t.Fatalf("order after PAYMENT.CAPTURE.DENIED: %+v; want placed with its payment failed", got)
	}
	if n := paypalNet(denied.ID); n != 0 {
		t.Fatalf("external:paypal moved %d for a denied capture", n)
	}

	// Refunded in PayPal's dashboard: 10.00 of an order in escrow.
	refunded := o.approvedPayPalOrder(t, pp)
	expect(t, buyer.do("POST", "/orders/"+refunded.ID+"/paypal/capture", nil), 200, "capture")
	h, body, err = pp.ProviderRefundEvent(refunded.Payment.PayPalOrderID, "PAYMENT.CAPTURE.REFUNDED", "10.00")
	send(h, body, err, "PAYMENT.CAPTURE.REFUNDED from the dashboard")
	if ord := o.orderOf(t, refunded.ID); ord.Status != "cancelled" || ord.Refunded != 1000 {
		t.Fatalf("order after a dashboard refund: %+v; want cancelled with 1000 refunded", ord)
	}
	if e := o.accountBalance(t, "escrow:order:"+refunded.ID); e != 0 {
		t.Fatalf("escrow %d after the order settled", e)
	}
	if n := paypalNet(refunded.ID); n != -(o.price - 1000) {
		t.Fatalf("external:paypal nets %d, want %d", n, -(o.price - 1000))
	}

	// Reversed: the whole payment taken back by a chargeback PayPal decided.
	reversed := o.approvedPayPalOrder(t, pp)
	expect(t, buyer.do("POST", "/orders/"+reversed.ID+"/paypal/capture", nil), 200, "capture")
	h, body, err = pp.ProviderRefundEvent(reversed.Payment.PayPalOrderID, "PAYMENT.CAPTURE.REVERSED", "45.00")
	send(h, body, err, "PAYMENT.CAPTURE.REVERSED")
	if ord := o.orderOf(t, reversed.ID); ord.Status != "cancelled" || ord.Refunded != o.price {
		t.Fatalf("order after a reversal: %+v; want cancelled with everything refunded", ord)
	}
	if n := paypalNet(reversed.ID); n != 0 {
		t.Fatalf("external:paypal nets %d after a reversal of everything, want 0", n)
	}
	if n := o.sqlInt64(t, `SELECT count(*) FROM payment_reversals WHERE order_id = $1 AND kind = 'chargeback' AND status = 'lost'`, reversed.ID); n != 1 {
		t.Fatalf("%d lost chargebacks recorded for the reversed order, want 1", n)
	}
	o.assertLedgerConserved(t)
}

// TestPayPalPayoutItemEvents: PAYMENT.PAYOUTS-ITEM.UNCLAIMED (the e-mail has no
// PayPal account yet) is recorded for admins and leaves the withdrawal in transit;
// RETURNED (unclaimed for 30 days) then fails it and the money is available again;
// BLOCKED fails another at once. Two more are paid (SUCCEEDED) and later taken back
// by PayPal (REVERSED) and by the receiver (REFUNDED): each money comes back to
// available with PayPal's reason, announced on user:{id}. Each is applied once.
func TestPayPalPayoutItemEvents(t *testing.T) {
	pp := paypaltest.New(t)
	o := startOrderNode(t, map[string]string{
		"PAYPAL_API_BASE": pp.URL, "PAYPAL_CLIENT_ID": paypaltest.ClientID,
		"PAYPAL_CLIENT_SECRET": paypaltest.ClientSecret, "PAYPAL_WEBHOOK_ID": paypaltest.WebhookID,
		"SETTLEMENT_JOB_INTERVAL": "1s",
	}, true)
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	admin := &client{t: t, base: o.n.URL, bearer: o.adminToken(t)}
	id := o.deliveredOrder(t)
	expect(t, buyer.do("POST", "/orders/"+id+"/accept", nil, key()...), 200, "accept")
	clearNow(t, o, id)
	earned := balanceOf(t, seller, "USD").Available
	enrolTwoFactor(t, seller)
	expect(t, seller.do("PUT", "/me/payout-method", map[string]string{"method": "paypal", "paypal_email": "new.to.paypal@example.com"}), 200, "choose paypal")
	var unclaimed, blocked, reversed, refunded apiWithdrawal
	expect(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": 1500, "currency": "USD"}, key()...), 201, "withdraw").json(t, &unclaimed)
	expect(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": 1000, "currency": "USD"}, key()...), 201, "withdraw").json(t, &blocked)
	expect(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": 700, "currency": "USD"}, key()...), 201, "withdraw").json(t, &reversed)
	expect(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": 300, "currency": "USD"}, key()...), 201, "withdraw").json(t, &refunded)
	event := func(w apiWithdrawal, status, kind string) {
		t.Helper()
		if err := pp.SetPayoutStatus(w.ProviderRef, status, ""); err != nil {
			t.Fatal(err)
		}
		h, body, err := pp.PayoutEvent("", w.ProviderRef, kind)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if code, err := sendPayPalWebhook(o.n, h, body); err != nil || code != 200 {
				t.Fatalf("%s: %d %v", kind, code, err)
			}
		}
	}

	event(unclaimed, "UNCLAIMED", "UNCLAIMED")
	if b := balanceOf(t, seller, "USD"); b.Withdrawing != 3500 || b.Available != earned-3500 {
		t.Fatalf("balance after UNCLAIMED: %+v; both withdrawals still in transit", b)
	}
	var list struct {
		Events []struct {
			Type      string
			ObjectRef string `json:"object_ref"`
		}
	}
	expect(t, admin.do("GET", "/admin/provider-events?outcome=payout_pending", nil), 200, "pending payout events").json(t, &list)
	if len(list.Events) != 1 || list.Events[0].Type != "PAYMENT.PAYOUTS-ITEM.UNCLAIMED" {
		t.Fatalf("pending payout events: %+v", list.Events)
	}
	expect(t, admin.do("GET", "/admin/provider-events", nil), 200, "unhandled events").json(t, &list)
	for _, e := range list.Events {
		if e.Type == "PAYMENT.PAYOUTS-ITEM.UNCLAIMED" {
			t.Fatalf("UNCLAIMED listed as unhandled: %+v", e)
		}
	}

	event(unclaimed, "RETURNED", "RETURNED")
	event(blocked, "BLOCKED", "BLOCKED")
	var ws struct{ Withdrawals []apiWithdrawal }
	expect(t, seller.do("GET", "/me/withdrawals", nil), 200, "list").json(t, &ws)
	for _, w := range ws.Withdrawals {
		if (w.ID == unclaimed.ID || w.ID == blocked.ID) && (w.Status != "failed" || w.Failure == nil) {
			t.Fatalf("withdrawal after RETURNED/BLOCKED: %+v", w)
		}
	}
	if b := balanceOf(t, seller, "USD"); b.Withdrawing != 1000 || b.Available != earned-1000 || b.Withdrawn != 0 {
		t.Fatalf("balance after RETURNED and BLOCKED: %+v; want all but the two in transit available (%d)", b, earned-1000)
	}

	// Paid, then taken back after success.
	sock := mustDial(t, o.n, o.seller)
	sock.subscribe("user:"+o.sellerID, nil)
	event(reversed, "SUCCESS", "SUCCEEDED")
	event(refunded, "SUCCESS", "SUCCEEDED")
	if b := balanceOf(t, seller, "USD"); b.Withdrawing != 0 || b.Withdrawn != 1000 || b.Available != earned-1000 {
		t.Fatalf("balance after SUCCEEDED: %+v; want 1000 withdrawn", b)
	}
	event(reversed, "REVERSED", "REVERSED")
	event(refunded, "REFUNDED", "REFUNDED")
	expect(t, seller.do("GET", "/me/withdrawals", nil), 200, "list").json(t, &ws)
	for _, w := range ws.Withdrawals {
		if (w.ID == reversed.ID || w.ID == refunded.ID) && (w.Status != "failed" || w.Failure == nil || !strings.HasPrefix(*w.Failure, "PayPal: RE")) {
			t.Fatalf("withdrawal paid and then taken back by PayPal: %+v; want failed with PayPal's reason", w)
		}
	}
	if b := balanceOf(t, seller, "USD"); b.Withdrawing != 0 || b.Available != earned || b.Withdrawn != 0 {
		t.Fatalf("balance after REVERSED and REFUNDED: %+v; want everything available (%d)", b, earned)
	}
	for range 2 {
		_, ok := sock.take(func(f frame) bool {
			return f.Op == "event" && f.Channel == "user:"+o.sellerID && f.Type == "balance.updated" && strings.Contains(string(f.Data), `"withdrawal_reversed"`)
		}, 10*time.Second)
		if !ok {
			t.Fatal("no balance.updated (withdrawal_reversed) on the seller's channel for each payout taken back")
		}
	}
	if n := o.sqlInt64(t, `SELECT count(*) FROM ledger_transactions WHERE kind = 'withdrawal_returned'`); n != 4 {
		t.Fatalf("%d withdrawals returned in the ledger, want 4 (2 failed, 2 taken back after they were paid)", n)
	}
	if n := o.accountBalance(t, "external:paypal"); n != 0 {
		t.Fatalf("external:paypal is %d after every payout came back, want 0", n)
	}
	o.assertLedgerConserved(t)
}
