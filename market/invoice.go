package market

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Invoices holds the invoice use cases: show an order's invoices and credit notes to
// its buyer, its seller and admins only, hand out their PDFs, and render, store and
// e-mail each one after the settlement that issued it committed (InvoiceRule).
type Invoices struct {
	store    InvoiceStore
	files    InvoiceFiles
	renderer InvoiceRenderer
	mailer   InvoiceMailer
	cfg      InvoicesConfig
	log      *slog.Logger
}

// InvoicesConfig tunes the invoice use cases; the zero value links e-mails to
// http://localhost:8080.
type InvoicesConfig struct {
	PublicURL string // the hub's public base URL, for the download link in e-mails
}

// InvoiceRule is who issues what, when:
//
//   - The platform issues every invoice and credit note alone, in its own name
//     (BillingConfig.Issuer), as the seller of record to the buyer; sellers issue none.
//   - Each kind has one gapless series per calendar year (UTC): INV-2026-000001…,
//     CN-2026-000001…. The next number is taken from the series' counter row in the
//     transaction that settles the order, so a rollback gives it back and concurrent
//     settlements queue on the row.
//   - When a paid order settles (completion, auto-completion, a cancel with refund,
//     an admin refund, a dispute resolution), the buyer gets an invoice for what they
//     paid: the price and the service fee, with the tax on each.
//   - When that settlement refunds money, a credit note referencing the invoice states
//     what went back: the refunded part of the price and of the service fee, with
//     their tax (RefundShare).
//   - Money the buyer got back at the provider (a refund made in Stripe's or PayPal's
//     dashboard, a chargeback lost, a PayPal reversal) gets a credit note too, when the
//     reversal becomes final, for the whole amount the buyer got back
//     (ReversalCreditNote), in the transaction that applies it. When it settles the
//     order (an order still in escrow), the invoice is issued first, as for any
//     settlement. When the order has no invoice and stays unsettled (a lost
//     chargeback on an order frozen without its escrow), nothing is issued: a credit
//     note must credit an invoice, and the order's own settlement later invoices what
//     it keeps.
const InvoiceRule = "the platform issues; one gapless series per kind and year; invoice on settlement, credit note for each refund, ours or the provider's"

// The kinds of invoice documents and their series prefixes.
const (
	InvoiceKindInvoice    = "invoice"
	InvoiceKindCreditNote = "credit_note"
)

// InvoiceSeries is the numbering series of a kind in a year: INV-2026 or CN-2026.
func InvoiceSeries(kind string, year int) string {
	if kind == InvoiceKindCreditNote {
		return fmt.Sprintf("CN-%04d", year)
	}
	return fmt.Sprintf("INV-%04d", year)
}

// InvoiceNumber is the printed number of the seq-th document of series:
// INV-2026-000042.
func InvoiceNumber(series string, seq int64) string { return fmt.Sprintf("%s-%06d", series, seq) }

// Invoice is an issued invoice or credit note as its parties see it. Ready says its
// PDF is stored and downloadable.
type Invoice struct {
	ID            string          `json:"id"`
	OrderID       string          `json:"order_id"`
	Kind          string          `json:"kind"`
	Number        string          `json:"number"`
	CreditsNumber string          `json:"credits_number,omitempty"` // the invoice a credit note credits
	Currency      string          `json:"currency"`
	NetMinor      int64           `json:"net_minor"`
	TaxMinor      int64           `json:"tax_minor"`
	TotalMinor    int64           `json:"total_minor"`
	IssuedAt      time.Time       `json:"issued_at"`
	Ready         bool            `json:"ready"`
	ObjectKey     string          `json:"-"`
	Emailed       bool            `json:"-"`
	BuyerID       string          `json:"-"`
	SellerID      string          `json:"-"`
	Document      InvoiceDocument `json:"-"`
}

// InvoiceDocument is the issued content of an invoice or credit note, kept as issued:
// the parties, the lines and the totals in minor units of Currency.
type InvoiceDocument struct {
	Kind          string       `json:"kind"`
	Number        string       `json:"number"`
	IssuedAt      time.Time    `json:"issued_at"`
	OrderID       string       `json:"order_id"`
	CreditsNumber string       `json:"credits_number,omitempty"`
	Issuer        InvoiceParty `json:"issuer"`
	Customer      InvoiceParty `json:"customer"`
	Currency      string       `json:"currency"`
	Lines         []QuoteLine  `json:"lines"`
	NetMinor      int64        `json:"net_minor"`
	TaxMinor      int64        `json:"tax_minor"`
	TotalMinor    int64        `json:"total_minor"`
	Notes         []string     `json:"notes,omitempty"`
}

// InvoiceParty is a name, address lines and tax id on an invoice.
type InvoiceParty struct {
	Name    string   `json:"name"`
	Address []string `json:"address"`
	TaxID   string   `json:"tax_id,omitempty"`
}

// IssuerParty is the issuer as printed.
func IssuerParty(i Issuer) InvoiceParty {
	var lines []string
	for _, l := range strings.Split(i.Address, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if i.Country != "" {
		lines = append(lines, i.Country)
	}
	return InvoiceParty{Name: i.Name, Address: lines, TaxID: i.TaxID}
}

// CustomerParty is the buyer as printed: their billing profile, or only fallbackName
// (their display name) when they have none.
func CustomerParty(p *BillingProfile, fallbackName string) InvoiceParty {
	if p == nil {
		return InvoiceParty{Name: fallbackName}
	}
	lines := []string{p.AddressLine1}
	if p.AddressLine2 != "" {
		lines = append(lines, p.AddressLine2)
	}
	lines = append(lines, strings.TrimSpace(p.PostalCode+" "+p.City))
	if p.Region != "" {
		lines = append(lines, p.Region)
	}
	return InvoiceParty{Name: p.Name, Address: append(lines, p.Country), TaxID: p.TaxID}
}

// DraftInvoices is what the settlement of a paid order issues (InvoiceRule), without
// numbers and customer, which the store adds in the settlement's transaction: the
// invoice for what the buyer paid, and a credit note when the split refunds money.
func DraftInvoices(ord Order, s Split, issuer Issuer) []InvoiceDocument {
	out := []InvoiceDocument{chargeInvoice(ord, issuer)}
	if s.BuyerRefund() > 0 {
		out = append(out, invoiceDraft(ord, InvoiceKindCreditNote, issuer,
			chargeLines("Refund: "+orderTitle(ord), s.Refund, s.ServiceFeeRefund, ord.TaxRateBPS)))
	}
	return out
}

// orderTitle is the package line's description: the gig and the package.
func orderTitle(ord Order) string { return ord.GigTitle + " (" + ord.PackageTitle + ")" }

// chargeInvoice is the invoice for what the buyer paid for the order.
func chargeInvoice(ord Order, issuer Issuer) InvoiceDocument {
	return invoiceDraft(ord, InvoiceKindInvoice, issuer, chargeLines(orderTitle(ord), ord.PriceMinor, ord.ServiceFeeMinor, ord.TaxRateBPS))
}

// ReversalCreditNote is the credit note for amount of the order's payment that the
// buyer got back at the provider (InvoiceRule). The provider returns one sum, so it is
// shared over what was charged: the whole payment gives back exactly the charged
// lines; a part gives back net = amount × (price + service fee) / total (half up),
// shared between the package and the service fee in proportion to their net amounts
// (half up, the package first), and the rest of the amount as tax, shared between
// the two lines the same way. The lines sum to amount exactly.
func ReversalCreditNote(ord Order, amount int64, issuer Issuer) InvoiceDocument {
	title := "Refund: " + orderTitle(ord)
	charged := ord.PriceMinor + ord.ServiceFeeMinor
	total := charged + ord.TaxMinor
	if amount >= total || charged <= 0 {
		return invoiceDraft(ord, InvoiceKindCreditNote, issuer, chargeLines(title, ord.PriceMinor, ord.ServiceFeeMinor, ord.TaxRateBPS))
	}
	net := proRata(charged, amount, total)
	price := proRata(ord.PriceMinor, net, charged)
	tax := amount - net
	priceTax := proRata(tax, price, net)
	lines := []QuoteLine{{Kind: LineService, Description: title, AmountMinor: price, TaxRateBPS: ord.TaxRateBPS, TaxMinor: priceTax}}
	if fee := net - price; fee > 0 || tax > priceTax {
		lines = append(lines, QuoteLine{Kind: LineServiceFee, Description: "Service fee", AmountMinor: fee, TaxRateBPS: ord.TaxRateBPS, TaxMinor: tax - priceTax})
	}
	return invoiceDraft(ord, InvoiceKindCreditNote, issuer, lines)
}

// chargeLines is the package line and, when there is one, the service fee line, each
// with its tax at bps.
func chargeLines(title string, price, fee int64, bps int) []QuoteLine {
	lines := []QuoteLine{{Kind: LineService, Description: title, AmountMinor: price, TaxRateBPS: bps, TaxMinor: Tax(price, bps)}}
	if fee > 0 {
		lines = append(lines, QuoteLine{Kind: LineServiceFee, Description: "Service fee", AmountMinor: fee, TaxRateBPS: bps, TaxMinor: Tax(fee, bps)})
	}
	return lines
}

// invoiceDraft sums the lines into a document of kind.
func invoiceDraft(ord Order, kind string, issuer Issuer, lines []QuoteLine) InvoiceDocument {
	d := InvoiceDocument{Kind: kind, OrderID: ord.ID, Issuer: IssuerParty(issuer), Currency: ord.Currency, Lines: lines}
	for _, l := range lines {
		d.NetMinor += l.AmountMinor
		d.TaxMinor += l.TaxMinor
	}
	d.TotalMinor = d.NetMinor + d.TaxMinor
	if ord.ReverseCharge {
		d.Notes = append(d.Notes, ReverseChargeNote)
	}
	return d
}

// InvoiceStore reads issued invoices and records their rendering and e-mail; store/
// implements it. Invoice wraps ErrNotFound for an unknown id.
type InvoiceStore interface {
	Invoice(ctx context.Context, id string) (Invoice, error)
	OrderInvoices(ctx context.Context, orderID string) ([]Invoice, error)
	IsOrderParty(ctx context.Context, orderID, userID string) (bool, error)
	MarkInvoiceRendered(ctx context.Context, id, objectKey string) error
	MarkInvoiceEmailed(ctx context.Context, id string) error
	// InvoiceRecipient is the buyer's e-mail address and display name.
	InvoiceRecipient(ctx context.Context, id string) (email, name string, err error)
}

// InvoiceFiles keeps rendered PDFs in the private object store; cmd/ adapts media's.
type InvoiceFiles interface {
	PutInvoice(ctx context.Context, key string, pdf []byte) error
	OpenInvoice(ctx context.Context, key string) (io.ReadCloser, error)
}

// InvoiceRenderer renders a printed document as PDF; cmd/ adapts invoicepdf.
type InvoiceRenderer interface {
	RenderInvoice(p PrintedInvoice) ([]byte, error)
}

// InvoiceMailer e-mails the buyer that a document is ready, with its download link.
type InvoiceMailer interface {
	SendInvoice(ctx context.Context, to, name string, inv Invoice, link string) error
}

// NewInvoices returns the invoice use cases over their collaborators.
func NewInvoices(s InvoiceStore, files InvoiceFiles, r InvoiceRenderer, m InvoiceMailer, cfg InvoicesConfig, log *slog.Logger) *Invoices {
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://localhost:8080"
	}
	if log == nil {
		log = slog.Default()
	}
	return &Invoices{store: s, files: files, renderer: r, mailer: m, cfg: cfg, log: log}
}
