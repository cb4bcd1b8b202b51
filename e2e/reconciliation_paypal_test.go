package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gigstream/hub/payments/paypaltest"
)

// A change made only at PayPal is reported: reconciliation reads each PayPal order
// (its captures and refunds) and each payout batch (its item) from the local PayPal
// API and compares them with the ledger. A refund made in PayPal's dashboard whose
// webhook never came, a capture whose webhook never came (and whose capture call's
// answer was lost), and a payout PayPal returned without a webhook all show as open
// PayPal differences (API and /metrics); once the missed webhooks arrive the next run
// resolves them. Without ?provider= a run reconciles both providers.
func TestReconciliationReportsWhatChangedOnlyAtPayPal(t *testing.T) {
	pp := paypaltest.New(t)
	o := startOrderNode(t, map[string]string{
		"PAYPAL_API_BASE": pp.URL, "PAYPAL_CLIENT_ID": paypaltest.ClientID,
		"PAYPAL_CLIENT_SECRET": paypaltest.ClientSecret, "PAYPAL_WEBHOOK_ID": paypaltest.WebhookID,
		"RECONCILE_INTERVAL": "0", "LEDGER_CHECK_INTERVAL": "10s", "SETTLEMENT_JOB_INTERVAL": "1s",
	}, true)
	admin := &client{t: t, base: o.n.URL, bearer: o.adminToken(t)}
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	send := func(h http.Header, body []byte, err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if code, err := sendPayPalWebhook(o.n, h, body); err != nil || code != 200 {
			t.Fatalf("%s: %d %v", what, code, err)
		}
	}

	// A PayPal order captured through the API, and a PayPal withdrawal in transit.
	paid := o.approvedPayPalOrder(t, pp)
	expect(t, buyer.do("POST", "/orders/"+paid.ID+"/paypal/capture", nil), 200, "capture")
	var shown paypalOrder
	expect(t, buyer.do("GET", "/orders/"+paid.ID, nil), 200, "paid order").json(t, &shown)
	total := shown.Payment.AmountMinor
	id := o.deliveredOrder(t)
	expect(t, buyer.do("POST", "/orders/"+id+"/accept", nil, key()...), 200, "accept")
	clearNow(t, o, id)
	enrolTwoFactor(t, seller)
	expect(t, seller.do("PUT", "/me/payout-method", map[string]string{"method": "paypal", "paypal_email": "maya.pays@example.com"}), 200, "choose paypal")
	var w apiWithdrawal
	expect(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": 1500, "currency": "USD"}, key()...), 201, "withdraw").json(t, &w)
	if w.Status != "in_transit" || w.Provider != "paypal" || w.ProviderRef == "" {
		t.Fatalf("withdrawal %+v", w)
	}
	// A placed PayPal order nobody approved: nothing at PayPal, nothing in the ledger.
	r, _ := o.placePayPal(t, uuid.NewString())
	expect(t, r, 201, "place an unpaid PayPal order")
	first := runReconciliation(t, admin, "paypal", "first run")
	if len(first.Differences) != 0 || first.Compared != 3 || first.ProviderLines != 2 || total <= 1000 {
		t.Fatalf("first run: %+v (total %d); want 3 objects compared (2 PayPal orders, 1 payout), 2 lines, no difference", first, total)
	}

	// At PayPal only: a dashboard refund of 10.00, a capture we never hear of, and
	// the payout returned. No webhook arrives.
	refundHeader, refundBody, refundErr := pp.ProviderRefundEvent(paid.Payment.PayPalOrderID, "PAYMENT.CAPTURE.REFUNDED", "10.00")
	if refundErr != nil {
		t.Fatal(refundErr)
	}
	lost := o.approvedPayPalOrder(t, pp)
	if _, err := pp.CaptureNow(lost.Payment.PayPalOrderID); err != nil {
		t.Fatal(err)
	}
	if err := pp.SetPayoutStatus(w.ProviderRef, "RETURNED", ""); err != nil {
		t.Fatal(err)
	}
	got := runReconciliation(t, admin, "paypal", "run after the PayPal-side changes")
	byRef := map[string]apiReconcileDifference{}
	for _, d := range got.Differences {
		byRef[d.ObjectRef] = d
	}
	if d, ok := byRef[paid.Payment.PayPalOrderID]; !ok || d.Kind != "payment" || d.OursMinor != total || d.TheirsMinor != total-1000 ||
		d.OrderID == nil || *d.OrderID != paid.ID || d.Currency != "USD" {
		t.Fatalf("dashboard refund not reported as a difference of order %s: %+v", paid.ID, got.Differences)
	}
	if d, ok := byRef[lost.Payment.PayPalOrderID]; !ok || d.OursMinor != 0 || d.TheirsMinor != total || d.OrderID == nil || *d.OrderID != lost.ID {
		t.Fatalf("capture without its webhook not reported: %+v", got.Differences)
	}
	if d, ok := byRef[w.ProviderRef]; !ok || d.Kind != "payout" || d.OursMinor != 1500 || d.TheirsMinor != 0 ||
		d.WithdrawalID == nil || *d.WithdrawalID != w.ID {
		t.Fatalf("returned payout not reported: %+v", got.Differences)
	}
	if len(got.Differences) != 3 {
		t.Fatalf("%d differences, want 3: %+v", len(got.Differences), got.Differences)
	}
	var list struct{ Differences []apiReconcileDifference }
	expect(t, admin.do("GET", "/admin/reconciliation/differences", nil), 200, "open differences").json(t, &list)
	if len(list.Differences) != 3 {
		t.Fatalf("open differences: %+v", list.Differences)
	}
	expectField(t, admin.do("POST", "/admin/reconciliation/runs?provider=adyen", nil), 422, "provider", "unknown provider")
	expect(t, buyer.do("POST", "/admin/reconciliation/runs?provider=paypal", nil), 404, "a run as a buyer")

	series := `gigstream_reconciliation_drift_minor{currency="USD",provider="paypal"}`
	want := float64(1000 + total + 1500)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := get(t, o.n.URL+"/metrics")
		v, found := metricValue(string(body), series)
		if found && v == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v (found %v), want %v", series, v, found, want)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// The missed webhooks arrive: the ledger agrees again and the next run resolves all three.
	send(refundHeader, refundBody, nil, "the late PAYMENT.CAPTURE.REFUNDED")
	h, body, err := pp.CaptureEvent("", lost.Payment.PayPalOrderID)
	send(h, body, err, "the late PAYMENT.CAPTURE.COMPLETED")
	h, body, err = pp.PayoutEvent("", w.ProviderRef, "RETURNED")
	send(h, body, err, "the late PAYMENT.PAYOUTS-ITEM.RETURNED")
	if got := runReconciliation(t, admin, "paypal", "run after the late webhooks"); len(got.Differences) != 0 || got.Resolved != 3 {
		t.Fatalf("after the late webhooks: %+v, want no difference and 3 resolved", got)
	}
	var all struct{ Runs []apiReconciliationRun }
	expect(t, admin.do("POST", "/admin/reconciliation/runs", nil), 200, "run every provider").json(t, &all)
	if len(all.Runs) != 2 || all.Runs[0].Provider != "stripe" || all.Runs[1].Provider != "paypal" {
		t.Fatalf("runs of every provider: %+v", all.Runs)
	}
	if b := balanceOf(t, seller, "USD"); b.Withdrawing != 0 || b.Withdrawn != 0 {
		t.Fatalf("seller's balance after the returned payout: %+v", b)
	}
	o.assertLedgerConserved(t)
}
