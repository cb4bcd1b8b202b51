package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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

// issueInvoices numbers and stores the documents a settlement issues, in its
// transaction, and queues their delivery. Each number is the next of its series'
// counter row, updated here: the row stays locked until the transaction ends, so
// concurrent settlements take numbers one after another and a rollback returns the
// number (no gaps). A credit note credits the invoice issued before it.
func issueInvoices(ctx context.Context, tx *sqlx.Tx, ord market.Order, drafts []market.InvoiceDocument) error {
	if len(drafts) == 0 {
		return nil
	}
	customer, err := invoiceCustomer(ctx, tx, ord.BuyerID)
	if err != nil {
		return err
	}
	var now time.Time
	if err := tx.GetContext(ctx, &now, `SELECT now()`); err != nil {
		return fmt.Errorf("issue date: %w", err)
	}
	credits := ""
	for _, d := range drafts {
		d.Customer, d.IssuedAt = customer, now.UTC()
		if d.Kind == market.InvoiceKindCreditNote {
			d.CreditsNumber = credits
		}
		id, number, err := insertInvoice(ctx, tx, d)
		if err != nil {
			return err
		}
		if d.Kind == market.InvoiceKindInvoice {
			credits = number
		}
		if err := insertJob(ctx, tx, InvoiceDeliverJob{InvoiceID: id}); err != nil {
			return err
		}
	}
	return nil
}

// invoiceCustomer is the buyer as invoices print them: the billing profile, or the
// display name.
func invoiceCustomer(ctx context.Context, tx *sqlx.Tx, buyerID string) (market.InvoiceParty, error) {
	var p market.BillingProfile
	err := tx.GetContext(ctx, &p, `SELECT `+billingProfileColumns+` FROM billing_profiles WHERE user_id = $1`, buyerID)
	if err == nil {
		return market.CustomerParty(&p, ""), nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return market.InvoiceParty{}, fmt.Errorf("buyer's billing profile: %w", err)
	}
	var name string
	if err := tx.GetContext(ctx, &name, `SELECT display_name FROM users WHERE id = $1`, buyerID); err != nil {
		return market.InvoiceParty{}, fmt.Errorf("buyer's name: %w", err)
	}
	return market.CustomerParty(nil, name), nil
}

// insertInvoice takes the next number of the document's series and stores it; it
// returns the id and the number.
func insertInvoice(ctx context.Context, tx *sqlx.Tx, d market.InvoiceDocument) (string, string, error) {
	series := market.InvoiceSeries(d.Kind, d.IssuedAt.Year())
	var seq int64
	err := tx.GetContext(ctx, &seq, `INSERT INTO invoice_counters (series, last_number) VALUES ($1, 1)
		ON CONFLICT (series) DO UPDATE SET last_number = invoice_counters.last_number + 1 RETURNING last_number`, series)
	if err != nil {
		return "", "", fmt.Errorf("next number of %s: %w", series, err)
	}
	d.Number = market.InvoiceNumber(series, seq)
	doc, err := json.Marshal(d)
	if err != nil {
		return "", "", fmt.Errorf("invoice document: %w", err)
	}
	var id string
	err = tx.GetContext(ctx, &id, `INSERT INTO invoices (order_id, kind, series, number, credits_invoice_id, currency,
			net_minor, tax_minor, total_minor, document, issued_at)
		VALUES ($1, $2, $3, $4, (SELECT id FROM invoices WHERE order_id = $1 AND kind = 'invoice' AND $2 = 'credit_note'),
			$5, $6, $7, $8, $9, $10) RETURNING id`,
		d.OrderID, d.Kind, series, seq, d.Currency, d.NetMinor, d.TaxMinor, d.TotalMinor, doc, d.IssuedAt)
	if err != nil {
		return "", "", fmt.Errorf("store %s: %w", d.Number, err)
	}
	return id, d.Number, nil
}

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
