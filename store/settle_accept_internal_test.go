package store

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/gigstream/hub/market"
)

func TestShiftParams(t *testing.T) {
	for _, c := range []struct {
		in   string
		by   int
		want string
	}{
		{`SELECT $1, $2::text, $10`, 15, `SELECT $16, $17::text, $25`},
		{`VALUES ($9,$12)`, 0, `VALUES ($9,$12)`},
		{`WHERE a = 'x'`, 3, `WHERE a = 'x'`},
	} {
		if got := shiftParams(c.in, c.by); got != c.want {
			t.Errorf("shiftParams(%q, %d) = %q, want %q", c.in, c.by, got, c.want)
		}
	}
}

// TestAcceptWritesQueryParams checks that acceptWritesQuery's parts do not overlap:
// it uses each of writeAccept's 42 arguments, $1-$42, and no other.
func TestAcceptWritesQueryParams(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range paramRef.FindAllString(acceptWritesQuery, -1) {
		seen[p] = true
	}
	for i := 1; i <= 42; i++ {
		if p := "$" + strconv.Itoa(i); !seen[p] {
			t.Errorf("acceptWritesQuery does not use %s", p)
		}
		delete(seen, "$"+strconv.Itoa(i))
	}
	if len(seen) > 0 {
		t.Errorf("acceptWritesQuery uses parameters beyond $42: %v", seen)
	}
}

// TestAppendEventsByChannel stores events on three channels in one statement, one of
// them with events before: each channel's seqs follow its own, densely, in the order
// given, and the returned events are the stored ones.
func TestAppendEventsByChannel(t *testing.T) {
	db := openMigrated(t, Config{})
	ctx := context.Background()
	tx, err := db.x.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := appendEventsByChannel(ctx, tx, "earlier", map[string][]any{"user:b": {1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	data := map[string][]any{"user:c": {"c1", "c2"}, "user:a": {"a1"}, "user:b": {"b1", "b2", "b3"}}
	events, err := appendEventsByChannel(ctx, tx, "balance.updated", data)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		channel string
		seq     uint64
		data    string
	}{{"user:a", 1, `"a1"`}, {"user:b", 4, `"b1"`}, {"user:b", 5, `"b2"`}, {"user:b", 6, `"b3"`}, {"user:c", 1, `"c1"`}, {"user:c", 2, `"c2"`}}
	if len(events) != len(want) {
		t.Fatalf("%d events, want %d", len(events), len(want))
	}
	for i, w := range want {
		ev := events[i]
		var stored string
		if err := tx.GetContext(ctx, &stored, `SELECT data::text FROM events WHERE channel = $1 AND seq = $2 AND type = 'balance.updated'`, ev.Channel, ev.Seq); err != nil {
			t.Fatalf("event %d (%s #%d) not stored: %v", i, ev.Channel, ev.Seq, err)
		}
		if ev.Channel != w.channel || ev.Seq != w.seq || string(ev.Data) != w.data || stored != w.data {
			t.Errorf("event %d: %s #%d %s (stored %s), want %s #%d %s", i, ev.Channel, ev.Seq, ev.Data, stored, w.channel, w.seq, w.data)
		}
	}
	var seqs string
	if err := tx.GetContext(ctx, &seqs, `SELECT string_agg(channel || '=' || seq, ',' ORDER BY channel) FROM channel_seqs WHERE channel LIKE 'user:_'`); err != nil {
		t.Fatal(err)
	}
	if seqs != "user:a=1,user:b=6,user:c=2" {
		t.Errorf("channel counters %s", seqs)
	}
}

// TestLockSellerBalancesTakesEveryRowItPosts: the clearing's lock statement creates a
// seller's missing pending and available rows at zero (so they are locked with the
// others, in the global order, not later by the postings in theirs, which deadlocked
// two batches running at once), locks an existing debt row and returns its balance,
// and creates no debt row for a seller who owes nothing.
func TestLockSellerBalancesTakesEveryRowItPosts(t *testing.T) {
	db := openMigrated(t, Config{})
	ctx := context.Background()
	fresh, owing := "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
	if _, err := db.x.ExecContext(ctx, `INSERT INTO ledger_balances (account, currency, balance_minor) VALUES ($1, 'USD', -500)`,
		market.SellerDebtAccount(owing)); err != nil {
		t.Fatal(err)
	}
	tx, err := db.x.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	bal, err := lockSellerBalances(ctx, tx, []market.Order{{SellerID: fresh, Currency: "USD"}, {SellerID: owing, Currency: "USD"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := bal[balanceKey{market.SellerDebtAccount(owing), "USD"}]; d != -500 {
		t.Errorf("the owing seller's debt: %d, want -500", d)
	}
	var rows []string
	if err := tx.SelectContext(ctx, &rows, `SELECT account FROM ledger_balances WHERE currency = 'USD' ORDER BY account`); err != nil {
		t.Fatal(err)
	}
	want := []string{market.SellerAvailableAccount(fresh), market.SellerPendingAccount(fresh),
		market.SellerAvailableAccount(owing), market.SellerDebtAccount(owing), market.SellerPendingAccount(owing)}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("balance rows after the lock: %v, want %v", rows, want)
	}
}
