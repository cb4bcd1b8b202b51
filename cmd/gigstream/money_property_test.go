package main

import (
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

// TestMoneyProperty is the quick, bounded run of the money property (see
// BenchmarkMoneyProperty) that make test runs: moneyQuickOps operations by default
// (about 20 s under -race on the shared 2-core machine at load ~20), with a fresh
// seed each run, logged; MONEYPROP_SEED replays a run's choices and MONEYPROP_OPS
// sets the number of operations.
func TestMoneyProperty(t *testing.T) {
	seed, ops := moneyPropertySettings(t, moneyQuickOps)
	runMoneyProperty(t, seed, ops)
}

// BenchmarkMoneyProperty is the long randomized concurrent property run of the money
// system (make bench runs 20,000 operations; one run whatever b.N; it reports ops/s).
// See runMoneyProperty; MONEYPROP_OPS sets the number of operations (default 2,400)
// and MONEYPROP_SEED replays a run's choices.
func BenchmarkMoneyProperty(b *testing.B) {
	seed, ops := moneyPropertySettings(b, 2400)
	b.ResetTimer()
	runMoneyProperty(b, seed, ops)
}

// runMoneyProperty is the randomized concurrent property test of the money system:
// moneyWorkers goroutines run operations chosen by a seeded RNG over many orders and
// sellers (place, pay, deliver, accept, cancel, partial refunds by an admin, refunds
// in Stripe's dashboard, chargebacks opened and closed won or lost, clearing,
// withdrawals, payouts paid or failed, the settlement sweeps), while the webhooks the
// provider fake queues are delivered late, out of order and more than once through
// the real verification and use cases (Orders.ApplyStripeWebhook,
// Payouts.ApplyConnectWebhook). Everything runs through the wiring the binary uses
// (newOrders, newSettlement, newPayouts, newReconciliation) over real Postgres, with
// payments' Stripe adapters talking to the recording fake (payments/stripetest).
//
// At each quiet checkpoint (every worker stopped, every queued webhook delivered) it
// checks moneyInvariants; at the end the reconciliation with the fake's balance
// transactions must find no difference. The seed is logged; the interleaving is the
// scheduler's.
func runMoneyProperty(t testing.TB, seed uint64, ops int) {
	t.Logf("money property: seed %d (MONEYPROP_SEED=%d replays it), %d operations, %d workers", seed, seed, ops, moneyWorkers)
	t.Logf("invariants: %s", moneyInvariants)
	w := newMoneyWorld(t, seed)
	rounds := max(1, ops/(moneyWorkers*moneyOpsPerTurn))
	start := time.Now()
	for round := range rounds {
		w.turn(round)
		w.quiesce()
		if err := w.checkInvariants(); err != nil {
			t.Fatalf("seed %d, after round %d (%d operations): %v", seed, round+1, (round+1)*moneyWorkers*moneyOpsPerTurn, err)
		}
	}
	w.quiesce()
	w.finishEverything()
	if err := w.checkInvariants(); err != nil {
		t.Fatalf("seed %d, after the last payouts: %v", seed, err)
	}
	if err := w.checkReconciliation(); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	took := time.Since(start)
	done := rounds * moneyWorkers * moneyOpsPerTurn
	if b, ok := t.(*testing.B); ok {
		b.ReportMetric(float64(done)/took.Seconds(), "ops/s")
	}
	t.Logf("money property: seed %d: %d operations in %s; %s; %d payments applied after a reversal of them (of placed orders: %d)",
		seed, done, took.Round(time.Millisecond), w.summary(), w.earlyReversals(""), w.earlyReversals("placed"))
}

const (
	moneyWorkers    = 8    // goroutines running operations at once
	moneyOpsPerTurn = 40   // operations each worker runs between checkpoints
	moneyQuickOps   = 2560 // TestMoneyProperty's default: 8 checkpoints
)

// moneyPropertySettings reads MONEYPROP_SEED (default: the clock) and MONEYPROP_OPS
// (default defaultOps).
func moneyPropertySettings(t testing.TB, defaultOps int) (seed uint64, ops int) {
	seed, ops = uint64(time.Now().UnixNano()), defaultOps
	if v := os.Getenv("MONEYPROP_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("MONEYPROP_SEED=%q: %v", v, err)
		}
		seed = n
	}
	if v := os.Getenv("MONEYPROP_OPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("MONEYPROP_OPS=%q: a positive number", v)
		}
		ops = n
	}
	return seed, ops
}

// moneyOp is one kind of operation, chosen with its weight.
type moneyOp struct {
	name   string
	weight int
	run    func(w *moneyWorld, r *rand.Rand) error
}

var moneyOps = []moneyOp{
	{"place", 12, (*moneyWorld).opPlace},
	{"pay", 12, (*moneyWorld).opPay},
	{"pay_dispute", 2, (*moneyWorld).opPayDispute},
	{"deliver", 9, (*moneyWorld).opDeliver},
	{"accept", 9, (*moneyWorld).opAccept},
	{"cancel", 3, (*moneyWorld).opCancel},
	{"admin_refund", 4, (*moneyWorld).opAdminRefund},
	{"dashboard_refund", 3, (*moneyWorld).opDashboardRefund},
	{"dispute_open", 3, (*moneyWorld).opDisputeOpen},
	{"dispute_close", 3, (*moneyWorld).opDisputeClose},
	{"webhooks", 20, (*moneyWorld).opWebhooks},
	{"clear", 4, (*moneyWorld).opClear},
	{"withdraw", 8, (*moneyWorld).opWithdraw},
	{"payout_finish", 6, (*moneyWorld).opPayoutFinish},
	{"sweeps", 2, (*moneyWorld).opSweeps},
}

// turn runs moneyOpsPerTurn operations on each of moneyWorkers goroutines, each with
// its own RNG drawn from the world's, and fails the test on an error that is not a
// domain refusal.
func (w *moneyWorld) turn(round int) {
	total := 0
	for _, op := range moneyOps {
		total += op.weight
	}
	var wg sync.WaitGroup
	for i := range moneyWorkers {
		r := rand.New(rand.NewPCG(w.seed, uint64(round*moneyWorkers+i+1)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range moneyOpsPerTurn {
				op := pickOp(r.IntN(total))
				err := op.run(w, r)
				w.count(op.name, err)
				if err != nil && market.ErrorCode(err) == "" && !errors.Is(err, errNothingToDo) {
					w.t.Errorf("seed %d round %d: %s: %v", w.seed, round+1, op.name, err)
				}
			}
		}()
	}
	wg.Wait()
	if w.t.Failed() {
		w.t.FailNow()
	}
}

func pickOp(n int) moneyOp {
	for _, op := range moneyOps {
		if n < op.weight {
			return op
		}
		n -= op.weight
	}
	return moneyOps[0]
}

// errNothingToDo is an operation that found nothing to act on (no order yet).
var errNothingToDo = errors.New("nothing to do")

// count tallies an operation's result: ok, or the domain code that refused it.
func (w *moneyWorld) count(op string, err error) {
	res := "ok"
	switch {
	case errors.Is(err, errNothingToDo):
		res = "idle"
	case err != nil && market.ErrorCode(err) != "":
		res = string(market.ErrorCode(err))
	case err != nil:
		res = "error"
	}
	w.mu.Lock()
	w.counts[op+":"+res]++
	w.mu.Unlock()
}

// summary lists the tallies, sorted.
func (w *moneyWorld) summary() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	keys := make([]string, 0, len(w.counts))
	for k := range w.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, w.counts[k])
	}
	return strings.Join(parts, " ")
}

func (w *moneyWorld) opPlace(r *rand.Rand) error {
	g := w.gigs[r.IntN(len(w.gigs))]
	buyer := w.buyers[r.IntN(len(w.buyers))]
	key := uuid.NewString()
	ord, _, err := w.orders.PlaceOrder(w.ctx, market.NewOrder{BuyerID: buyer, GigID: g.id, Tier: "basic", IdempotencyKey: key})
	if err != nil {
		return err
	}
	if r.IntN(10) == 0 { // the client retries: the same order comes back
		again, created, err := w.orders.PlaceOrder(w.ctx, market.NewOrder{BuyerID: buyer, GigID: g.id, Tier: "basic", IdempotencyKey: key})
		if err != nil || created || again.ID != ord.ID {
			return fmt.Errorf("retried placement: %s created %v (first %s): %w", again.ID, created, ord.ID, err)
		}
	}
	if ord.Payment == nil {
		return fmt.Errorf("order %s has no payment", ord.ID)
	}
	w.mu.Lock()
	o := moneyOrder{id: ord.ID, intent: ord.Payment.PaymentIntentID, buyer: buyer, seller: g.seller, price: ord.PriceMinor}
	w.placed, w.byID[o.id] = append(w.placed, o), o
	w.mu.Unlock()
	return nil
}

// pickOrder picks an order: three times in four one whose status is among statuses
// (so orders get far in their lives), otherwise any (so wrong moves are tried too).
func (w *moneyWorld) pickOrder(r *rand.Rand, statuses ...market.OrderStatus) (moneyOrder, error) {
	w.mu.Lock()
	n := len(w.placed)
	var o moneyOrder
	if n > 0 {
		o = w.placed[r.IntN(n)]
	}
	w.mu.Unlock()
	if n == 0 {
		return moneyOrder{}, errNothingToDo
	}
	if len(statuses) == 0 || r.IntN(4) == 0 {
		return o, nil
	}
	names := make([]string, len(statuses))
	for i, st := range statuses {
		names[i] = string(st)
	}
	var id string
	err := w.raw.QueryRowContext(w.ctx, `SELECT id FROM orders WHERE status = ANY($1) ORDER BY md5(id::text || $2) LIMIT 1`,
		pq.Array(names), r.Uint64()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return o, nil
	}
	if err != nil {
		return moneyOrder{}, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if picked, ok := w.byID[id]; ok {
		return picked, nil
	}
	return o, nil // placed by a worker that has not recorded it yet
}

// opPay is the buyer's bank charging the order's PaymentIntent; the webhook follows.
func (w *moneyWorld) opPay(r *rand.Rand) error {
	o, err := w.pickOrder(r, market.OrderPlaced)
	if err != nil {
		return err
	}
	return w.fake.Succeed(o.intent)
}

// opPayDispute is the buyer's bank charging a placed order's PaymentIntent and at
// once charging it back: payment_intent.succeeded and charge.dispute.created are
// queued together, so the chargeback is applied before the payment about as often as
// after (market.EarlyReversalRule). The whole charge is disputed, as opDisputeOpen
// does: part of a late payment of a cancelled order left in its escrow while its
// chargeback is open cannot be refunded (Stripe refuses refunds of a disputed charge)
// and would fail the final-escrow check until the chargeback closes.
func (w *moneyWorld) opPayDispute(r *rand.Rand) error {
	o, err := w.pickOrder(r, market.OrderPlaced)
	if err != nil {
		return err
	}
	if pi, ok := w.fake.Intent(o.intent); !ok || pi.Charge != "" {
		return errNothingToDo // paid already
	}
	if err := w.fake.Succeed(o.intent); err != nil {
		return err
	}
	pi, _ := w.fake.Intent(o.intent)
	if _, err := w.fake.Dispute(o.intent, pi.Amount-pi.Refunded); err != nil {
		return errNothingToDo // another worker paid and disputed it meanwhile
	}
	return nil
}

// earlyReversals counts the orders whose payment was applied after a reversal of it
// (orders whose status at the reversal was placed, when placedOnly is "placed": the
// ones market.EarlyReversalRule is about; those cancelled first are LatePaymentRule's).
func (w *moneyWorld) earlyReversals(placedOnly string) int {
	w.t.Helper()
	var n int
	w.must(w.raw.QueryRowContext(w.ctx, `SELECT count(DISTINCT o.id) FROM orders o JOIN payment_reversals r ON r.order_id = o.id
		JOIN ledger_transactions t ON t.order_id = o.id AND t.reference = 'escrow_funding:order:' || o.id
		WHERE r.created_at < t.created_at AND ($1 = '' OR o.paid_at IS NOT NULL)`, placedOnly).Scan(&n))
	return n
}

func (w *moneyWorld) opDeliver(r *rand.Rand) error {
	o, err := w.pickOrder(r, market.OrderPaid, market.OrderRevisionRequested)
	if err != nil {
		return err
	}
	up, _, err := w.db.CreateUpload(w.ctx, market.NewUpload{OwnerID: o.seller, Kind: market.UploadDeliverable, Filename: "work.zip", OrderID: &o.id})
	if err != nil {
		return err
	}
	if _, _, err := w.db.SettleUpload(w.ctx, up.ID, market.StoredObject{Key: "k/" + up.ID, Size: 3, SHA256: strings.Repeat("a", 64),
		ContentType: "application/zip", Filename: "work.zip"}); err != nil {
		return err
	}
	_, err = w.orders.Deliver(w.ctx, market.NewDelivery{OrderID: o.id, UserID: o.seller, Note: "here it is", UploadIDs: []string{up.ID}})
	return err
}

func (w *moneyWorld) opAccept(r *rand.Rand) error {
	o, err := w.pickOrder(r, market.OrderDelivered)
	if err != nil {
		return err
	}
	_, _, err = w.settlement.Accept(w.ctx, o.id, o.buyer, uuid.NewString())
	return err
}

func (w *moneyWorld) opCancel(r *rand.Rand) error {
	o, err := w.pickOrder(r, market.OrderPlaced, market.OrderPaid)
	if err != nil {
		return err
	}
	who := o.buyer
	if r.IntN(2) == 0 {
		who = o.seller
	}
	_, _, err = w.settlement.Cancel(w.ctx, o.id, who, uuid.NewString())
	return err
}

// opAdminRefund refunds part (sometimes all, sometimes too much) of an order's escrow.
func (w *moneyWorld) opAdminRefund(r *rand.Rand) error {
	o, err := w.pickOrder(r, market.OrderPaid, market.OrderDelivered)
	if err != nil {
		return err
	}
	amount := 1 + r.Int64N(o.price+1)
	_, _, err = w.settlement.Refund(w.ctx, o.id, w.admin, amount, "the property test refunds", uuid.NewString())
	return err
}

// opDashboardRefund refunds part of a charge in Stripe's dashboard.
func (w *moneyWorld) opDashboardRefund(r *rand.Rand) error {
	o, err := w.pickOrder(r, market.OrderPaid, market.OrderDelivered, market.OrderCompleted)
	if err != nil {
		return err
	}
	pi, ok := w.fake.Intent(o.intent)
	if !ok || pi.Charge == "" || pi.Dispute != "" || pi.Refunded >= pi.Amount {
		return errNothingToDo
	}
	_, err = w.fake.RefundOutside(o.intent, 1+r.Int64N(pi.Amount-pi.Refunded))
	if err != nil { // a refund of ours got there first
		return errNothingToDo
	}
	return nil
}

// opDisputeOpen has the buyer's bank charge back what is left of a charge.
func (w *moneyWorld) opDisputeOpen(r *rand.Rand) error {
	o, err := w.pickOrder(r, market.OrderPaid, market.OrderDelivered, market.OrderCompleted)
	if err != nil {
		return err
	}
	pi, ok := w.fake.Intent(o.intent)
	if !ok || pi.Charge == "" || pi.Dispute != "" || pi.Refunded >= pi.Amount {
		return errNothingToDo
	}
	if _, err := w.fake.Dispute(o.intent, pi.Amount-pi.Refunded); err != nil {
		return errNothingToDo // refunded meanwhile
	}
	return nil
}

func (w *moneyWorld) opDisputeClose(r *rand.Rand) error {
	open := w.fake.OpenDisputes()
	if len(open) == 0 {
		return errNothingToDo
	}
	sort.Strings(open)
	if err := w.fake.CloseDispute(open[r.IntN(len(open))], r.IntN(2) == 0); err != nil {
		return errNothingToDo // closed by another worker
	}
	return nil
}

func (w *moneyWorld) opClear(*rand.Rand) error {
	_, err := w.settlement.ClearEarnings(w.ctx, 200)
	return err
}

// opWithdraw withdraws part of a seller's available balance (now and then more than
// it, which must be refused).
func (w *moneyWorld) opWithdraw(r *rand.Rand) error {
	seller := w.sellers[r.IntN(len(w.sellers))]
	balances, err := w.settlement.Balances(w.ctx, seller)
	if err != nil {
		return err
	}
	for _, b := range balances {
		if b.Available <= 0 {
			continue
		}
		amount := 1 + r.Int64N(b.Available)
		if r.IntN(10) == 0 {
			amount = b.Available + 1
		}
		_, _, err := w.settlement.Withdraw(w.ctx, market.NewWithdrawal{UserID: seller, AmountMinor: amount, Currency: b.Currency,
			IdempotencyKey: uuid.NewString()})
		return err
	}
	return errNothingToDo
}

// opPayoutFinish has the seller's bank pay (4 in 5) or return a pending payout.
func (w *moneyWorld) opPayoutFinish(r *rand.Rand) error {
	pending := w.fake.PendingPayouts()
	if len(pending) == 0 {
		return errNothingToDo
	}
	sort.Slice(pending, func(i, j int) bool { return pending[i].ID < pending[j].ID })
	if err := w.fake.FinishPayout(pending[r.IntN(len(pending))].ID, r.IntN(5) > 0); err != nil {
		return errNothingToDo // finished by another worker
	}
	return nil
}

// opSweeps runs what the settlement job runs besides clearing: refunds of payments
// that arrived for cancelled orders and retries of pending withdrawals.
func (w *moneyWorld) opSweeps(*rand.Rand) error {
	if _, err := w.settlement.RefundCancelledPayments(w.ctx, 200); err != nil {
		return err
	}
	_, err := w.settlement.RetryPendingWithdrawals(w.ctx, 200)
	return err
}

// opWebhooks delivers a few queued webhooks in random order; one in five is queued
// again to arrive a second time later.
func (w *moneyWorld) opWebhooks(r *rand.Rand) error {
	for range 1 + r.IntN(4) {
		ev, ok := w.takeWebhook(r)
		if !ok {
			return nil
		}
		if r.IntN(5) == 0 {
			w.requeue(ev)
		}
		if err := w.deliver(ev); err != nil {
			w.requeue(ev) // the provider retries what failed
			return err
		}
	}
	return nil
}
