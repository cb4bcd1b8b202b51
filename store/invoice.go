package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"github.com/gigstream/hub/market"
)

// InvoiceDeliverJob renders, stores and e-mails one issued invoice or credit note
// (market's Invoices.Deliver). It is queued in the transaction that issued the
// document, so it runs only once that committed; each step is recorded, so a retry
// does only what is left.
type InvoiceDeliverJob struct {
	InvoiceID string `json:"invoice_id"`
}

// Kind names the job in river's tables.
func (InvoiceDeliverJob) Kind() string { return "invoice_deliver" }

// InsertOpts puts the job in the mail queue: money never waits behind it.
func (InvoiceDeliverJob) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueMail} }

// preparedInvoices are a settlement's or a reversal's documents made ready to be
// numbered: customer, issue date and id set, delivery jobs queued under those ids;
// credits is the number of the order's invoice when only credit notes are issued,
// reversalID the reversal a credit note is for ("" for a settlement's).
type preparedInvoices struct {
	ids        []string
	docs       []market.InvoiceDocument
	credits    string
	reversalID string
}

// prepareInvoices readies the documents a settlement issues, in its transaction,
// before it takes any lock others wait for: the buyer's details, the issue date and an
// id each. issueInvoices then stores them, each with its queued delivery job (which
// runs only once the transaction committed), to be numbered at commit. Credit notes alone credit
// the order's invoice; an order without one gets none (market.InvoiceRule).
func prepareInvoices(ctx context.Context, tx *sqlx.Tx, ord market.Order, drafts []market.InvoiceDocument, reversalID string) (preparedInvoices, error) {
	if len(drafts) == 0 {
		return preparedInvoices{}, nil
	}
	var now time.Time
	if err := tx.GetContext(ctx, &now, `SELECT now()`); err != nil {
		return preparedInvoices{}, fmt.Errorf("issue date: %w", err)
	}
	return prepareInvoicesAt(ctx, preparedTx{Tx: tx}, ord, drafts, reversalID, now, nil)
}

// prepareInvoicesAt is prepareInvoices with the issue date now (the transaction's
// time) known to the caller already, its statements run on tx (prepared, where the
// caller prepared them). customer is the buyer as invoices print them when the caller
// read it already (settleStateQuery reads it with the order's payment); nil reads it.
func prepareInvoicesAt(ctx context.Context, tx preparedTx, ord market.Order, drafts []market.InvoiceDocument, reversalID string, now time.Time,
	customer *market.InvoiceParty) (preparedInvoices, error) {
	if len(drafts) == 0 {
		return preparedInvoices{}, nil
	}
	credits := ""
	if drafts[0].Kind == market.InvoiceKindCreditNote {
		err := tx.GetContext(ctx, &credits, `SELECT document->>'number' FROM invoices WHERE order_id = $1 AND kind = 'invoice'`, ord.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return preparedInvoices{}, nil
		}
		if err != nil {
			return preparedInvoices{}, fmt.Errorf("invoice of order %s: %w", ord.ID, err)
		}
	}
	if customer == nil {
		c, err := invoiceCustomer(ctx, tx, ord.BuyerID)
		if err != nil {
			return preparedInvoices{}, err
		}
		customer = &c
	}
	p := preparedInvoices{ids: make([]string, len(drafts)), docs: make([]market.InvoiceDocument, len(drafts)), credits: credits, reversalID: reversalID}
	for i, d := range drafts {
		d.Customer, d.IssuedAt = *customer, now.UTC()
		p.ids[i], p.docs[i] = uuid.NewString(), d
	}
	return p, nil
}

// issueInvoices stores prepared documents, to be numbered when the transaction
// commits. Each number is the next of its series' counter row, taken by the deferred
// trigger invoices_take_number (migration 00081) at commit and held only for the
// commit itself, so concurrent settlements take numbers one after another without
// queueing over a round trip, and a rollback returns the number (no gaps). The trigger
// also prints the number into the document and, into a credit note's, the number of the
// invoice it credits (issued before it, maybe in this transaction).
func issueInvoices(ctx context.Context, tx txQuerier, p preparedInvoices) error {
	for i, d := range p.docs {
		reversalID := ""
		if d.Kind == market.InvoiceKindCreditNote {
			d.CreditsNumber, reversalID = p.credits, p.reversalID
		}
		if err := insertInvoice(ctx, tx, p.ids[i], d, reversalID); err != nil {
			return err
		}
	}
	return nil
}

// invoiceCustomer is the buyer as invoices print them: the billing profile, or the
// display name, read in one query.
func invoiceCustomer(ctx context.Context, tx txQuerier, buyerID string) (market.InvoiceParty, error) {
	var row customerRow
	if err := tx.GetContext(ctx, &row, invoiceCustomerQuery, buyerID); err != nil {
		return market.InvoiceParty{}, fmt.Errorf("buyer's billing profile and name: %w", err)
	}
	return row.party(), nil
}

// customerRow is a buyer's display name and billing profile as invoiceCustomerQuery
// reads them (HasProfile false and the profile empty when there is none).
type customerRow struct {
	HasProfile bool   `db:"has_profile"`
	Name       string `db:"display_name"`
	market.BillingProfile
}

// party is the buyer as invoices print them: the billing profile, or the display name.
func (r customerRow) party() market.InvoiceParty {
	if r.HasProfile {
		return market.CustomerParty(&r.BillingProfile, "")
	}
	return market.CustomerParty(nil, r.Name)
}

// invoiceCustomerQuery reads user $1's customerRow (settleStateQuery reads the same
// columns named "customer.*").
const invoiceCustomerQuery = `
	SELECT b.user_id IS NOT NULL AS has_profile, u.display_name, u.id::text AS user_id, COALESCE(b.name, '') AS name,
		COALESCE(b.address_line1, '') AS address_line1, COALESCE(b.address_line2, '') AS address_line2, COALESCE(b.city, '') AS city,
		COALESCE(b.postal_code, '') AS postal_code, COALESCE(b.region, '') AS region, COALESCE(b.country, '') AS country,
		COALESCE(b.tax_id, '') AS tax_id, COALESCE(b.updated_at, 'epoch') AS updated_at
	FROM users u LEFT JOIN billing_profiles b ON b.user_id = u.id
	WHERE u.id = $1`

// insertInvoice stores the document under id in its series, unnumbered until commit
// (invoices_take_number), a credit note with the reversal it is for (reversalID, else
// ""), and queues its InvoiceDeliverJob, in one statement.
func insertInvoice(ctx context.Context, tx txQuerier, id string, d market.InvoiceDocument, reversalID string) error {
	args, err := invoiceArgs(ctx, id, d, reversalID)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, insertInvoiceQuery, args...); err != nil {
		return fmt.Errorf("store the next %s: %w", args[3], err)
	}
	return nil
}

// invoiceArgs are the 17 parameters of invoiceInserts for the document d stored
// under id (a credit note with the reversal it is for, reversalID, else ""). It
// returns an encoding error only.
func invoiceArgs(ctx context.Context, id string, d market.InvoiceDocument, reversalID string) ([]any, error) {
	doc, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("invoice document: %w", err)
	}
	job, err := newInvoiceJobRow(ctx, id)
	if err != nil {
		return nil, err
	}
	series := market.InvoiceSeries(d.Kind, d.IssuedAt.Year())
	return []any{id, d.OrderID, d.Kind, series, d.Currency, d.NetMinor, d.TaxMinor, d.TotalMinor, doc, d.IssuedAt, reversalID,
		job.Args, job.Kind, job.MaxAttempts, job.Metadata, job.Priority, job.Queue}, nil
}

// invoiceJobRow is the river_job row of an invoice's InvoiceDeliverJob, as river's
// InsertTx writes it for our insert-only client (insertOnlyJobs): available now, no
// tags, no unique key. The invoice's statement writes it itself, prepared, instead
// of calling InsertTx: river's insert is a statement of its own that lib/pq sends
// unprepared (two round trips, planned on every call: 0.9 ms of PostgreSQL per
// accept). TestInvoiceJobRowIsRiversRow compares the two rows.
type invoiceJobRow struct {
	Args        []byte
	Kind        string
	MaxAttempts int
	Metadata    []byte
	Priority    int
	Queue       string
}

// riverMaxAttempts and riverPriority are river's defaults for a job whose options
// set neither (river.Config's MaxAttempts, rivercommon's PriorityDefault).
const (
	riverMaxAttempts = 25
	riverPriority    = 1
)

// newInvoiceJobRow is the job row of invoice id, its metadata the trace of ctx as
// jobTraceOpts puts it. It returns an encoding error only.
func newInvoiceJobRow(ctx context.Context, id string) (invoiceJobRow, error) {
	job := InvoiceDeliverJob{InvoiceID: id}
	args, err := json.Marshal(job)
	if err != nil {
		return invoiceJobRow{}, fmt.Errorf("encode %s job: %w", job.Kind(), err)
	}
	meta := []byte("{}")
	if o := jobTraceOpts(ctx); o != nil {
		meta = o.Metadata
	}
	return invoiceJobRow{Args: args, Kind: job.Kind(), MaxAttempts: riverMaxAttempts, Metadata: meta, Priority: riverPriority,
		Queue: job.InsertOpts().Queue}, nil
}

// insertInvoiceQuery stores one invoice (invoiceInserts).
const insertInvoiceQuery = invoiceInserts + `
	SELECT 1`

// invoiceInserts are the common table expressions that store document $9 under id $1
// in series $4 without a number, which the deferred trigger invoices_take_number sets
// at commit from the series' counter row, and queue its delivery job ($12 args, $13
// kind, $14 max attempts, $15 metadata, $16 priority, $17 queue: invoiceJobRow); the
// parameters are invoiceArgs. The counter row is created at 0 if the series has none
// yet; an existing one is not touched, not even by ON CONFLICT's check, which would
// wait for the transaction whose commit is numbering from it.
const invoiceInserts = `
	WITH ` + invoiceCTEs + `)`

// invoiceCTEs are invoiceInserts' common table expressions, the last one (invoice_row)
// open after its select list: acceptWritesQuery adds a FROM clause that makes the
// invoice wait for the ledger's postings.
const invoiceCTEs = `invoice_counter AS (
		INSERT INTO invoice_counters (series, last_number)
		SELECT $4::text, 0 WHERE NOT EXISTS (SELECT 1 FROM invoice_counters WHERE series = $4::text)
		ON CONFLICT (series) DO NOTHING),
	invoice_job AS (
		INSERT INTO river_job (args, kind, max_attempts, metadata, priority, queue, state, tags)
		VALUES ($12::jsonb, $13::text, $14::smallint, $15::jsonb, $16::smallint, $17::text, 'available', '{}')),
	invoice_row AS (
		INSERT INTO invoices (id, order_id, kind, series, number, credits_invoice_id, currency,
			net_minor, tax_minor, total_minor, document, issued_at, reversal_id)
		SELECT $1::uuid, $2::uuid, $3::text, $4::text, NULL,
			(SELECT id FROM invoices WHERE order_id = $2::uuid AND kind = 'invoice' AND $3::text = 'credit_note'),
			$5::text, $6::bigint, $7::bigint, $8::bigint, $9::jsonb, $10::timestamptz, NULLIF($11::text, '')::uuid`

// invoiceRow is an invoices row with its order's parties.
type invoiceRow struct {
	ID        string     `db:"id"`
	OrderID   string     `db:"order_id"`
	Kind      string     `db:"kind"`
	Document  []byte     `db:"document"`
	ObjectKey *string    `db:"object_key"`
	EmailedAt *time.Time `db:"emailed_at"`
	BuyerID   string     `db:"buyer_id"`
	SellerID  string     `db:"seller_id"`
}

const invoiceSelect = `SELECT i.id, i.order_id, i.kind, i.document, i.object_key, i.emailed_at, o.buyer_id, o.seller_id
	FROM invoices i JOIN orders o ON o.id = i.order_id`

// invoice is the row as market shows it.
func (r invoiceRow) invoice() (market.Invoice, error) {
	var d market.InvoiceDocument
	if err := json.Unmarshal(r.Document, &d); err != nil {
		return market.Invoice{}, fmt.Errorf("invoice %s document: %w", r.ID, err)
	}
	inv := market.Invoice{ID: r.ID, OrderID: r.OrderID, Kind: r.Kind, Number: d.Number, CreditsNumber: d.CreditsNumber,
		Currency: d.Currency, NetMinor: d.NetMinor, TaxMinor: d.TaxMinor, TotalMinor: d.TotalMinor, IssuedAt: d.IssuedAt,
		Ready: r.ObjectKey != nil, Emailed: r.EmailedAt != nil, BuyerID: r.BuyerID, SellerID: r.SellerID, Document: d}
	if r.ObjectKey != nil {
		inv.ObjectKey = *r.ObjectKey
	}
	return inv, nil
}

// Invoice returns an issued invoice or credit note; an unknown or malformed id wraps
// ErrNotFound.
func (db *DB) Invoice(ctx context.Context, id string) (market.Invoice, error) {
	if !isUUID(id) {
		return market.Invoice{}, fmt.Errorf("invoice %q: %w", id, ErrNotFound)
	}
	var r invoiceRow
	err := db.x.GetContext(ctx, &r, invoiceSelect+` WHERE i.id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return market.Invoice{}, fmt.Errorf("invoice %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return market.Invoice{}, fmt.Errorf("invoice %s: %w", id, err)
	}
	return r.invoice()
}

// OrderInvoices lists an order's invoice and credit notes in the order they were
// issued.
func (db *DB) OrderInvoices(ctx context.Context, orderID string) ([]market.Invoice, error) {
	var rows []invoiceRow
	if err := db.x.SelectContext(ctx, &rows, invoiceSelect+` WHERE i.order_id = $1 ORDER BY i.issued_at, i.kind DESC`, orderID); err != nil {
		return nil, fmt.Errorf("invoices of order %s: %w", orderID, err)
	}
	out := make([]market.Invoice, 0, len(rows))
	for _, r := range rows {
		inv, err := r.invoice()
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, nil
}

// MarkInvoiceRendered records where the document's PDF is stored.
func (db *DB) MarkInvoiceRendered(ctx context.Context, id, objectKey string) error {
	if _, err := db.x.ExecContext(ctx, `UPDATE invoices SET object_key = $2, rendered_at = now() WHERE id = $1`, id, objectKey); err != nil {
		return fmt.Errorf("mark invoice %s rendered: %w", id, err)
	}
	return nil
}

// MarkInvoiceEmailed records that the buyer was sent the document.
func (db *DB) MarkInvoiceEmailed(ctx context.Context, id string) error {
	if _, err := db.x.ExecContext(ctx, `UPDATE invoices SET emailed_at = now() WHERE id = $1`, id); err != nil {
		return fmt.Errorf("mark invoice %s e-mailed: %w", id, err)
	}
	return nil
}

// InvoiceRecipient is the buyer's e-mail address and display name; a deleted buyer's
// account wraps ErrNotFound.
func (db *DB) InvoiceRecipient(ctx context.Context, id string) (string, string, error) {
	var r struct {
		Email string `db:"email"`
		Name  string `db:"display_name"`
	}
	err := db.x.GetContext(ctx, &r, `SELECT u.email, u.display_name FROM invoices i JOIN orders o ON o.id = i.order_id
		JOIN users u ON u.id = o.buyer_id WHERE i.id = $1 AND u.deleted_at IS NULL`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", fmt.Errorf("recipient of invoice %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return "", "", fmt.Errorf("recipient of invoice %s: %w", id, err)
	}
	return r.Email, r.Name, nil
}

var _ market.InvoiceStore = (*DB)(nil)
