package market

import (
	"strconv"
	"time"
)

// PrintedInvoice is an invoice document with every amount written for people by the
// one currency table (FormatMoney), ready for a renderer that formats no money.
type PrintedInvoice struct {
	Title, Number    string
	IssuedAt         time.Time
	Reference        string
	Issuer, Customer InvoiceParty
	Lines            []PrintedLine
	Subtotal, Tax    string
	Total            string
	Notes            []string
}

// PrintedLine is one row: description, net, rate and tax as text.
type PrintedLine struct {
	Description, Net, Rate, Tax string
}

// Print writes the document's amounts and rates as text.
func (d InvoiceDocument) Print() PrintedInvoice {
	p := PrintedInvoice{Title: "Invoice", Number: d.Number, IssuedAt: d.IssuedAt, Reference: "Order " + d.OrderID,
		Issuer: d.Issuer, Customer: d.Customer, Notes: d.Notes,
		Subtotal: FormatMoney(d.NetMinor, d.Currency), Tax: FormatMoney(d.TaxMinor, d.Currency), Total: FormatMoney(d.TotalMinor, d.Currency)}
	if d.Kind == InvoiceKindCreditNote {
		p.Title, p.Reference = "Credit note", "Credits "+d.CreditsNumber+", order "+d.OrderID
	}
	for _, l := range d.Lines {
		p.Lines = append(p.Lines, PrintedLine{Description: l.Description, Net: FormatMoney(l.AmountMinor, d.Currency),
			Rate: formatRate(l.TaxRateBPS), Tax: FormatMoney(l.TaxMinor, d.Currency)})
	}
	return p
}

// formatRate writes basis points as a percentage: 1900 → "19 %", 550 → "5.5 %".
func formatRate(bps int) string {
	whole, frac := bps/100, bps%100
	s := strconv.Itoa(whole)
	if frac != 0 {
		f := strconv.Itoa(100 + frac)[1:]
		if f[1] == '0' {
			f = f[:1]
		}
		s += "." + f
	}
	return s + " %"
}
