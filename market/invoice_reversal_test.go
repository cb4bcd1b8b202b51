package market

import "testing"

// A credit note for money given back at the provider states exactly the amount, shared
// over the charged lines as ReversalCreditNote says; the whole payment gives back the
// charged lines themselves.
func TestReversalCreditNoteSharesTheAmountOverTheCharges(t *testing.T) {
	ord := Order{ID: "o", GigTitle: "Logo", PackageTitle: "Basic", Currency: "USD", PriceMinor: 4500, ServiceFeeMinor: 225,
		TaxMinor: 898, TaxRateBPS: 1900, TotalMinor: 5623}
	for _, c := range []struct {
		amount                              int64
		price, priceTax, fee, feeTax, lines int64
	}{
		// net = 1000 × 4725 / 5623 = 840.3 → 840; package 840 × 4500 / 4725 = 800; tax 160 → 152.4 → 152 and 8
		{amount: 1000, price: 800, priceTax: 152, fee: 40, feeTax: 8, lines: 2},
		{amount: 5623, price: 4500, priceTax: 855, fee: 225, feeTax: 43, lines: 2},
		{amount: 1, price: 1, priceTax: 0, lines: 1},
	} {
		d := ReversalCreditNote(ord, c.amount, Issuer{Name: "GigStream"})
		if d.Kind != InvoiceKindCreditNote || d.TotalMinor != c.amount || d.NetMinor+d.TaxMinor != c.amount || int64(len(d.Lines)) != c.lines {
			t.Fatalf("credit note of %d: %+v", c.amount, d)
		}
		if l := d.Lines[0]; l.AmountMinor != c.price || l.TaxMinor != c.priceTax {
			t.Errorf("credit note of %d: package line %+v, want %d + %d tax", c.amount, l, c.price, c.priceTax)
		}
		if c.lines == 2 {
			if l := d.Lines[1]; l.Kind != LineServiceFee || l.AmountMinor != c.fee || l.TaxMinor != c.feeTax {
				t.Errorf("credit note of %d: fee line %+v, want %d + %d tax", c.amount, l, c.fee, c.feeTax)
			}
		}
	}
	plain := Order{ID: "p", Currency: "JPY", PriceMinor: 5000, TotalMinor: 5000}
	if d := ReversalCreditNote(plain, 1234, Issuer{}); d.TotalMinor != 1234 || d.TaxMinor != 0 || len(d.Lines) != 1 {
		t.Fatalf("credit note of an order without fee and tax: %+v", d)
	}
}
