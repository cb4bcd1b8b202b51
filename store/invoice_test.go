package store_test

import (
	"context"
	"database/sql"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

// invoiceNumbers lists the sequence numbers of a series in order.
func (f orderFixture) invoiceNumbers(t *testing.T, prefix string) []int64 {
	t.Helper()
	rows, err := f.raw.Query(`SELECT number FROM invoices WHERE series = $1 || '-' || to_char(now() AT TIME ZONE 'UTC', 'YYYY') ORDER BY number`, prefix)
	must(t, err)
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var n int64
		must(t, rows.Scan(&n))
		out = append(out, n)
	}
	return out
}

func assertGapless(t *testing.T, series string, got []int64, want int) {
	t.Helper()
	if len(got) != want {
		t.Fatalf("%s: %d numbers, want %d", series, len(got), want)
	}
	for i, n := range got {
		if n != int64(i+1) {
			t.Fatalf("%s: number %d at position %d: %v", series, n, i+1, got)
		}
	}
}

func TestInvoiceNumbersAreGaplessUnderConcurrentSettlements(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	money := &fakeMoney{}
	s := f.settlement(money, market.SettlementConfig{Issuer: market.Issuer{Name: "GigStream GmbH", Country: "DE"}})
	const accepts, cancels = 24, 12
	var orders []market.Order
	for range accepts + cancels {
		orders = append(orders, f.deliveredOrder(t, time.Now()))
	}
	var wg sync.WaitGroup
	for i, o := range orders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i < accepts {
				_, _, err = s.Accept(ctx, o.ID, f.buyer, "accept")
			} else {
				_, _, err = s.Cancel(ctx, o.ID, f.seller, "cancel")
			}
			if err != nil {
				t.Errorf("settle %s: %v", o.ID, err)
			}
		}()
	}
	wg.Wait()
	assertGapless(t, "INV", f.invoiceNumbers(t, "INV"), accepts+cancels)
	assertGapless(t, "CN", f.invoiceNumbers(t, "CN"), cancels)
	// Every credit note credits the invoice of its own order.
	var wrong int
	must(t, f.raw.QueryRow(`SELECT count(*) FROM invoices c JOIN invoices i ON i.id = c.credits_invoice_id
		WHERE c.kind = 'credit_note' AND (i.order_id <> c.order_id OR i.kind <> 'invoice'
			OR c.document->>'credits_number' <> i.document->>'number')`).Scan(&wrong))
	// Every document prints its own number, and every delivery job is of a stored one.
	var misprinted, orphans int
	must(t, f.raw.QueryRow(`SELECT count(*) FROM invoices WHERE document->>'number' IS DISTINCT FROM series || '-' || lpad(number::text, 6, '0')`).Scan(&misprinted))
	must(t, f.raw.QueryRow(`SELECT count(*) FROM river_job j WHERE kind = 'invoice_deliver'
		AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.id::text = j.args->>'invoice_id')`).Scan(&orphans))
	var jobs int
	must(t, f.raw.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'invoice_deliver'`).Scan(&jobs))
	if wrong != 0 || jobs != accepts+2*cancels || misprinted != 0 || orphans != 0 {
		t.Fatalf("%d credit notes credit the wrong invoice; %d delivery jobs, %d of no invoice; %d documents misprint their number", wrong, jobs, orphans, misprinted)
	}
}

func TestRefusedSettlementTakesNoNumber(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	money := &fakeMoney{}
	s := f.settlement(money, market.SettlementConfig{})
	first, failing, last := f.deliveredOrder(t, time.Now()), f.deliveredOrder(t, time.Now()), f.deliveredOrder(t, time.Now())
	if _, _, err := s.Accept(ctx, first.ID, f.buyer, "k"); err != nil {
		t.Fatal(err)
	}
	money.fail.Store(true)
	if _, _, err := s.Cancel(ctx, failing.ID, f.seller, "k"); market.ErrorCode(err) != market.CodeUnavailable {
		t.Fatalf("cancel with the provider down: %v", err)
	}
	money.fail.Store(false)
	if _, _, err := s.Accept(ctx, last.ID, f.buyer, "k"); err != nil {
		t.Fatal(err)
	}
	assertGapless(t, "INV", f.invoiceNumbers(t, "INV"), 2)
	var doc struct{ Number, Customer string }
	must(t, f.raw.QueryRow(`SELECT document->>'number', document->'customer'->>'name' FROM invoices WHERE order_id = $1`, last.ID).
		Scan(&doc.Number, &doc.Customer))
	if want := market.InvoiceNumber(market.InvoiceSeries(market.InvoiceKindInvoice, time.Now().UTC().Year()), 2); doc.Number != want || doc.Customer != "Buyer" {
		t.Fatalf("the second invoice: %+v, want %s for Buyer", doc, want)
	}
	invs, err := f.db.OrderInvoices(ctx, last.ID)
	if err != nil || len(invs) != 1 || invs[0].TotalMinor != f.price || invs[0].Ready {
		t.Fatalf("order invoices: %+v, %v", invs, err)
	}
}

// TestInvoiceNumberTakenAtCommitIsReturnedByAFailedCommit: an invoice is numbered by
// a deferred trigger at commit (migration 00081). Inside its transaction it has no
// number yet; a commit that fails after the numbering (a check queued after the
// invoice: a ledger transaction without postings) returns the number, so the next
// settlement takes it.
func TestInvoiceNumberTakenAtCommitIsReturnedByAFailedCommit(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	s := f.settlement(&fakeMoney{}, market.SettlementConfig{})
	first, next := f.deliveredOrder(t, time.Now()), f.deliveredOrder(t, time.Now())
	if _, _, err := s.Accept(ctx, first.ID, f.buyer, "k"); err != nil {
		t.Fatal(err)
	}
	series := market.InvoiceSeries(market.InvoiceKindInvoice, time.Now().UTC().Year())
	tx, err := f.raw.Begin()
	must(t, err)
	_, err = tx.Exec(`INSERT INTO invoices (order_id, kind, series, currency, net_minor, tax_minor, total_minor, document)
		VALUES ($1, 'invoice', $2, 'USD', 1, 0, 1, '{"number": ""}')`, next.ID, series)
	must(t, err)
	var number sql.NullInt64
	must(t, tx.QueryRow(`SELECT number FROM invoices WHERE order_id = $1`, next.ID).Scan(&number))
	if number.Valid {
		t.Fatalf("numbered before commit: %d", number.Int64)
	}
	_, err = tx.Exec(`INSERT INTO ledger_transactions (kind, reference) VALUES ('escrow_funding', 'no postings')`)
	must(t, err)
	if err := tx.Commit(); err == nil {
		t.Fatal("a ledger transaction without postings committed")
	}
	if _, _, err := s.Accept(ctx, next.ID, f.buyer, "k"); err != nil {
		t.Fatal(err)
	}
	assertGapless(t, "INV", f.invoiceNumbers(t, "INV"), 2)
	var printed string
	must(t, f.raw.QueryRow(`SELECT document->>'number' FROM invoices WHERE order_id = $1`, next.ID).Scan(&printed))
	if want := market.InvoiceNumber(series, 2); printed != want {
		t.Fatalf("the second invoice prints %q, want %q", printed, want)
	}
}

// TestInvoiceOfASeriesWithoutCounterIsRefusedAtCommit: the series' foreign key to its
// counter row is checked at commit (migration 00082), and still checked.
func TestInvoiceOfASeriesWithoutCounterIsRefusedAtCommit(t *testing.T) {
	f := newOrderFixture(t)
	o := f.deliveredOrder(t, time.Now())
	tx, err := f.raw.Begin()
	must(t, err)
	_, err = tx.Exec(`INSERT INTO invoices (order_id, kind, series, currency, net_minor, tax_minor, total_minor, document)
		VALUES ($1, 'invoice', 'INV-1999', 'USD', 1, 0, 1, '{"number": ""}')`, o.ID)
	must(t, err)
	if err := tx.Commit(); err == nil {
		t.Fatal("an invoice of a series without a counter row committed")
	}
	var n int
	must(t, f.raw.QueryRow(`SELECT count(*) FROM invoices WHERE series = 'INV-1999'`).Scan(&n))
	if n != 0 {
		t.Fatalf("%d invoices of INV-1999 stored", n)
	}
}

// TestInvoiceJobRowIsRiversRow checks that the delivery job an accept queues with its
// invoice (one statement, store's insertInvoiceQuery) is the row river's own InsertTx
// writes for the same job: the same kind, args, queue, state, attempts, priority,
// tags, metadata and no unique key, and due now.
func TestInvoiceJobRowIsRiversRow(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	o := f.deliveredOrder(t, time.Now())
	if _, _, err := f.settlement(&fakeMoney{}, market.SettlementConfig{}).Accept(ctx, o.ID, f.buyer, "accept"); err != nil {
		t.Fatal(err)
	}
	var invoiceID string
	must(t, f.raw.QueryRow(`SELECT id FROM invoices WHERE order_id = $1`, o.ID).Scan(&invoiceID))
	jobs, err := river.NewClient(riverdatabasesql.New(nil), &river.Config{})
	must(t, err)
	tx, err := f.raw.BeginTx(ctx, nil)
	must(t, err)
	res, err := jobs.InsertTx(ctx, tx, store.InvoiceDeliverJob{InvoiceID: invoiceID}, nil)
	must(t, err)
	must(t, tx.Commit())
	const row = `SELECT kind, args::text, queue, state::text, attempt, max_attempts, priority, tags::text, metadata::text,
		unique_key IS NULL, unique_states IS NULL, attempted_at IS NULL, finalized_at IS NULL, errors IS NULL,
		abs(extract(epoch FROM scheduled_at - created_at)) < 1 FROM river_job WHERE id = $1`
	var riverID int64
	must(t, f.raw.QueryRow(`SELECT id FROM river_job WHERE kind = 'invoice_deliver' AND args->>'invoice_id' = $1 AND id <> $2`,
		invoiceID, res.Job.ID).Scan(&riverID))
	read := func(id int64) []any {
		var kind, args, queue, state, tags, meta string
		var attempt, maxAttempts, priority int
		var noKey, noStates, notAttempted, notFinal, noErrors, dueNow bool
		must(t, f.raw.QueryRow(row, id).Scan(&kind, &args, &queue, &state, &attempt, &maxAttempts, &priority, &tags, &meta,
			&noKey, &noStates, &notAttempted, &notFinal, &noErrors, &dueNow))
		return []any{kind, args, queue, state, attempt, maxAttempts, priority, tags, meta, noKey, noStates, notAttempted, notFinal, noErrors, dueNow}
	}
	ours, theirs := read(riverID), read(res.Job.ID)
	if !slices.Equal(ours, theirs) {
		t.Fatalf("the accept's job row %v, river's %v", ours, theirs)
	}
}
