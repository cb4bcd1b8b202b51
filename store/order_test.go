package store_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
	"github.com/gigstream/hub/store/storetest"
)

// orderFixture is a migrated database with a published gig of seller_one and a buyer.
type orderFixture struct {
	db                      *store.DB
	raw                     *sql.DB
	buyer, seller           string
	gig                     string
	price                   int64
	currency                string
	revisionsOfBasicPackage int
}

func newOrderFixture(t *testing.T) orderFixture {
	t.Helper()
	ctx := context.Background()
	url := storetest.NewDatabase(t)
	db, err := store.Open(ctx, store.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := newMigrator(t, db).Up(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MigrateJobs(ctx, slog.New(slog.DiscardHandler)); err != nil { // settlements queue invoice jobs
		t.Fatal(err)
	}
	if _, err := db.Seed(ctx, testSeed); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	f := orderFixture{db: db, raw: raw, price: 1000, currency: "USD", revisionsOfBasicPackage: 1}
	must(t, raw.QueryRow(`SELECT id, seller_id FROM gigs`).Scan(&f.gig, &f.seller))
	b, err := db.CreateUser(ctx, market.NewUser{Email: "buyer@x.test", Username: "buyer_one", DisplayName: "Buyer", IsBuyer: true})
	must(t, err)
	f.buyer = b.ID
	return f
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// acceptOffer prices the offer at its price alone, as an order without billing is.
func acceptOffer(g market.GigOffer) (market.Quote, error) {
	return market.Quote{Currency: g.Currency, PriceMinor: g.PriceMinor, TotalMinor: g.PriceMinor}, nil
}

func (f orderFixture) place(t *testing.T, key string) market.PlacedOrder {
	t.Helper()
	p, err := f.db.PlaceOrder(context.Background(), market.NewOrder{
		BuyerID: f.buyer, GigID: f.gig, Tier: "basic", IdempotencyKey: key, RequestHash: "h",
	}, acceptOffer)
	must(t, err)
	return p
}

func TestPlaceOrderSnapshotsThePackageOncePerKey(t *testing.T) {
	f := newOrderFixture(t)
	first := f.place(t, "key-1")
	o := first.Order
	if !first.Created || o.Status != market.OrderPlaced || o.PriceMinor != f.price || o.Currency != f.currency ||
		o.SellerID != f.seller || o.PackageTier != "basic" || o.RevisionsAllowed != 1 || len(first.Events) != 1 {
		t.Fatalf("placed %+v", first)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			again, err := f.db.PlaceOrder(context.Background(), market.NewOrder{
				BuyerID: f.buyer, GigID: f.gig, Tier: "basic", IdempotencyKey: "key-1", RequestHash: "h",
			}, acceptOffer)
			if err != nil || again.Created || again.Order.ID != o.ID || again.RequestHash != "h" {
				t.Errorf("retry: %+v, %v", again, err)
			}
		}()
	}
	wg.Wait()
	list, err := f.db.Orders(context.Background(), f.buyer, "", nil, 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("orders after retries: %d, %v", len(list), err)
	}
	refused := errors.New("no")
	_, err = f.db.PlaceOrder(context.Background(), market.NewOrder{BuyerID: f.buyer, GigID: f.gig, Tier: "basic", IdempotencyKey: "key-2", RequestHash: "h"},
		func(market.GigOffer) (market.Quote, error) { return market.Quote{}, refused })
	if !errors.Is(err, refused) {
		t.Fatalf("refused offer: %v", err)
	}
	if again := f.place(t, "key-2"); !again.Created {
		t.Fatal("a refused request kept its key")
	}
}

func TestOrderIsInvisibleToOthers(t *testing.T) {
	f := newOrderFixture(t)
	o := f.place(t, "k").Order
	ctx := context.Background()
	if _, err := f.db.Order(ctx, o.ID, f.seller); err != nil {
		t.Fatalf("seller: %v", err)
	}
	if _, err := f.db.Order(ctx, o.ID, newUUID(t)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("stranger: %v", err)
	}
	if _, err := f.db.Deliveries(ctx, o.ID, newUUID(t)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("stranger's deliveries: %v", err)
	}
	if ok, _ := f.db.IsOrderParty(ctx, o.ID, newUUID(t)); ok {
		t.Fatal("stranger is a party")
	}
}

// fundDecision pays the order whatever its state, as a buggy decision would: the
// database must still refuse to fund one escrow twice.
func fundDecision(ord market.Order, _ *market.PaymentInfo) market.PaymentDecision {
	if ord.ID == "" {
		return market.PaymentDecision{Outcome: market.OutcomeUnknownOrder}
	}
	tx := market.FundEscrow(ord.ID, ord.PriceMinor, ord.Currency, "escrow_funding:order:"+ord.ID)
	d := market.PaymentDecision{Outcome: market.OutcomeApplied, Ledger: &tx, EventType: "order.paid", PaymentStatus: "succeeded"}
	if ord.Status == market.OrderPlaced {
		d.Status = market.OrderPaid
	}
	return d
}

func TestPaymentEventAppliesAtMostOnceUnderConcurrency(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	o := f.place(t, "k").Order
	_, err := f.db.RecordPayment(ctx, o.ID, market.PaymentInfo{Provider: "stripe", PaymentIntentID: "pi_1", ClientSecret: "s", AmountMinor: o.PriceMinor, Currency: o.Currency})
	must(t, err)
	ev := market.PaymentEvent{Provider: "stripe", ID: "evt_1", Type: market.StripePaymentSucceeded, OrderID: o.ID}
	outcomes := make(chan string, 20)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := f.db.ApplyPaymentEvent(ctx, ev, fundDecision)
			if err != nil {
				t.Error(err)
			}
			outcomes <- out.Outcome
		}()
	}
	wg.Wait()
	close(outcomes)
	applied := 0
	for oc := range outcomes {
		if oc == market.OutcomeApplied {
			applied++
		}
	}
	if applied != 1 {
		t.Fatalf("%d applied, want 1", applied)
	}
	// Another event id for the same payment: the ledger's reference refuses a second funding.
	ev.ID = "evt_2"
	if _, err := f.db.ApplyPaymentEvent(ctx, ev, fundDecision); err == nil {
		t.Fatal("a second funding of one escrow was accepted")
	}
	assertEscrow(t, f, o.ID, o.PriceMinor, 1)
	got, err := f.db.Order(ctx, o.ID, f.buyer)
	must(t, err)
	if got.Status != market.OrderPaid || got.PaidAt == nil || got.DueAt == nil || got.Payment.Status != "succeeded" {
		t.Fatalf("after payment: %+v %+v", got, got.Payment)
	}
	events, err := f.db.History(ctx, market.OrderChannel(o.ID), 0, 10)
	if err != nil || len(events) != 2 || events[1].Type != "order.paid" {
		t.Fatalf("order events: %+v, %v", events, err)
	}
}

func assertEscrow(t *testing.T, f orderFixture, orderID string, want int64, transactions int) {
	t.Helper()
	ctx := context.Background()
	bal, err := f.db.Balance(ctx, market.EscrowAccount(orderID), f.currency)
	must(t, err)
	n, err := f.db.LedgerTransactionsOf(ctx, orderID)
	must(t, err)
	if bal != want || n != transactions {
		t.Fatalf("escrow %d in %d transactions, want %d in %d", bal, n, want, transactions)
	}
}

func TestUnknownOrderEventChangesNothing(t *testing.T) {
	f := newOrderFixture(t)
	out, err := f.db.ApplyPaymentEvent(context.Background(), market.PaymentEvent{Provider: "stripe", ID: "evt_x", Type: market.StripePaymentSucceeded, OrderID: newUUID(t)}, fundDecision)
	if err != nil || out.Outcome != market.OutcomeUnknownOrder || len(out.Events) != 0 {
		t.Fatalf("unknown order: %+v, %v", out, err)
	}
}

func TestLedgerRulesHoldInTheDatabase(t *testing.T) {
	f := newOrderFixture(t)
	o := f.place(t, "k").Order
	escrow := market.EscrowAccount(o.ID)
	// A transaction without postings: refused at commit.
	if _, err := f.raw.Exec(`INSERT INTO ledger_transactions (kind, order_id, reference) VALUES ('escrow_funding', $1, 'empty')`, o.ID); err == nil {
		t.Fatal("a transaction without postings committed")
	}
	// Unbalanced: refused at commit.
	tx, err := f.raw.Begin()
	must(t, err)
	_, err = tx.Exec(`WITH t AS (INSERT INTO ledger_transactions (kind, reference) VALUES ('escrow_funding', 'unbalanced') RETURNING id)
		INSERT INTO ledger_postings (transaction_id, account, amount_minor, currency)
		SELECT id, 'external:stripe', -10, 'USD' FROM t UNION ALL SELECT id, $1, 9, 'USD' FROM t`, escrow)
	must(t, err)
	if err := tx.Commit(); err == nil {
		t.Fatal("an unbalanced transaction committed")
	}
	// Overdrawing escrow, even balanced: refused.
	_, err = f.raw.Exec(`WITH t AS (INSERT INTO ledger_transactions (kind, reference) VALUES ('escrow_funding', 'overdraw') RETURNING id)
		INSERT INTO ledger_postings (transaction_id, account, amount_minor, currency)
		SELECT id, $1, -5, 'USD' FROM t UNION ALL SELECT id, 'external:stripe', 5, 'USD' FROM t`, escrow)
	if err == nil {
		t.Fatal("escrow went negative")
	}
	// Balanced: accepted; then postings can be neither changed nor deleted.
	tx, err = f.raw.Begin()
	must(t, err)
	_, err = tx.Exec(`WITH t AS (INSERT INTO ledger_transactions (kind, order_id, reference) VALUES ('escrow_funding', $2, 'ok') RETURNING id)
		INSERT INTO ledger_postings (transaction_id, account, amount_minor, currency)
		SELECT id, 'external:stripe', -10, 'USD' FROM t UNION ALL SELECT id, $1, 10, 'USD' FROM t`, escrow, o.ID)
	must(t, err)
	must(t, tx.Commit())
	for _, stmt := range []string{`UPDATE ledger_postings SET amount_minor = 1`, `DELETE FROM ledger_postings`, `TRUNCATE ledger_postings CASCADE`, `DELETE FROM ledger_transactions`} {
		if _, err := f.raw.Exec(stmt); err == nil {
			t.Errorf("%s succeeded", stmt)
		}
	}
	assertEscrow(t, f, o.ID, 10, 1)

	// Balances move once per statement (migration 00080): several postings of one
	// account in one statement add up, and the CHECK judges what they leave.
	debt := market.SellerDebtAccount(f.seller)
	for _, c := range []struct {
		name, ref string
		postings  [][2]any // account, amount
		ok        bool
	}{
		// A debt account is never positive, even when it is created by the statement.
		{"a positive debt account", "debt-up", [][2]any{{debt, int64(7)}, {"external:stripe", int64(-7)}}, false},
		// A debt account goes negative: its row is created so.
		{"a seller's debt", "debt-down", [][2]any{{debt, int64(-7)}, {"external:stripe", int64(7)}}, true},
		// Two postings of the escrow in one statement: 10 - 4 - 4 leaves 2.
		{"the escrow twice", "twice", [][2]any{{escrow, int64(-4)}, {escrow, int64(-4)}, {"external:stripe", int64(8)}}, true},
		// Two postings that together overdraw the escrow: 2 - 1 - 2.
		{"the escrow overdrawn by two postings", "overdraw-twice", [][2]any{{escrow, int64(-1)}, {escrow, int64(-2)}, {"external:stripe", int64(3)}}, false},
	} {
		accounts, amounts := make([]string, len(c.postings)), make([]int64, len(c.postings))
		for i, p := range c.postings {
			accounts[i], amounts[i] = p[0].(string), p[1].(int64)
		}
		_, err := f.raw.Exec(`WITH t AS (INSERT INTO ledger_transactions (kind, reference) VALUES ('reversal', $1) RETURNING id)
			INSERT INTO ledger_postings (transaction_id, account, amount_minor, currency)
			SELECT t.id, p.a, p.x, 'USD' FROM t, unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS p(a, x, n) ORDER BY p.n`,
			c.ref, pq.Array(accounts), pq.Array(amounts))
		if (err == nil) != c.ok {
			t.Errorf("%s: committed %v, want %v (%v)", c.name, err == nil, c.ok, err)
		}
	}
	var escrowBalance, debtBalance int64
	must(t, f.raw.QueryRow(`SELECT balance_minor FROM ledger_balances WHERE account = $1`, escrow).Scan(&escrowBalance))
	must(t, f.raw.QueryRow(`SELECT balance_minor FROM ledger_balances WHERE account = $1`, debt).Scan(&debtBalance))
	if escrowBalance != 2 || debtBalance != -7 {
		t.Errorf("escrow %d, debt %d after the statements: want 2 and -7", escrowBalance, debtBalance)
	}
	// Every balance row equals the sum of its account's postings.
	var drift int
	must(t, f.raw.QueryRow(`SELECT count(*) FROM ledger_account_balances b
		FULL JOIN (SELECT account, currency, sum(amount_minor) AS total FROM ledger_postings GROUP BY account, currency) p
		USING (account, currency) WHERE b.balance_minor IS DISTINCT FROM p.total`).Scan(&drift))
	if drift != 0 {
		t.Errorf("%d accounts' balances differ from their postings", drift)
	}
}
