package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/payments/stripetest"
	"github.com/gigstream/hub/store"
	"github.com/gigstream/hub/store/storetest"
)

// moneyWorld is the property test's marketplace: a migrated database with sellers,
// their gigs in three currencies (USD, EUR and zero-decimal JPY) and buyers, the use
// cases wired as the binary wires them, and the recording Stripe fake they talk to.
type moneyWorld struct {
	t      testing.TB
	ctx    context.Context
	seed   uint64
	db     *store.DB
	raw    *sql.DB
	fake   *stripetest.Server
	cfg    config
	orders *market.Orders
	// settlement and payouts are the binary's, over the fake.
	settlement *market.Settlement
	payouts    *market.Payouts
	rec        *market.Reconciliation
	admin      market.User
	buyers     []string
	sellers    []string
	gigs       []moneyGig

	mu       sync.Mutex
	placed   []moneyOrder
	byID     map[string]moneyOrder
	webhooks []stripetest.Event // queued, not yet delivered (or to be delivered again)
	counts   map[string]int
}

type moneyGig struct{ id, seller string }

type moneyOrder struct {
	id, intent, buyer, seller string
	price                     int64
}

const (
	moneySellers  = 12 // the world's sellers unless newMoneyWorldOf says otherwise
	moneyBuyers   = 16
	moneyWebhook  = "whsec_moneyprop"
	moneyConnect  = "whsec_moneyprop_connect"
	moneyFeeBPS   = 1000
	moneyCurrency = "USD,EUR,JPY"
)

// newMoneyWorld builds the world of moneySellers sellers; every seller has a Stripe
// connected account whose account.updated (payouts enabled) is among the queued
// webhooks.
func newMoneyWorld(t testing.TB, seed uint64) *moneyWorld {
	t.Helper()
	return newMoneyWorldOf(t, seed, moneySellers)
}

// newMoneyWorldOf is newMoneyWorld with sellers sellers: few sellers under many
// workers queue on each seller's rows, a marketplace's many do not.
func newMoneyWorldOf(t testing.TB, seed uint64, sellers int) *moneyWorld {
	t.Helper()
	w := &moneyWorld{t: t, ctx: t.Context(), seed: seed, fake: stripetest.New(t), counts: map[string]int{}, byID: map[string]moneyOrder{}}
	w.openDatabase()
	w.seedUsers(seed, sellers)
	w.cfg = config{
		Stripe:         stripeConfig{APIBase: w.fake.URL, SecretKey: "sk_test_moneyprop", WebhookSecret: moneyWebhook},
		Payout:         payoutConfig{ConnectWebhookSecret: moneyConnect},
		Settlement:     settlementConfig{FeeBPS: moneyFeeBPS, ClearingPeriod: time.Nanosecond, WithdrawalRetryAfter: time.Nanosecond},
		Reconciliation: reconciliationConfig{Window: 24 * time.Hour},
		Billing: market.BillingConfig{ServiceFeeBPS: 500, ServiceFeeMin: map[string]int64{"USD": 150, "JPY": 200},
			TaxRates: map[string]int{"DE": 1900}, Issuer: market.Issuer{Name: "GigStream", Country: "DE"}},
	}
	log := slog.New(slog.DiscardHandler)
	connect, err := newConnect(w.cfg)
	w.must(err)
	w.settlement, err = newSettlement(w.cfg, w.db, nil, connect, log)
	w.must(err)
	w.payouts, err = newPayouts(w.cfg, w.db, nil, connect, w.settlement, log)
	w.must(err)
	w.orders, err = newOrders(w.cfg, w.db, nil, market.NewChat(w.db, nil, nil, nil, nil, market.ChatConfig{}, log), w.settlement, w.payouts, market.NewBilling(w.db, w.cfg.Billing), log)
	w.must(err)
	w.rec, err = newReconciliation(w.cfg, w.db)
	w.must(err)
	for _, id := range w.sellers {
		m, err := w.payouts.UseStripe(w.ctx, market.User{ID: id, IsSeller: true, Email: id + "@sellers.test"})
		w.must(err)
		w.fake.EnablePayouts(m.StripeAccountID)
	}
	return w
}

func (w *moneyWorld) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// openDatabase creates and migrates a fresh database (river's tables too: settlements
// queue invoice jobs).
func (w *moneyWorld) openDatabase() {
	url := storetest.NewDatabase(w.t)
	db, err := store.Open(w.ctx, store.Config{URL: url})
	w.must(err)
	w.t.Cleanup(func() { _ = db.Close() })
	m, err := store.NewMigrator(db, slog.New(slog.DiscardHandler))
	w.must(err)
	_, err = m.Up(w.ctx)
	w.must(err)
	_, err = db.MigrateJobs(w.ctx, slog.New(slog.DiscardHandler))
	w.must(err)
	raw, err := sql.Open("postgres", url)
	w.must(err)
	w.t.Cleanup(func() { _ = raw.Close() })
	w.db, w.raw = db, raw
}

// seedUsers inserts sellers sellers, their gigs (prices drawn from seed), the buyers
// and an admin.
func (w *moneyWorld) seedUsers(seed uint64, sellers int) {
	r := rand.New(rand.NewPCG(seed, 0))
	data := store.SeedData{Categories: []store.SeedCategory{{Slug: "work", Name: "Work"}}}
	currencies := strings.Split(moneyCurrency, ",")
	for i := range sellers {
		name := fmt.Sprintf("prop_seller_%d", i)
		data.Users = append(data.Users, store.SeedUser{Email: name + "@x.test", Username: name, DisplayName: name, IsSeller: true})
		cur := currencies[i%len(currencies)]
		price := 500 + r.Int64N(20_000)
		if cur == "JPY" {
			price = 300 + r.Int64N(30_000)
		}
		data.Gigs = append(data.Gigs, store.SeedGig{Slug: strings.ReplaceAll(name, "_", "-") + "-gig", SellerUsername: name, CategorySlug: "work",
			Title: "Work by " + name, Description: "A gig of the money property test, priced at random.",
			Packages: []store.SeedPackage{{Tier: "basic", Title: "Basic", PriceMinor: price, Currency: cur, DeliveryDays: 3, Revisions: 1}}})
	}
	for i := range moneyBuyers {
		name := fmt.Sprintf("prop_buyer_%d", i)
		data.Users = append(data.Users, store.SeedUser{Email: name + "@x.test", Username: name, DisplayName: name, IsBuyer: true})
	}
	data.Users = append(data.Users, store.SeedUser{Email: "prop_admin@x.test", Username: "prop_admin", DisplayName: "Admin"})
	_, err := w.db.Seed(w.ctx, data)
	w.must(err)
	_, err = w.raw.Exec(`UPDATE users SET is_admin = true WHERE username = 'prop_admin'`)
	w.must(err)
	w.must(w.raw.QueryRow(`SELECT id FROM users WHERE username = 'prop_admin'`).Scan(&w.admin.ID))
	w.admin.IsAdmin = true
	rows, err := w.raw.Query(`SELECT u.id, u.username, COALESCE(g.id::text, '') FROM users u LEFT JOIN gigs g ON g.seller_id = u.id
		WHERE u.username LIKE 'prop\_%' ORDER BY u.username`)
	w.must(err)
	defer rows.Close()
	for rows.Next() {
		var id, name, gig string
		w.must(rows.Scan(&id, &name, &gig))
		switch {
		case strings.HasPrefix(name, "prop_seller_"):
			w.sellers = append(w.sellers, id)
			w.gigs = append(w.gigs, moneyGig{id: gig, seller: id})
		case strings.HasPrefix(name, "prop_buyer_"):
			w.buyers = append(w.buyers, id)
		}
	}
	w.must(rows.Err())
}

// takeWebhook takes a random queued webhook, after queueing what the fake emitted.
func (w *moneyWorld) takeWebhook(r *rand.Rand) (stripetest.Event, bool) {
	fresh := w.fake.TakeEvents()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.webhooks = append(w.webhooks, fresh...)
	if len(w.webhooks) == 0 {
		return stripetest.Event{}, false
	}
	i := r.IntN(len(w.webhooks))
	ev := w.webhooks[i]
	w.webhooks[i] = w.webhooks[len(w.webhooks)-1]
	w.webhooks = w.webhooks[:len(w.webhooks)-1]
	return ev, true
}

func (w *moneyWorld) requeue(ev stripetest.Event) {
	w.mu.Lock()
	w.webhooks = append(w.webhooks, ev)
	w.mu.Unlock()
}

// deliver posts a webhook to the use case behind its endpoint, signed as Stripe signs it.
func (w *moneyWorld) deliver(ev stripetest.Event) error {
	if ev.Account != "" {
		body, sig := ev.Signed(moneyConnect)
		_, err := w.payouts.ApplyConnectWebhook(w.ctx, body, sig)
		return err
	}
	body, sig := ev.Signed(moneyWebhook)
	_, err := w.orders.ApplyStripeWebhook(w.ctx, body, sig)
	return err
}

// quiesce delivers every queued webhook (in random order, each failure retried) and
// runs the settlement sweeps until nothing is left to do, as the providers' retries
// and the settlement job would eventually.
func (w *moneyWorld) quiesce() {
	r := rand.New(rand.NewPCG(w.seed, 1<<40))
	for pass := 0; ; pass++ {
		if pass > 200 {
			w.t.Fatalf("seed %d: webhooks still failing after 200 passes", w.seed)
		}
		delivered := 0
		for {
			ev, ok := w.takeWebhook(r)
			if !ok {
				break
			}
			if err := w.deliver(ev); err != nil {
				w.t.Fatalf("seed %d: webhook %s %s at a quiet moment: %v", w.seed, ev.Type, ev.ID, err)
			}
			delivered++
		}
		refunded, err := w.settlement.RefundCancelledPayments(w.ctx, 500)
		w.must(err)
		retried, err := w.settlement.RetryPendingWithdrawals(w.ctx, 500)
		w.must(err)
		if delivered+refunded+retried == 0 {
			return
		}
	}
}

// finishEverything closes every open dispute (won) and pays every pending payout, then
// clears every earning, so the final checks see a ledger at rest.
func (w *moneyWorld) finishEverything() {
	for _, dp := range w.fake.OpenDisputes() {
		w.must(w.fake.CloseDispute(dp, true))
	}
	for _, p := range w.fake.PendingPayouts() {
		w.must(w.fake.FinishPayout(p.ID, true))
	}
	w.quiesce()
	_, err := w.settlement.ClearEarnings(w.ctx, 100_000)
	w.must(err)
}

// checkInvariants checks the ledger at a quiet moment: moneyInvariants, as the
// run's log states them.
func (w *moneyWorld) checkInvariants() error {
	var errs []error
	for _, check := range []func() error{w.checkTransactions, w.checkAccounts, w.checkAudit, w.checkFinalEscrow, w.checkPlatformLosses, w.checkProvider} {
		if err := check(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// moneyInvariants are what the property test holds the ledger to.
const moneyInvariants = `every ledger transaction sums to zero per currency; no account is negative but the
outside world's (external:*) and the debt accounts (seller:{id}:debt, platform:losses),
which are never positive; the balances (rows plus deferred postings) equal the sums of the postings; every final
order's escrow is zero; a reversal the platform paid part of (from platform:losses)
found the order's escrow empty and took all the seller earned on the order (a payment
after it repays the loss from the escrow); per currency, what the Stripe fake holds (its balance
transactions) plus external:stripe plus the withdrawals in transit is zero`

func (w *moneyWorld) checkTransactions() error {
	var n int
	var example sql.NullString
	err := w.raw.QueryRow(`SELECT count(*), min(transaction_id::text) FROM (SELECT transaction_id FROM ledger_postings
		GROUP BY transaction_id, currency HAVING sum(amount_minor) <> 0) t`).Scan(&n, &example)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%d ledger transactions do not sum to zero (e.g. %s)", n, example.String)
	}
	return nil
}

func (w *moneyWorld) checkAccounts() error {
	rows, err := w.raw.Query(`SELECT account, currency, sum(amount_minor) FROM ledger_postings GROUP BY account, currency`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var bad []string
	for rows.Next() {
		var account, currency string
		var sum int64
		if err := rows.Scan(&account, &currency, &sum); err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(account, "external:"):
		case market.IsDebtAccount(account) && sum > 0, !market.IsDebtAccount(account) && sum < 0:
			bad = append(bad, fmt.Sprintf("%s %s %d", account, currency, sum))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(bad) > 0 {
		return fmt.Errorf("accounts out of bounds: %s", strings.Join(bad, "; "))
	}
	return nil
}

func (w *moneyWorld) checkAudit() error {
	a, err := w.db.LedgerAudit(w.ctx)
	if err != nil {
		return err
	}
	if !a.OK {
		return fmt.Errorf("the ledger check fails: %+v", a)
	}
	return nil
}

func (w *moneyWorld) checkFinalEscrow() error {
	var n int
	var example sql.NullString
	err := w.raw.QueryRow(`SELECT count(*), min(o.id::text || ' ' || o.status || ' ' || b.balance_minor) FROM orders o
		JOIN ledger_balances b ON b.account = 'escrow:order:' || o.id
		WHERE o.status IN ('completed', 'cancelled') AND b.balance_minor <> 0`).Scan(&n, &example)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%d final orders hold escrow (e.g. %s; %s)", n, example.String, w.describeOrder(strings.Fields(example.String)[0]))
	}
	return nil
}

// describeOrder tells what happened to an order's money, for a failed check: its
// price, total and split, its reversals and its ledger transactions in order.
func (w *moneyWorld) describeOrder(id string) string {
	var out []string
	var head string
	if err := w.raw.QueryRow(`SELECT 'price ' || price_minor || ' refunded ' || refunded_minor ||
		' fee ' || fee_minor || ' seller ' || seller_minor || ' paid_at ' || COALESCE(paid_at::text, '-') FROM orders WHERE id = $1`, id).Scan(&head); err != nil {
		return err.Error()
	}
	out = append(out, head)
	rows, err := w.raw.Query(`SELECT 'reversal ' || kind || ' ' || status || ' ' || amount_minor || ' escrow ' || from_escrow ||
			' seller ' || from_seller || ' platform ' || from_platform || ' at ' || created_at::time FROM payment_reversals WHERE order_id = $1
		UNION ALL
		SELECT * FROM (SELECT t.reference || ' at ' || t.created_at::time || ': ' || string_agg(p.account || ' ' || p.amount_minor, ', ' ORDER BY p.id)
			FROM ledger_transactions t JOIN ledger_postings p ON p.transaction_id = t.id WHERE t.order_id = $1
			GROUP BY t.id ORDER BY min(p.id)) l`, id)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err.Error()
		}
		out = append(out, s)
	}
	return strings.Join(out, " | ")
}

// checkPlatformLosses checks that platform:losses paid only what an order's escrow and
// seller could not (market.ReversalRule): an order whose reversals (not won) took
// from it has an empty escrow and a seller who gave back all they earned on it. A
// payment applied after its own chargeback used to fund the whole escrow and leave
// the loss to the platform (TestChargebackBeforeThePaymentOfAPlacedOrderHoldsIt).
func (w *moneyWorld) checkPlatformLosses() error {
	var n int
	var example sql.NullString
	err := w.raw.QueryRow(`SELECT count(*), min(o.id::text || ' ' || o.status || ' escrow ' || COALESCE(b.balance_minor, 0) ||
			' seller earned ' || o.seller_minor || ' gave ' || r.from_seller || ' platform paid ' || r.from_platform)
		FROM orders o
		JOIN (SELECT order_id, sum(from_seller) AS from_seller, sum(from_platform) AS from_platform FROM payment_reversals
			WHERE status <> 'won' GROUP BY order_id) r ON r.order_id = o.id
		LEFT JOIN ledger_balances b ON b.account = 'escrow:order:' || o.id AND b.currency = o.currency
		WHERE r.from_platform > 0 AND (COALESCE(b.balance_minor, 0) <> 0 OR o.seller_minor > r.from_seller)`).Scan(&n, &example)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("%d orders had platform:losses pay part of a reversal while their escrow or seller still had it (e.g. %s; %s)",
			n, example.String, w.describeOrder(strings.Fields(example.String)[0]))
	}
	return nil
}

// checkProvider compares, per currency, the fake's balance with the ledger's view of
// it: external:stripe is minus what the provider holds for us, and a withdrawal in
// transit has left the provider's balance (transferred) but not yet the ledger's
// transit account.
func (w *moneyWorld) checkProvider() error {
	var errs []error
	for _, cur := range strings.Split(moneyCurrency, ",") {
		var external, transit int64
		err := w.raw.QueryRow(`SELECT COALESCE(sum(amount_minor) FILTER (WHERE account = 'external:stripe'), 0),
			COALESCE(sum(amount_minor) FILTER (WHERE account LIKE 'transit:withdrawal:%'), 0)
			FROM ledger_postings WHERE currency = $1`, cur).Scan(&external, &transit)
		if err != nil {
			return err
		}
		theirs := w.fake.Balance(strings.ToLower(cur))
		if theirs+external+transit != 0 {
			errs = append(errs, fmt.Errorf("%s: Stripe holds %d, the ledger says %d (external:stripe %d, in transit %d)",
				cur, theirs, -external-transit, external, transit))
		}
	}
	if len(errs) > 0 { // name the objects that differ
		if err := w.checkReconciliation(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkReconciliation runs the reconciliation with the fake's balance transactions:
// object by object, nothing may differ.
func (w *moneyWorld) checkReconciliation() error {
	runs, err := w.rec.Run(w.ctx, market.ProviderStripe)
	if err != nil {
		return fmt.Errorf("reconciliation: %w", err)
	}
	if len(runs) != 1 {
		return fmt.Errorf("reconciliation: %d runs for Stripe alone", len(runs))
	}
	run := runs[0]
	if len(run.Differences) > 0 {
		return fmt.Errorf("reconciliation found %d differences over %d lines: %+v", len(run.Differences), run.ProviderLines, run.Differences)
	}
	w.t.Logf("reconciliation: %d provider lines, %d objects compared, no difference", run.ProviderLines, run.Compared)
	return nil
}
