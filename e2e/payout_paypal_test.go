package e2e

import (
	"sync"
	"testing"
	"time"

	"github.com/gigstream/hub/payments/paypaltest"
)

// TestPayPalPayouts runs a seller paid through PayPal Payouts over the built binary
// and the local PayPal API: the e-mail chosen behind the step-up, a withdrawal as one
// payout batch, its SUCCEEDED webhook applied once however often it arrives, another
// one FAILED at PayPal with no webhook at all, found by the settlement job's poll and
// returned to available once (the late webhook changes nothing), and the ledger exact.
func TestPayPalPayouts(t *testing.T) {
	pp := paypaltest.New(t)
	o := startOrderNode(t, map[string]string{
		"PAYPAL_API_BASE": pp.URL, "PAYPAL_CLIENT_ID": paypaltest.ClientID,
		"PAYPAL_CLIENT_SECRET": paypaltest.ClientSecret, "PAYPAL_WEBHOOK_ID": paypaltest.WebhookID,
		"SETTLEMENT_JOB_INTERVAL": "1s", "PAYPAL_PAYOUT_POLL_AFTER": "1s",
	}, true)
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	id := o.deliveredOrder(t)
	expect(t, buyer.do("POST", "/orders/"+id+"/accept", nil, key()...), 200, "accept")
	clearNow(t, o, id)
	earned := o.price - 450

	enrolTwoFactor(t, seller)
	expectField(t, seller.do("PUT", "/me/payout-method", map[string]string{"method": "paypal", "paypal_email": "not an email"}), 422, "paypal_email", "bad e-mail")
	var m apiPayoutMethod
	expect(t, seller.do("PUT", "/me/payout-method", map[string]string{"method": "paypal", "paypal_email": " Maya.Pays@Example.com "}), 200, "choose paypal").json(t, &m)
	if m.Method != "paypal" || m.PayPalEmail != "maya.pays@example.com" || !m.Ready {
		t.Fatalf("paypal chosen: %+v", m)
	}

	var paid, failed apiWithdrawal
	expect(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": 1500, "currency": "USD"}, key()...), 201, "withdraw").json(t, &paid)
	expect(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": 1000, "currency": "USD"}, key()...), 201, "withdraw").json(t, &failed)
	batches := pp.Payouts()
	if len(batches) != 2 || batches[0].Receiver != "maya.pays@example.com" || batches[0].Value != "15.00" || batches[0].SenderItemID != paid.ID {
		t.Fatalf("batches %+v", batches)
	}
	for _, w := range []apiWithdrawal{paid, failed} {
		if w.Status != "in_transit" || w.Provider != "paypal" || w.Destination != "maya.pays@example.com" || w.ProviderRef == "" {
			t.Fatalf("withdrawal %+v", w)
		}
	}

	// SUCCEEDED arrives several times at once, under one event id and another: once.
	if err := pp.SetPayoutStatus(paid.ProviderRef, "SUCCESS", ""); err != nil {
		t.Fatal(err)
	}
	h, body, err := pp.PayoutEvent("", paid.ProviderRef, "SUCCEEDED")
	if err != nil {
		t.Fatal(err)
	}
	h2, body2, err := pp.PayoutEvent("", paid.ProviderRef, "SUCCEEDED")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hh, bb := h, body
			if i == 5 {
				hh, bb = h2, body2
			}
			if code, err := sendPayPalWebhook(o.n, hh, bb); err != nil || code != 200 {
				t.Errorf("payout webhook: %d %v", code, err)
			}
		}()
	}
	wg.Wait()

	// FAILED at PayPal and no webhook: the poll finds it.
	if err := pp.SetPayoutStatus(failed.ProviderRef, "FAILED", "RECEIVER_UNREGISTERED"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for balanceOf(t, seller, "USD").Withdrawing != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the failed payout was never polled: %+v", balanceOf(t, seller, "USD"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	h, body, err = pp.PayoutEvent("", failed.ProviderRef, "FAILED")
	if err != nil {
		t.Fatal(err)
	}
	if code, err := sendPayPalWebhook(o.n, h, body); err != nil || code != 200 {
		t.Fatalf("late FAILED webhook: %d %v", code, err)
	}

	var list struct{ Withdrawals []apiWithdrawal }
	expect(t, seller.do("GET", "/me/withdrawals", nil), 200, "list").json(t, &list)
	got := map[string]apiWithdrawal{}
	for _, w := range list.Withdrawals {
		got[w.ID] = w
	}
	if got[paid.ID].Status != "paid" || got[failed.ID].Status != "failed" || got[failed.ID].Failure == nil {
		t.Fatalf("after PayPal: %+v %+v", got[paid.ID], got[failed.ID])
	}
	if b := balanceOf(t, seller, "USD"); b.Available != earned-1500 || b.Withdrawing != 0 || b.Withdrawn != 1500 {
		t.Fatalf("balance %+v", b)
	}
	if n := o.accountBalance(t, "external:paypal"); n != 1500 {
		t.Fatalf("external:paypal %d, want 1500", n)
	}
	if n := o.sqlInt64(t, `SELECT count(*) FROM ledger_transactions WHERE kind IN ('withdrawal_paid', 'withdrawal_returned')`); n != 2 {
		t.Fatalf("%d payout endings posted, want 2", n)
	}
	o.assertLedgerConserved(t)
}
