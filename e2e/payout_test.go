package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// connectSecret is the Stripe Connect endpoint's signing secret the order nodes get;
// Connect events are signed with it, as Stripe would.
const connectSecret = "whsec_e2e_connect"

// apiPayoutMethod is GET /me/payout-method.
type apiPayoutMethod struct {
	Method           string
	StripeAccountID  string   `json:"stripe_account_id"`
	PayoutsEnabled   bool     `json:"stripe_payouts_enabled"`
	DetailsSubmitted bool     `json:"stripe_details_submitted"`
	Requirements     []string `json:"stripe_requirements"`
	PayPalEmail      string   `json:"paypal_email"`
	Ready            bool
	WithdrawableFrom *time.Time `json:"withdrawable_from"`
}

// apiWithdrawal is a withdrawal as the API shows it.
type apiWithdrawal struct {
	ID, Status, Currency string
	AmountMinor          int64   `json:"amount_minor"`
	Provider             string  `json:"provider"`
	Destination          string  `json:"destination"`
	ProviderRef          string  `json:"provider_ref"`
	Failure              *string `json:"failure"`
}

// expectRule checks a problem+json answer names rule.
func expectRule(t *testing.T, r response, want int, rule, what string) {
	t.Helper()
	expect(t, r, want, what)
	var p struct{ Rule string }
	r.json(t, &p)
	if p.Rule != rule {
		t.Fatalf("%s: rule %q, want %q: %s", what, p.Rule, rule, r.body)
	}
}

// accountUpdated is Stripe's account.updated Connect event.
func accountUpdated(account string, enabled bool, due []string, at time.Time) []byte {
	dueJSON, _ := json.Marshal(due)
	return fmt.Appendf(nil, `{"id":"evt_%s","object":"event","type":"account.updated","api_version":"2025-03-31.basil",
 "created":%d,"account":%q,"data":{"object":{"id":%q,"object":"account","type":"express","details_submitted":%t,
 "payouts_enabled":%t,"requirements":{"currently_due":%s,"past_due":[],"disabled_reason":null}}}}`,
		uuid.NewString(), at.Unix(), account, account, enabled, enabled, dueJSON)
}

// payoutEvent is Stripe's payout.paid or payout.failed Connect event for a
// withdrawal's payout (amount in Stripe's units).
func payoutEvent(eventID, typ string, w apiWithdrawal, amount int64, failure string) []byte {
	status, fail := "paid", "null"
	if typ == "payout.failed" {
		status, fail = "failed", fmt.Sprintf("%q", failure)
	}
	return fmt.Appendf(nil, `{"id":%q,"object":"event","type":%q,"api_version":"2025-03-31.basil","created":%d,"account":%q,
 "data":{"object":{"id":%q,"object":"payout","amount":%d,"currency":%q,"status":%q,"failure_code":"account_closed",
 "failure_message":%s,"metadata":{"withdrawal_id":%q}}}}`,
		eventID, typ, time.Now().Unix(), w.Destination, w.ProviderRef, amount, strings.ToLower(w.Currency), status, fail, w.ID)
}

// sendConnect posts a Connect webhook signed with secret.
func (o *orderNode) sendConnect(t *testing.T, body []byte, secret string) response {
	t.Helper()
	req, _ := http.NewRequest("POST", o.n.URL+"/webhooks/stripe/connect", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", stripeSignature(body, secret, time.Now()))
	return sendAs(t, req, "")
}

// connectSeller turns two-factor on for the seller unless it is (the session is
// stepped up by the confirmation), chooses Stripe, gets an onboarding link and has Stripe say payouts
// are enabled. It returns the connected account's id.
func (o *orderNode) connectSeller(t *testing.T, seller *client) string {
	t.Helper()
	var st struct{ Enabled bool }
	if expect(t, seller.do("GET", "/me/2fa", nil), 200, "2fa status").json(t, &st); !st.Enabled {
		enrolTwoFactor(t, seller)
	}
	var m apiPayoutMethod
	expect(t, seller.do("PUT", "/me/payout-method", map[string]string{"method": "stripe"}), 200, "choose stripe").json(t, &m)
	if m.Method != "stripe" || !strings.HasPrefix(m.StripeAccountID, "acct_") || m.Ready {
		t.Fatalf("stripe chosen: %+v", m)
	}
	var link struct {
		URL       string
		ExpiresAt time.Time `json:"expires_at"`
	}
	expect(t, seller.do("POST", "/me/payout-method/onboarding", nil), 201, "onboarding link").json(t, &link)
	if !strings.HasPrefix(link.URL, "https://") {
		t.Fatalf("onboarding link %+v", link)
	}
	expect(t, o.sendConnect(t, accountUpdated(m.StripeAccountID, true, nil, time.Now()), connectSecret), 200, "account.updated")
	expect(t, seller.do("GET", "/me/payout-method", nil), 200, "payout method").json(t, &m)
	if !m.Ready || !m.PayoutsEnabled {
		t.Fatalf("after account.updated: %+v", m)
	}
	return m.StripeAccountID
}

// TestStripeConnectPayouts runs a seller's payouts through Stripe Connect over the
// built binary and stripe-mock: onboarding state from account.updated (an older event
// never overwrites a newer one), withdrawals that transfer and pay out (in transit),
// payout.paid finishing one and payout.failed returning another to available with
// the reason, each applied once however often it arrives, and the ledger exact.
func TestStripeConnectPayouts(t *testing.T) {
	o := startOrderNode(t, map[string]string{"SETTLEMENT_JOB_INTERVAL": "1s"}, true)
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	id := o.deliveredOrder(t)
	expect(t, buyer.do("POST", "/orders/"+id+"/accept", nil, key()...), 200, "accept")
	earned := o.price - 450
	// Clear the earnings now rather than waiting out the clearing period.
	clearNow(t, o, id)

	// Money moves need two-factor first, and a payout method.
	expectRule(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": 100, "currency": "USD"}, key()...), 403, "two_factor", "no 2fa")
	expectRule(t, seller.do("PUT", "/me/payout-method", map[string]string{"method": "stripe"}), 403, "two_factor", "method without 2fa")
	var none apiPayoutMethod
	if expect(t, buyer.do("GET", "/me/payout-method", nil), 200, "a buyer's method").json(t, &none); none.Method != "" || none.Ready {
		t.Fatalf("a buyer's method: %+v", none)
	}
	expectField(t, buyer.do("PUT", "/me/payout-method", map[string]string{"method": "stripe"}), 403, "two_factor", "a buyer without 2fa")
	account := o.connectSeller(t, seller)

	// Older news never wins: an account.updated from before disables nothing.
	expect(t, o.sendConnect(t, accountUpdated(account, false, []string{"external_account"}, time.Now().Add(-time.Hour)), connectSecret), 200, "stale account.updated")
	var m apiPayoutMethod
	expect(t, seller.do("GET", "/me/payout-method", nil), 200, "method").json(t, &m)
	if !m.Ready {
		t.Fatalf("a stale event disabled payouts: %+v", m)
	}
	expectField(t, o.sendConnect(t, accountUpdated(account, true, nil, time.Now()), "whsec_wrong"), 400, "Stripe-Signature", "bad signature")

	// Two withdrawals: both in transit, the money out of available.
	var paid, failed apiWithdrawal
	expect(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": 1500, "currency": "USD"}, key()...), 201, "withdraw").json(t, &paid)
	expect(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": 1000, "currency": "USD"}, key()...), 201, "withdraw").json(t, &failed)
	for _, w := range []apiWithdrawal{paid, failed} {
		if w.Status != "in_transit" || w.Provider != "stripe" || w.Destination != account || !strings.HasPrefix(w.ProviderRef, "po_") {
			t.Fatalf("withdrawal: %+v", w)
		}
	}
	if b := balanceOf(t, seller, o.currency); b.Available != earned-2500 || b.Withdrawing != 2500 || b.Withdrawn != 0 {
		t.Fatalf("in transit: %+v", b)
	}

	// A payout event naming another amount or account changes nothing.
	wrong := paid
	wrong.Destination = "acct_someoneelse"
	var out struct{ Outcome string }
	expect(t, o.sendConnect(t, payoutEvent("evt_"+uuid.NewString(), "payout.paid", wrong, 1500, ""), connectSecret), 200, "wrong account").json(t, &out)
	if out.Outcome != "mismatch" {
		t.Fatalf("wrong account: %s", out.Outcome)
	}

	// Paid and failed, each sent five times at once under one id and once more under
	// another: each applies once.
	var wg sync.WaitGroup
	outcomes := make(chan string, 20)
	for _, ev := range []struct {
		w   apiWithdrawal
		typ string
	}{{paid, "payout.paid"}, {failed, "payout.failed"}} {
		same := "evt_" + uuid.NewString()
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				eid := same
				if i == 5 {
					eid = "evt_" + uuid.NewString()
				}
				var out struct{ Outcome string }
				r := o.sendConnect(t, payoutEvent(eid, ev.typ, ev.w, ev.w.AmountMinor, "The bank account has been closed"), connectSecret)
				if r.status != 200 {
					t.Errorf("%s: %d %s", ev.typ, r.status, r.body)
					return
				}
				r.json(t, &out)
				outcomes <- ev.typ + " " + out.Outcome
			}()
		}
	}
	wg.Wait()
	close(outcomes)
	count := map[string]int{}
	for s := range outcomes {
		count[s]++
	}
	if count["payout.paid applied"] != 1 || count["payout.failed applied"] != 1 {
		t.Fatalf("outcomes %v", count)
	}
	var list struct{ Withdrawals []apiWithdrawal }
	expect(t, seller.do("GET", "/me/withdrawals", nil), 200, "list").json(t, &list)
	got := map[string]apiWithdrawal{}
	for _, w := range list.Withdrawals {
		got[w.ID] = w
	}
	if got[paid.ID].Status != "paid" || got[failed.ID].Status != "failed" || got[failed.ID].Failure == nil ||
		*got[failed.ID].Failure != "The bank account has been closed" {
		t.Fatalf("after the events: %+v %+v", got[paid.ID], got[failed.ID])
	}
	if b := balanceOf(t, seller, o.currency); b.Available != earned-1500 || b.Withdrawing != 0 || b.Withdrawn != 1500 {
		t.Fatalf("after the events: %+v", b)
	}
	for _, w := range []string{paid.ID, failed.ID} {
		if n := o.accountBalance(t, "transit:withdrawal:"+w); n != 0 {
			t.Fatalf("transit of %s holds %d", w, n)
		}
	}
	if n := o.accountBalance(t, "external:stripe"); n != -o.price+1500 {
		t.Fatalf("external:stripe %d", n)
	}
	// The seller heard each step on their channel.
	if n := o.sqlInt64(t, `SELECT count(*) FROM events WHERE channel = $1 AND type = 'withdrawal.updated'`, "user:"+o.sellerID); n != 4 {
		t.Fatalf("%d withdrawal.updated events, want 4 (two in transit, paid, failed)", n)
	}
	o.assertLedgerConserved(t)
}

// clearNow moves an order's settlement back past the clearing period and waits for
// the settlement job to clear it.
func clearNow(t *testing.T, o *orderNode, orderID string) {
	t.Helper()
	o.sqlInt64(t, `WITH u AS (UPDATE orders SET settled_at = now() - interval '400 days' WHERE id = $1 RETURNING 1) SELECT count(*) FROM u`, orderID)
	deadline := time.Now().Add(30 * time.Second)
	for o.sqlInt64(t, `SELECT count(*) FROM orders WHERE id = $1 AND cleared_at IS NOT NULL`, orderID) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("earnings never cleared")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestWithdrawalRules runs every withdrawal rule over HTTP, each refusal naming its
// rule: the new-seller hold and the destination lock (time moved on in the database
// rather than waited out), the minimum, the daily limit, and the admins' queue above
// the approval threshold with a rejection (money available again) and an approval
// (paid out). The ledger stays exact throughout.
func TestWithdrawalRules(t *testing.T) {
	o := startOrderNode(t, map[string]string{
		"SETTLEMENT_JOB_INTERVAL": "1s", "WITHDRAWAL_MIN_MINOR": "100", "WITHDRAWAL_DAILY_LIMIT_MINOR": "3000",
		"WITHDRAWAL_NEW_SELLER_HOLD": "720h", "WITHDRAWAL_DESTINATION_LOCK": "1h", "WITHDRAWAL_APPROVAL_ABOVE_MINOR": "1500",
	}, true)
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	admin := &client{t: t, base: o.n.URL, bearer: o.adminToken(t)}
	id := o.deliveredOrder(t)
	expect(t, buyer.do("POST", "/orders/"+id+"/accept", nil, key()...), 200, "accept")
	clearNow(t, o, id)
	earned := o.price - 450
	withdraw := func(amount int64) response {
		return seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": amount, "currency": "USD"}, key()...)
	}
	enrolTwoFactor(t, seller)
	expectRule(t, withdraw(200), 409, "payout_method", "no payout method")
	o.connectSeller(t, seller)

	expectRule(t, withdraw(200), 409, "new_seller_hold", "a new seller")
	o.sqlInt64(t, `WITH u AS (UPDATE users SET created_at = now() - interval '60 days' WHERE id = $1 RETURNING 1) SELECT count(*) FROM u`, o.sellerID)
	expectRule(t, withdraw(200), 409, "destination_lock", "just connected")
	var m apiPayoutMethod
	expect(t, seller.do("GET", "/me/payout-method", nil), 200, "method").json(t, &m)
	if m.WithdrawableFrom == nil || time.Until(*m.WithdrawableFrom) < 50*time.Minute {
		t.Fatalf("withdrawable_from %v", m.WithdrawableFrom)
	}
	o.sqlInt64(t, `WITH u AS (UPDATE payout_methods SET changed_at = now() - interval '2 hours' WHERE user_id = $1 RETURNING 1) SELECT count(*) FROM u`, o.sellerID)
	expectRule(t, withdraw(99), 422, "withdrawal_minimum", "below the minimum")

	var big, small, again apiWithdrawal
	expect(t, withdraw(2000), 201, "above the threshold").json(t, &big)
	if big.Status != "review" {
		t.Fatalf("above the threshold: %+v", big)
	}
	expectRule(t, withdraw(1200), 409, "daily_limit", "over the daily limit")
	expect(t, withdraw(1000), 201, "within the limit").json(t, &small)
	if small.Status != "in_transit" {
		t.Fatalf("below the threshold: %+v", small)
	}
	if b := balanceOf(t, seller, "USD"); b.Available != earned-3000 || b.Withdrawing != 3000 {
		t.Fatalf("with one in review: %+v", b)
	}

	// The queue is the admins'; a rejection releases the money, once.
	expect(t, seller.do("GET", "/admin/withdrawals", nil), 404, "a seller reads the queue")
	expect(t, seller.do("POST", "/admin/withdrawals/"+big.ID+"/approve", nil), 404, "a seller approves")
	var queue struct{ Withdrawals []apiWithdrawal }
	expect(t, admin.do("GET", "/admin/withdrawals", nil), 200, "queue").json(t, &queue)
	if len(queue.Withdrawals) != 1 || queue.Withdrawals[0].ID != big.ID {
		t.Fatalf("queue %+v", queue)
	}
	expectField(t, admin.do("POST", "/admin/withdrawals/"+big.ID+"/reject", map[string]string{"reason": ""}), 422, "reason", "no reason")
	expect(t, admin.do("POST", "/admin/withdrawals/"+big.ID+"/reject", map[string]string{"reason": "unusual amount"}), 200, "reject").json(t, &again)
	if again.Status != "rejected" || again.Failure == nil || *again.Failure != "unusual amount" {
		t.Fatalf("rejected: %+v", again)
	}
	expectField(t, admin.do("POST", "/admin/withdrawals/"+big.ID+"/approve", nil), 409, "status", "approve a rejected one")
	if b := balanceOf(t, seller, "USD"); b.Available != earned-1000 || b.Withdrawing != 1000 {
		t.Fatalf("after the rejection: %+v", b)
	}

	// A rejected withdrawal does not count towards the daily limit; an approved one is paid out.
	expect(t, withdraw(2000), 201, "again above the threshold").json(t, &big)
	expect(t, admin.do("POST", "/admin/withdrawals/"+big.ID+"/approve", nil), 200, "approve").json(t, &again)
	if again.Status != "in_transit" || !strings.HasPrefix(again.ProviderRef, "po_") {
		t.Fatalf("approved: %+v", again)
	}
	expect(t, o.sendConnect(t, payoutEvent("evt_"+uuid.NewString(), "payout.paid", again, 2000, ""), connectSecret), 200, "payout.paid")
	if b := balanceOf(t, seller, "USD"); b.Available != earned-3000 || b.Withdrawing != 1000 || b.Withdrawn != 2000 {
		t.Fatalf("after the approval: %+v", b)
	}
	o.assertLedgerConserved(t)
}
