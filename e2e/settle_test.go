package e2e

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// settledOrder is an order with its escrow split, as the API shows it.
type settledOrder struct {
	apiOrder
	RefundedMinor int64 `json:"refunded_minor"`
	FeeMinor      int64 `json:"fee_minor"`
	SellerMinor   int64 `json:"seller_minor"`
}

type apiBalance struct {
	Currency    string
	Pending     int64 `json:"pending_minor"`
	Available   int64 `json:"available_minor"`
	Withdrawing int64 `json:"withdrawing_minor"`
	Withdrawn   int64 `json:"withdrawn_minor"`
}

// balanceOf is the caller's balance in currency (zero when they have none).
func balanceOf(t *testing.T, c *client, currency string) apiBalance {
	t.Helper()
	var out struct{ Balances []apiBalance }
	expect(t, c.do("GET", "/me/balance", nil), 200, "balance").json(t, &out)
	for _, b := range out.Balances {
		if b.Currency == currency {
			return b
		}
	}
	return apiBalance{Currency: currency}
}

func key() []string { return []string{"Idempotency-Key", uuid.NewString()} }

func TestSettleAcceptCompletesOnceWithAnExactLedger(t *testing.T) {
	o := startOrderNode(t, nil, true)
	id := o.deliveredOrder(t)
	path := "/orders/" + id
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	_, strangerToken := appUser(t, o.n, "nosy")
	stranger := &client{t: t, base: o.n.URL, bearer: strangerToken}
	for _, action := range []string{"/accept", "/cancel"} {
		expect(t, stranger.do("POST", path+action, nil, key()...), 404, "stranger "+action)
	}
	expect(t, stranger.do("POST", path+"/refund", map[string]any{"amount_minor": 1, "reason": "x"}, key()...), 404, "stranger refund")
	sock := mustDial(t, o.n, o.seller)
	sock.subscribe("order:"+id, nil)
	sock.subscribe("user:"+o.sellerID, nil)

	expectField(t, buyer.do("POST", path+"/accept", nil), 400, "Idempotency-Key", "accept without a key")
	expect(t, seller.do("POST", path+"/accept", nil, key()...), 403, "the seller accepts")
	expect(t, buyer.do("POST", path+"/cancel", nil, key()...), 403, "the buyer cancels a delivered order")
	k := key()
	var done settledOrder
	expect(t, buyer.do("POST", path+"/accept", nil, k...), 200, "accept").json(t, &done)
	fee := int64(450) // 10 % of 4500, half-up
	if done.Status != "completed" || done.FeeMinor != fee || done.SellerMinor != o.price-fee || done.RefundedMinor != 0 {
		t.Fatalf("accepted: %+v", done)
	}
	r := expect(t, buyer.do("POST", path+"/accept", nil, k...), 200, "retry")
	if r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("a retry under the same key is not marked replayed")
	}
	expect(t, buyer.do("POST", path+"/accept", nil, key()...), 409, "accept again")
	expect(t, seller.do("POST", path+"/cancel", nil, key()...), 409, "cancel a completed order")
	sock.eventOfType("order:"+id, "order.completed", 10*time.Second)
	sock.eventOfType("user:"+o.sellerID, "balance.updated", 10*time.Second)

	if n, escrow := o.ledger(t, id); n != 2 || escrow != 0 {
		t.Fatalf("ledger: %d transactions, escrow %d", n, escrow)
	}
	if p, f := o.accountBalance(t, "seller:"+o.sellerID+":pending"), o.accountBalance(t, "platform:fees"); p != o.price-fee || f != fee {
		t.Fatalf("seller pending %d, fees %d", p, f)
	}
	o.assertLedgerConserved(t)
	if b := balanceOf(t, seller, o.currency); b.Pending != o.price-fee || b.Available != 0 || b.Withdrawn != 0 {
		t.Fatalf("seller's balance: %+v", b)
	}
	if b := balanceOf(t, buyer, o.currency); b != (apiBalance{Currency: o.currency}) {
		t.Fatalf("buyer's balance: %+v", b)
	}
}

// TestWithdrawAfterAutoCompleteAndClearing runs the whole lifecycle on short periods:
// a delivered order completes itself, its earnings clear, the seller withdraws.
func TestWithdrawAfterAutoCompleteAndClearing(t *testing.T) {
	o := startOrderNode(t, map[string]string{
		"ORDER_AUTO_COMPLETE_AFTER": "1s", "ORDER_CLEARING_PERIOD": "2s", "SETTLEMENT_JOB_INTERVAL": "1s",
	}, true)
	id := o.deliveredOrder(t)
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	earned := o.price - 450
	deadline := time.Now().Add(45 * time.Second)
	for balanceOf(t, seller, o.currency).Available != earned {
		if time.Now().After(deadline) {
			var ord settledOrder
			expect(t, seller.do("GET", "/orders/"+id, nil), 200, "order").json(t, &ord)
			t.Fatalf("never cleared: order %+v, balance %+v", ord, balanceOf(t, seller, o.currency))
		}
		time.Sleep(200 * time.Millisecond)
	}
	var ord settledOrder
	expect(t, buyer.do("GET", "/orders/"+id, nil), 200, "order").json(t, &ord)
	if ord.Status != "completed" || ord.SellerMinor != earned {
		t.Fatalf("auto-completed: %+v", ord)
	}
	if n := o.sqlInt64(t, `SELECT count(*) FROM ledger_transactions WHERE order_id = $1`, id); n != 3 {
		t.Fatalf("%d ledger transactions, want funding, completion and clearing", n)
	}
	if b := balanceOf(t, seller, o.currency); b.Pending != 0 {
		t.Fatalf("after clearing: %+v", b)
	}

	// Bad requests name the field; over-withdrawing is refused.
	o.connectSeller(t, seller)
	expectField(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": 10, "currency": "USD"}), 400, "Idempotency-Key", "no key")
	expectField(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": 0, "currency": "USD"}, key()...), 422, "amount_minor", "zero")
	expectField(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": -5, "currency": "USD"}, key()...), 422, "amount_minor", "negative")
	expectField(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": 10, "currency": "usd"}, key()...), 422, "currency", "lower-case currency")
	expectField(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": "10", "currency": "USD"}, key()...), 400, "amount_minor", "a string amount")
	expectField(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": earned + 1, "currency": "USD"}, key()...), 409, "amount_minor", "over-withdraw")
	expectField(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": 1, "currency": "EUR"}, key()...), 409, "amount_minor", "no balance in EUR")
	expectField(t, buyer.do("POST", "/me/withdrawals", map[string]any{"amount_minor": 1, "currency": "USD"}, key()...), 403, "two_factor", "the buyer has no second factor")

	// One withdrawal, retried.
	k := key()
	var first, again apiWithdrawal
	expect(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": 50, "currency": "USD"}, k...), 201, "withdraw").json(t, &first)
	if first.Status != "in_transit" || first.AmountMinor != 50 || first.ProviderRef == "" {
		t.Fatalf("withdrawal: %+v", first)
	}
	r := expect(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": 50, "currency": "USD"}, k...), 200, "retry")
	r.json(t, &again)
	if again.ID != first.ID || r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %s", r.body)
	}
	expectField(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": 51, "currency": "USD"}, k...), 422, "Idempotency-Key", "key reused")

	// 20 at once: only as many as the balance covers.
	left := earned - 50 // 4000
	each := int64(500)
	var wg sync.WaitGroup
	statuses := make(chan int, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": each, "currency": "USD"}, key()...).status
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[201] != int(left/each) || count[409] != 20-int(left/each) {
		t.Fatalf("concurrent withdrawals: %v", count)
	}
	total := 50 + each*(left/each)
	b := balanceOf(t, seller, o.currency)
	if b.Available != left%each || b.Withdrawing != total || b.Withdrawn != 0 {
		t.Fatalf("after withdrawing: %+v", b)
	}
	if got := o.accountBalance(t, "seller:"+o.sellerID+":available"); got != left%each {
		t.Fatalf("available account %d", got)
	}
	var list struct{ Withdrawals []apiWithdrawal }
	expect(t, seller.do("GET", "/me/withdrawals", nil), 200, "withdrawals").json(t, &list)
	if len(list.Withdrawals) != 1+int(left/each) {
		t.Fatalf("%d withdrawals listed", len(list.Withdrawals))
	}
	// Stripe pays each out.
	for _, w := range list.Withdrawals {
		expect(t, o.sendConnect(t, payoutEvent("evt_"+uuid.NewString(), "payout.paid", w, w.AmountMinor, ""), connectSecret), 200, "payout.paid")
	}
	if b := balanceOf(t, seller, o.currency); b.Available != left%each || b.Withdrawing != 0 || b.Withdrawn != total {
		t.Fatalf("after the payouts: %+v", b)
	}
	o.assertLedgerConserved(t)
	expectField(t, seller.do("GET", "/me/withdrawals?limit=0", nil), 400, "limit", "bad limit")
}

func TestRefundOnCancelAndAdminPartialRefund(t *testing.T) {
	o := startOrderNode(t, nil, true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	admin := &client{t: t, base: o.n.URL, bearer: o.adminToken(t)}

	// A placed order: the buyer cancels, nothing moves.
	r, placed := o.placeOrder(t, uuid.NewString())
	expect(t, r, 201, "place")
	var got settledOrder
	expect(t, buyer.do("POST", "/orders/"+placed.ID+"/cancel", nil, key()...), 200, "cancel placed").json(t, &got)
	if got.Status != "cancelled" || got.RefundedMinor != 0 {
		t.Fatalf("cancelled placed: %+v", got)
	}
	if n, escrow := o.ledger(t, placed.ID); n != 0 || escrow != 0 {
		t.Fatalf("a cancelled unpaid order moved money: %d, %d", n, escrow)
	}

	// A paid order: the seller cancels, the buyer gets everything back.
	paid := o.paidOrder(t)
	sock := mustDial(t, o.n, o.buyer)
	sock.subscribe("order:"+paid, nil)
	expect(t, buyer.do("POST", "/orders/"+paid+"/cancel", nil, key()...), 403, "the buyer cancels a paid order")
	expect(t, admin.do("POST", "/orders/"+paid+"/cancel", nil, key()...), 404, "an admin is no party to cancel")
	expect(t, buyer.do("POST", "/orders/"+paid+"/refund", map[string]any{"amount_minor": 1, "reason": "mine"}, key()...), 403, "the buyer refunds")
	external := o.accountBalance(t, "external:stripe")
	expect(t, seller.do("POST", "/orders/"+paid+"/cancel", nil, key()...), 200, "seller cancels").json(t, &got)
	if got.Status != "cancelled" || got.RefundedMinor != o.price || got.FeeMinor != 0 || got.SellerMinor != 0 {
		t.Fatalf("seller cancelled: %+v", got)
	}
	if n, escrow := o.ledger(t, paid); n != 2 || escrow != 0 {
		t.Fatalf("after the refund: %d transactions, escrow %d", n, escrow)
	}
	if after := o.accountBalance(t, "external:stripe"); after-external != o.price {
		t.Fatalf("external:stripe moved %d, want %d", after-external, o.price)
	}
	sock.eventOfType("order:"+paid, "order.cancelled", 10*time.Second)
	sock.eventOfType("order:"+paid, "order.refunded", 10*time.Second)
	expect(t, admin.do("POST", "/orders/"+paid+"/refund", map[string]any{"amount_minor": 1, "reason": "again"}, key()...), 409, "refund twice")

	// A disputed order: an admin refunds part; the rest goes to the seller less the fee on it.
	disputed := o.deliveredOrder(t)
	path := "/orders/" + disputed + "/refund"
	expectField(t, admin.do("POST", path, map[string]any{"amount_minor": o.price + 1, "reason": "late"}, key()...), 422, "amount_minor", "above the price")
	expectField(t, admin.do("POST", path, map[string]any{"amount_minor": 0, "reason": "late"}, key()...), 422, "amount_minor", "zero")
	expectField(t, admin.do("POST", path, map[string]any{"amount_minor": 100, "reason": ""}, key()...), 422, "reason", "no reason")
	expectField(t, admin.do("POST", path, map[string]any{"amount_minor": 100, "reason": "x", "to": "me"}, key()...), 400, "to", "unknown field")
	expectField(t, admin.do("POST", path, map[string]any{"amount_minor": 100, "reason": "x"}), 400, "Idempotency-Key", "no key")
	k := key()
	expect(t, admin.do("POST", path, map[string]any{"amount_minor": 1000, "reason": "late delivery"}, k...), 200, "partial refund").json(t, &got)
	// The seller's part is 3500; its fee is 350.
	if got.Status != "cancelled" || got.RefundedMinor != 1000 || got.FeeMinor != 350 || got.SellerMinor != 3150 {
		t.Fatalf("partial refund: %+v", got)
	}
	expect(t, admin.do("POST", path, map[string]any{"amount_minor": 1000, "reason": "late delivery"}, k...), 200, "retry")
	if n, escrow := o.ledger(t, disputed); n != 2 || escrow != 0 {
		t.Fatalf("after the partial refund: %d transactions, escrow %d", n, escrow)
	}
	if p := o.accountBalance(t, "seller:"+o.sellerID+":pending"); p != 3150 {
		t.Fatalf("seller pending %d", p)
	}
	if n := o.sqlInt64(t, `SELECT count(*) FROM refunds`); n != 2 {
		t.Fatalf("%d refunds recorded", n)
	}
	o.assertLedgerConserved(t)
}

// TestSettleRaceHasOneWinner races accept, cancel and an admin refund on one order,
// many times over: exactly one wins each time and the money adds up.
func TestSettleRaceHasOneWinner(t *testing.T) {
	o := startOrderNode(t, nil, true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	admin := &client{t: t, base: o.n.URL, bearer: o.adminToken(t)}
	for round := range 4 {
		id := o.deliveredOrder(t)
		path := "/orders/" + id
		var wg sync.WaitGroup
		type result struct {
			name   string
			status int
		}
		results := make(chan result, 6)
		try := func(name string, do func() response) {
			defer wg.Done()
			results <- result{name, do().status}
		}
		for range 2 {
			wg.Add(3)
			go try("accept", func() response { return buyer.do("POST", path+"/accept", nil, key()...) })
			go try("cancel", func() response { return seller.do("POST", path+"/cancel", nil, key()...) })
			go try("refund", func() response {
				return admin.do("POST", path+"/refund", map[string]any{"amount_minor": 2000, "reason": "race"}, key()...)
			})
		}
		wg.Wait()
		close(results)
		wins := 0
		var all []string
		for res := range results {
			all = append(all, fmt.Sprintf("%s:%d", res.name, res.status))
			switch res.status {
			case 200:
				wins++
			case 409:
			default:
				t.Errorf("round %d: %s %d", round, res.name, res.status)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d winners: %v", round, wins, all)
		}
		var ord settledOrder
		expect(t, buyer.do("GET", path, nil), 200, "order").json(t, &ord)
		if ord.RefundedMinor+ord.FeeMinor+ord.SellerMinor != o.price {
			t.Fatalf("round %d: split %+v does not add up to %d", round, ord, o.price)
		}
		if n, escrow := o.ledger(t, id); n != 2 || escrow != 0 {
			t.Fatalf("round %d: %d transactions, escrow %d (%v)", round, n, escrow, all)
		}
	}
	o.assertLedgerConserved(t)
	if n := o.sqlInt64(t, `SELECT count(*) FROM refunds r JOIN orders o ON o.id = r.order_id WHERE r.amount_minor <> o.refunded_minor`); n != 0 {
		t.Fatalf("%d refunds differ from their orders", n)
	}
}

// TestSettleLatePaymentToCancelledOrderIsRefundedOnce: the buyer cancels a placed
// order, then Stripe says its PaymentIntent succeeded: the payment is recorded, refunded
// in full at Stripe (stripe-mock), the escrow ends empty and the order stays cancelled;
// the same webhook again changes nothing.
func TestSettleLatePaymentToCancelledOrderIsRefundedOnce(t *testing.T) {
	o := startOrderNode(t, nil, true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	r, ord := o.placeOrder(t, uuid.NewString())
	expect(t, r, 201, "place")
	expect(t, buyer.do("POST", "/orders/"+ord.ID+"/cancel", nil, key()...), 200, "cancel placed")
	external := o.accountBalance(t, "external:stripe")

	body := paymentWebhook("evt_"+uuid.NewString(), "payment_intent.succeeded", ord, o.price, o.currency)
	var out struct{ Outcome string }
	expect(t, o.sendWebhook(t, body, stripeSignature(body, webhookSecret, time.Now())), 200, "late payment").json(t, &out)
	if out.Outcome != "refund_due" {
		t.Fatalf("outcome %q, want refund_due", out.Outcome)
	}
	check := func(when string) {
		t.Helper()
		var got settledOrder
		expect(t, buyer.do("GET", "/orders/"+ord.ID, nil), 200, "order").json(t, &got)
		if got.Status != "cancelled" || got.RefundedMinor != o.price || got.Payment == nil || got.Payment.Status != "succeeded" {
			t.Fatalf("%s: %+v", when, got)
		}
		if n, escrow := o.ledger(t, ord.ID); n != 2 || escrow != 0 {
			t.Fatalf("%s: %d transactions, escrow %d; want funding and refund, 0", when, n, escrow)
		}
		if after := o.accountBalance(t, "external:stripe"); after != external {
			t.Fatalf("%s: external:stripe moved %d", when, after-external)
		}
		if n := o.sqlInt64(t, `SELECT count(*) FROM refunds WHERE order_id = '`+ord.ID+`' AND amount_minor = `+fmt.Sprint(o.price)+` AND provider_ref LIKE 're_%'`); n != 1 {
			t.Fatalf("%s: %d Stripe refunds recorded", when, n)
		}
		if n := o.sqlInt64(t, `SELECT count(*) FROM events WHERE channel = 'order:`+ord.ID+`' AND type = 'order.refunded'`); n != 1 {
			t.Fatalf("%s: %d order.refunded events", when, n)
		}
	}
	check("after the late payment")
	expect(t, o.sendWebhook(t, body, stripeSignature(body, webhookSecret, time.Now())), 200, "the same webhook again").json(t, &out)
	if out.Outcome != "duplicate" {
		t.Fatalf("again: outcome %q", out.Outcome)
	}
	check("after the duplicate")
	o.assertLedgerConserved(t)
}
