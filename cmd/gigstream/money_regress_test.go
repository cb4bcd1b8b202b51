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
// come first (the seller earned the buyer's service fee and tax on top of their share,
// paid by platform:losses, before; checkPlatformLosses).
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
			w.refundWhileAChargebackHolds(o.intent, refunded, pi.Amount-refunded, won)
			w.quiesce()
			_, _, err := w.settlement.Accept(w.ctx, o.id, o.buyer, uuid.NewString())
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
			ord := w.cancelledBeforePayment(i)
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

// cancelledBeforePayment places an order of gig i (mod the gigs) for buyer i (mod the
// buyers), has the buyer cancel it before it is paid, and waits for the world to be
// quiet: the start of every late-payment case.
func (w *moneyWorld) cancelledBeforePayment(i int) market.Order {
	w.t.Helper()
	g, buyer := w.gigs[i%len(w.gigs)], w.buyers[i%len(w.buyers)]
	ord, _, err := w.orders.PlaceOrder(w.ctx, market.NewOrder{BuyerID: buyer, GigID: g.id, Tier: "basic", IdempotencyKey: uuid.NewString()})
	w.must(err)
	_, _, err = w.settlement.Cancel(w.ctx, ord.ID, buyer, uuid.NewString())
	w.must(err)
	w.quiesce()
	return ord
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

// TestChargebackBeforeThePaymentOfAPlacedOrderHoldsIt is a chargeback whose
// charge.dispute.created is applied before the payment_intent.succeeded of its order,
// which is placed, not cancelled (Stripe's events arrive in any order). The
// chargeback found the escrow empty and took everything from platform:losses; the
// payment then funded the whole escrow and the seller was paid in full when the
// order completed, the platform keeping the loss (found by reading; the property run
// now checks it: checkPlatformLosses). The payment must be applied as if it had come
// first (market.EarlyReversalRule): the escrow repays platform:losses, the order is
// held while the chargeback is open (accept is a conflict), a chargeback lost
// cancels it and one won gives the escrow back so the accept pays the seller.
func TestChargebackBeforeThePaymentOfAPlacedOrderHoldsIt(t *testing.T) {
	w := newMoneyWorld(t, 19)
	w.quiesce()
	for i, c := range []struct {
		part int64 // the chargeback takes the charge's amount × part / 2
		won  bool
	}{{2, false}, {2, true}, {1, false}, {1, true}} {
		// one world for every case; each case is its own order and seller
		g, buyer := w.gigs[i%len(w.gigs)], w.buyers[i%len(w.buyers)]
		name := fmt.Sprintf("chargeback of %d/2, won=%v", c.part, c.won)
		ord, _, err := w.orders.PlaceOrder(w.ctx, market.NewOrder{BuyerID: buyer, GigID: g.id, Tier: "basic", IdempotencyKey: uuid.NewString()})
		w.must(err)
		o := moneyOrder{id: ord.ID, intent: ord.Payment.PaymentIntentID, buyer: buyer, seller: g.seller, price: ord.PriceMinor}
		cur := ord.Currency
		lossesBefore, pendingBefore := w.balance(market.PlatformLossesAccount, cur), w.balance(market.SellerPendingAccount(o.seller), cur)
		w.must(w.fake.Succeed(o.intent))
		pi, _ := w.fake.Intent(o.intent)
		disputed := pi.Amount * c.part / 2
		dp, err := w.fake.Dispute(o.intent, disputed)
		w.must(err)
		events := w.fake.TakeEvents() // payment_intent.succeeded, charge.dispute.created
		if len(events) != 2 || events[0].Type != market.StripePaymentSucceeded || events[1].Type != "charge.dispute.created" {
			t.Fatalf("%s: the fake queued %d events, want the payment and the dispute", name, len(events))
		}
		w.must(w.deliver(events[1]))
		w.must(w.deliver(events[0]))
		w.quiesce()
		// as if the payment had come first: the escrow gave what it holds, the
		// platform only what exceeds the price (the service fee and tax)
		fromEscrow := min(disputed, o.price)
		if l, want := w.balance(market.PlatformLossesAccount, cur), lossesBefore-(disputed-fromEscrow); l != want {
			t.Errorf("%s: platform:losses is %d after the payment, want %d", name, l, want)
		}
		if e := w.balance(market.EscrowAccount(o.id), cur); e != o.price-fromEscrow {
			t.Errorf("%s: the escrow holds %d after the payment, want %d", name, e, o.price-fromEscrow)
		}
		if err := w.checkInvariants(); err != nil {
			t.Errorf("%s: after the payment: %v", name, err)
		}
		w.deliverWork(o)
		if _, _, err := w.settlement.Accept(w.ctx, o.id, o.buyer, uuid.NewString()); market.ErrorCode(err) != market.CodeConflict {
			t.Errorf("%s: accept while the chargeback is open: %v, want a conflict", name, err)
		}
		w.must(w.fake.CloseDispute(dp, c.won))
		w.quiesce()
		_, _, err = w.settlement.Accept(w.ctx, o.id, o.buyer, uuid.NewString())
		var status string
		w.must(w.raw.QueryRowContext(w.ctx, `SELECT status FROM orders WHERE id = $1`, o.id).Scan(&status))
		earned := w.balance(market.SellerPendingAccount(o.seller), cur) - pendingBefore
		losses := w.balance(market.PlatformLossesAccount, cur)
		if c.won {
			if err != nil || status != string(market.OrderCompleted) {
				t.Errorf("%s: accept after the chargeback was won: %v, the order is %s, want completed", name, err, status)
			}
			if losses != lossesBefore {
				t.Errorf("%s: platform:losses is %d, want %d as before", name, losses, lossesBefore)
			}
			if want := o.price - market.PlatformFee(o.price, moneyFeeBPS); earned != want {
				t.Errorf("%s: the seller earned %d, want the price less the fee, %d", name, earned, want)
			}
		} else {
			if market.ErrorCode(err) != market.CodeConflict || status != string(market.OrderCancelled) {
				t.Errorf("%s: accept after the chargeback was lost: %v, the order is %s, want a conflict and cancelled", name, err, status)
			}
			if want := lossesBefore - (disputed - fromEscrow); losses != want {
				t.Errorf("%s: platform:losses is %d, want %d: the platform loses only what exceeds the price", name, losses, want)
			}
			// the seller earns their share of what the chargeback left of the escrow
			if left := o.price - fromEscrow; earned > left {
				t.Errorf("%s: the seller earned %d of an order whose escrow kept %d after its chargeback", name, earned, left)
			}
		}
		if e := w.balance(market.EscrowAccount(o.id), cur); e != 0 {
			t.Errorf("%s: the final order's escrow holds %d", name, e)
		}
		if err := w.checkInvariants(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestRefundAtStripeWhileAChargebackHeldACompletedOrder is the property run's refund
// that the platform paid (seed 1796390038031361417, checkPlatformLosses): part of a
// completed order's charge is refunded in Stripe's dashboard, then the rest is charged
// back, and the chargeback's event arrives first. The chargeback takes from the
// seller, so the refund found less of the seller's share left and took the rest from
// platform:losses. When the chargeback is won, what it gives back to the seller must
// repay that first, as if the refund had come first: the seller ends with their share
// less the refund, platform:losses as before. Lost, the seller gives all they earned.
func TestRefundAtStripeWhileAChargebackHeldACompletedOrder(t *testing.T) {
	for _, won := range []bool{true, false} {
		t.Run(map[bool]string{true: "won", false: "lost"}[won], func(t *testing.T) {
			w := newMoneyWorld(t, 23)
			w.quiesce()
			g := w.gigs[0]
			cur := w.currency(g)
			o := w.earn(g, w.buyers[0])
			lossesBefore, earned := w.balance(market.PlatformLossesAccount, cur), w.available(o.seller)
			pi, _ := w.fake.Intent(o.intent)
			refunded := earned * 3 / 4 // less than the seller's share: a refund first takes it all from them
			w.refundWhileAChargebackHolds(o.intent, refunded, pi.Amount-refunded, won)
			w.quiesce()
			seller := w.balance(market.SellerAvailableAccount(o.seller), cur) + w.balance(market.SellerDebtAccount(o.seller), cur)
			losses := w.balance(market.PlatformLossesAccount, cur)
			if won {
				if seller != earned-refunded || losses != lossesBefore {
					t.Errorf("won: the seller has %d and platform:losses is %d, want %d and %d as before", seller, losses, earned-refunded, lossesBefore)
				}
			} else if seller != 0 || losses != lossesBefore-(pi.Amount-earned) {
				t.Errorf("lost: the seller has %d and platform:losses is %d, want 0 and %d", seller, losses, lossesBefore-(pi.Amount-earned))
			}
			if err := w.checkInvariants(); err != nil {
				t.Error(err)
			}
		})
	}
}

// refundWhileAChargebackHolds refunds refunded of intent at the provider and disputes
// disputed of it, delivers the chargeback's event before the refund's (the refund is
// applied while the chargeback holds the order), then closes the dispute won or lost.
func (w *moneyWorld) refundWhileAChargebackHolds(intent string, refunded, disputed int64, won bool) {
	w.t.Helper()
	_, err := w.fake.RefundOutside(intent, refunded)
	w.must(err)
	dp, err := w.fake.Dispute(intent, disputed)
	w.must(err)
	events := w.fake.TakeEvents() // charge.refunded, charge.dispute.created
	if len(events) != 2 {
		w.t.Fatalf("the fake queued %d events, want 2", len(events))
	}
	w.must(w.deliver(events[1]))
	w.must(w.deliver(events[0]))
	w.must(w.fake.CloseDispute(dp, won))
}
