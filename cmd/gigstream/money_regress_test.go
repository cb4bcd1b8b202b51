package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/payments/stripetest"
)

// The regression tests of the bugs the money property run found, each made
// deterministic over the property test's world (real Postgres, the Stripe fake).

// earn takes an order of g from buyer through payment, delivery, acceptance and
// clearing, so g's seller has its earnings available, and returns the order.
func (w *moneyWorld) earn(g moneyGig, buyer string) moneyOrder {
	w.t.Helper()
	o := w.paidOrder(g, buyer)
	w.deliverWork(o)
	_, _, err := w.settlement.Accept(w.ctx, o.id, o.buyer, uuid.NewString())
	w.must(err)
	_, err = w.settlement.ClearEarnings(w.ctx, 100)
	w.must(err)
	return o
}

// paidOrder places an order of g by buyer, has the fake charge it and delivers the
// webhooks, so the order is paid.
func (w *moneyWorld) paidOrder(g moneyGig, buyer string) moneyOrder {
	w.t.Helper()
	ord, _, err := w.orders.PlaceOrder(w.ctx, market.NewOrder{BuyerID: buyer, GigID: g.id, Tier: "basic", IdempotencyKey: uuid.NewString()})
	w.must(err)
	o := moneyOrder{id: ord.ID, intent: ord.Payment.PaymentIntentID, buyer: buyer, seller: g.seller, price: ord.PriceMinor}
	w.must(w.fake.Succeed(o.intent))
	w.quiesce()
	return o
}

// deliverWork has the seller deliver o.
func (w *moneyWorld) deliverWork(o moneyOrder) {
	w.t.Helper()
	up, _, err := w.db.CreateUpload(w.ctx, market.NewUpload{OwnerID: o.seller, Kind: market.UploadDeliverable, Filename: "work.zip", OrderID: &o.id})
	w.must(err)
	_, _, err = w.db.SettleUpload(w.ctx, up.ID, market.StoredObject{Key: "k/" + up.ID, Size: 3, SHA256: strings.Repeat("a", 64),
		ContentType: "application/zip", Filename: "work.zip"})
	w.must(err)
	_, err = w.orders.Deliver(w.ctx, market.NewDelivery{OrderID: o.id, UserID: o.seller, Note: "here it is", UploadIDs: []string{up.ID}})
	w.must(err)
}

// rewire builds settlement and payouts again on a Stripe API base in front of the
// fake (a proxy that can act between Stripe's answer and our receiving it).
func (w *moneyWorld) rewire(apiBase string) {
	w.t.Helper()
	cfg := w.cfg
	cfg.Stripe.APIBase = apiBase
	log := slog.New(slog.DiscardHandler)
	connect, err := newConnect(cfg)
	w.must(err)
	w.settlement, err = newSettlement(cfg, w.db, nil, connect, log)
	w.must(err)
	w.payouts, err = newPayouts(cfg, w.db, nil, connect, w.settlement, log)
	w.must(err)
}

// TestPayoutVerdictBeforeTransitIsApplied is the property run's lost payout event: the
// connected account's payout is paid (or fails) and its payout.* event is delivered
// after Stripe created the payout but before the withdrawal is recorded in_transit.
// The event must be applied (the withdrawal ends paid, or failed with its transfer
// reversed and the money available again), never ignored.
func TestPayoutVerdictBeforeTransitIsApplied(t *testing.T) {
	for _, paid := range []bool{true, false} {
		name := "paid"
		if !paid {
			name = "failed"
		}
		t.Run(name, func(t *testing.T) {
			w := newMoneyWorld(t, 7)
			w.quiesce() // the sellers' account.updated
			g := w.gigs[0]
			w.earn(g, w.buyers[0])
			before := w.available(g.seller)
			if before <= 0 {
				t.Fatalf("the seller has %d available after an accepted, cleared order", before)
			}
			var fired atomic.Bool
			var outcome string
			proxy := w.stripeProxy(func(path string, body []byte) {
				// Stripe decides the first payout and its event arrives before our
				// answer (the confirmation the event causes passes through)
				if path != "/v1/payouts" || !fired.CompareAndSwap(false, true) {
					return
				}
				var po struct{ ID string }
				w.must(json.Unmarshal(body, &po))
				w.must(w.fake.FinishPayout(po.ID, paid))
				for _, ev := range w.fake.TakeEvents() {
					body, sig := ev.Signed(moneyConnect)
					got, err := w.payouts.ApplyConnectWebhook(w.ctx, body, sig)
					w.must(err)
					outcome = got
				}
			})
			w.rewire(proxy.URL)
			wd, _, err := w.settlement.Withdraw(w.ctx, market.NewWithdrawal{UserID: g.seller, AmountMinor: before, Currency: w.currency(g),
				IdempotencyKey: uuid.NewString()})
			if err != nil && (paid || market.ErrorCode(err) != market.CodeUnavailable) { // a failed payout answers as a refusal
				t.Fatal(err)
			}
			if outcome != market.OutcomeApplied {
				t.Errorf("the early payout event's outcome is %q, want %q", outcome, market.OutcomeApplied)
			}
			got, err := w.db.Withdrawal(w.ctx, wd.ID)
			w.must(err)
			want, wantAvailable := market.WithdrawalPaid, int64(0)
			if !paid {
				want, wantAvailable = market.WithdrawalFailed, before
			}
			if got.Status != want {
				t.Errorf("withdrawal %s is %s, want %s", got.ID, got.Status, want)
			}
			if a := w.available(g.seller); a != wantAvailable {
				t.Errorf("the seller has %d available, want %d", a, wantAvailable)
			}
			w.quiesce()
			if err := w.checkInvariants(); err != nil {
				t.Error(err)
			}
		})
	}
}

// available is the seller's available balance in their gig's currency.
func (w *moneyWorld) available(seller string) int64 {
	w.t.Helper()
	bs, err := w.settlement.Balances(w.ctx, seller)
	w.must(err)
	var sum int64
	for _, b := range bs {
		sum += b.Available
	}
	return sum
}

// currency is g's currency.
func (w *moneyWorld) currency(g moneyGig) string {
	w.t.Helper()
	var cur string
	w.must(w.raw.QueryRowContext(w.ctx, `SELECT currency FROM gig_packages WHERE gig_id = $1 LIMIT 1`, g.id).Scan(&cur))
	return cur
}

// stripeProxy is an API base in front of the fake that calls after with each POST's
// path and the fake's answer before handing the answer on.
func (w *moneyWorld) stripeProxy(after func(path string, body []byte)) *httptest.Server {
	target, err := url.Parse(w.fake.URL)
	w.must(err)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(res *http.Response) error {
		if res.Request.Method != http.MethodPost || res.StatusCode >= 300 {
			return nil
		}
		body, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		_ = res.Body.Close()
		after(strings.TrimSuffix(res.Request.URL.Path, "/"), body)
		res.Body = io.NopCloser(bytes.NewReader(body))
		return nil
	}
	srv := httptest.NewServer(rp)
	w.t.Cleanup(srv.Close)
	return srv
}

// TestAcceptAfterARefundWhileAChargebackHeldTheOrder is the property run's accept
// that failed on the escrow's CHECK (a 500): part of a delivered order's charge is
// refunded in Stripe's dashboard, then the rest is charged back, and the chargeback's
// event arrives first. The refund then takes what the chargeback left of the escrow
// while the order is held; when the chargeback ends (won or lost) the order must be
// settled by what was taken (cancelled, escrow zero), so the buyer's accept is a
// conflict, never an error, and every invariant holds. A chargeback won gives the
// escrow back, and that repays first what the refund took from platform:losses while
// the chargeback held the escrow: the refund is taken from the escrow as if it had
// come first (before, the seller earned the buyer's service fee and tax on top of
// their share, paid by platform:losses).
func TestAcceptAfterARefundWhileAChargebackHeldTheOrder(t *testing.T) {
	for _, won := range []bool{true, false} {
		name := "won"
		if !won {
			name = "lost"
		}
		t.Run(name, func(t *testing.T) {
			w := newMoneyWorld(t, 11)
			w.quiesce()
			o := w.paidOrder(w.gigs[0], w.buyers[0])
			w.deliverWork(o)
			cur := w.currency(w.gigs[0])
			lossesBefore := w.balance(market.PlatformLossesAccount, cur)
			pi, _ := w.fake.Intent(o.intent)
			refunded := pi.Amount / 2
			_, err := w.fake.RefundOutside(o.intent, refunded)
			w.must(err)
			dp, err := w.fake.Dispute(o.intent, pi.Amount-refunded)
			w.must(err)
			events := w.fake.TakeEvents() // charge.refunded, charge.dispute.created
			if len(events) != 2 {
				t.Fatalf("the fake queued %d events, want 2", len(events))
			}
			w.must(w.deliver(events[1]))
			w.must(w.deliver(events[0]))
			w.must(w.fake.CloseDispute(dp, won))
			w.quiesce()
			_, _, err = w.settlement.Accept(w.ctx, o.id, o.buyer, uuid.NewString())
			if market.ErrorCode(err) != market.CodeConflict {
				t.Errorf("accept after the chargeback ended: %v, want a conflict", err)
			}
			var status string
			w.must(w.raw.QueryRowContext(w.ctx, `SELECT status FROM orders WHERE id = $1`, o.id).Scan(&status))
			if status != string(market.OrderCancelled) {
				t.Errorf("%s: the order is %s, want cancelled", name, status)
			}
			// as if the refund had come first: it is taken from the escrow (it is
			// less than the price), the order settles with it as its refund, and the
			// platform loses nothing of it; a chargeback lost takes the rest from the
			// seller's share, then the platform
			var sellerMinor, refundedMinor int64
			w.must(w.raw.QueryRowContext(w.ctx, `SELECT seller_minor, refunded_minor FROM orders WHERE id = $1`, o.id).Scan(&sellerMinor, &refundedMinor))
			if won {
				if want := o.price - market.PlatformFee(o.price-refunded, moneyFeeBPS) - refunded; refundedMinor != refunded || sellerMinor != want {
					t.Errorf("won: the order refunded %d and its seller earned %d, want %d and %d", refundedMinor, sellerMinor, refunded, want)
				}
				if l := w.balance(market.PlatformLossesAccount, cur); l != lossesBefore {
					t.Errorf("won: platform:losses is %d, want %d as before: the refund fitted in the escrow", l, lossesBefore)
				}
			}
			if err := w.checkInvariants(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestLatePaymentChargedBackLeavesNoEscrow is the property run's cancelled order that
// kept escrow (seed 1796357787926606197): an order is placed and cancelled, then its
// buyer's bank charges the PaymentIntent and charges it back at once, and the
// payment_intent.succeeded, charge.dispute.created and charge.dispute.closed events
// arrive in any order. Whatever the order and outcome, the order stays cancelled with
// an empty escrow (Stripe refuses refunds of a charged-back charge, so what the buyer
// is still owed after a chargeback won is in platform:refunds_owed), platform:losses
// is back where it was, and every invariant holds.
func TestLatePaymentChargedBackLeavesNoEscrow(t *testing.T) {
	w := newMoneyWorld(t, 13)
	w.quiesce()
	// the events' order: p is payment_intent.succeeded, c dispute.created, x closed
	for i, c := range []struct {
		order string
		won   bool
	}{
		{"cpx", false}, {"cpx", true}, {"pcx", true}, {"pcx", false}, {"cxp", true}, {"cxp", false},
		{"xpc", true}, {"xpc", false}, {"pxc", true}, {"pxc", false},
	} {
		// one world for every case (w.must and quiesce fail the test itself): each
		// case is its own order, and the checks name the case
		name := fmt.Sprintf("%s won=%v", c.order, c.won)
		{
			g, buyer := w.gigs[i%len(w.gigs)], w.buyers[i%len(w.buyers)]
			ord, _, err := w.orders.PlaceOrder(w.ctx, market.NewOrder{BuyerID: buyer, GigID: g.id, Tier: "basic", IdempotencyKey: uuid.NewString()})
			w.must(err)
			_, _, err = w.settlement.Cancel(w.ctx, ord.ID, buyer, uuid.NewString())
			w.must(err)
			w.quiesce()
			intent := ord.Payment.PaymentIntentID
			owedBefore, lossesBefore := w.balance(market.PlatformRefundsOwedAccount, ord.Currency), w.balance(market.PlatformLossesAccount, ord.Currency)
			w.must(w.fake.Succeed(intent))
			pi, _ := w.fake.Intent(intent)
			dp, err := w.fake.Dispute(intent, pi.Amount)
			w.must(err)
			w.must(w.fake.CloseDispute(dp, c.won))
			byType := map[byte]stripetest.Event{}
			for _, ev := range w.fake.TakeEvents() {
				switch ev.Type {
				case market.StripePaymentSucceeded:
					byType['p'] = ev
				case "charge.dispute.created":
					byType['c'] = ev
				case "charge.dispute.closed":
					byType['x'] = ev
				}
			}
			for _, k := range []byte(c.order) {
				ev, ok := byType[k]
				if !ok {
					t.Fatalf("%s: the fake queued no %c event", name, k)
				}
				w.must(w.deliver(ev))
			}
			w.quiesce()
			var status string
			w.must(w.raw.QueryRowContext(w.ctx, `SELECT status FROM orders WHERE id = $1`, ord.ID).Scan(&status))
			if status != string(market.OrderCancelled) {
				t.Errorf("%s: the order is %s, want cancelled", name, status)
			}
			if e := w.balance(market.EscrowAccount(ord.ID), ord.Currency); e != 0 {
				t.Errorf("%s: the cancelled order's escrow holds %d, want 0", name, e)
			}
			if l := w.balance(market.PlatformLossesAccount, ord.Currency); l != lossesBefore {
				t.Errorf("%s: platform:losses is %d, want %d as before: the buyer's own payment paid the chargeback", name, l, lossesBefore)
			}
			wantOwed := owedBefore
			if c.won { // the buyer's bank gave the money back to us, and Stripe refuses the refund
				wantOwed += pi.Amount
			}
			if o := w.balance(market.PlatformRefundsOwedAccount, ord.Currency); o != wantOwed {
				t.Errorf("%s: platform:refunds_owed is %d, want %d", name, o, wantOwed)
			}
			if err := w.checkInvariants(); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

// balance is an account's balance in currency, its row plus its deferred postings
// (0 when it has none).
func (w *moneyWorld) balance(account, currency string) int64 {
	w.t.Helper()
	var b int64
	w.must(w.raw.QueryRowContext(w.ctx, `SELECT COALESCE((SELECT balance_minor FROM ledger_account_balances WHERE account = $1 AND currency = $2), 0)`,
		account, currency).Scan(&b))
	return b
}
