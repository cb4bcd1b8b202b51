package market

import (
	"strings"
	"testing"
)

func validProfile() BillingProfile {
	return BillingProfile{Name: "Ada Ltd", AddressLine1: "1 Main St", City: "Berlin", Country: "DE"}
}

func TestBillingProfileRules(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*BillingProfile)
		field string // "" when valid
	}{
		{"valid", func(*BillingProfile) {}, ""},
		{"lower-case country is normalized", func(p *BillingProfile) { p.Country = " de " }, ""},
		{"tax id with spaces", func(p *BillingProfile) { p.TaxID = "de 123 456 789" }, ""},
		{"no name", func(p *BillingProfile) { p.Name = "   " }, "name"},
		{"name too long", func(p *BillingProfile) { p.Name = strings.Repeat("é", 201) }, "name"},
		{"line break in name", func(p *BillingProfile) { p.Name = "Ada\nTotal due: 0" }, "name"},
		{"no address", func(p *BillingProfile) { p.AddressLine1 = "" }, "address_line1"},
		{"no city", func(p *BillingProfile) { p.City = "" }, "city"},
		{"postal code too long", func(p *BillingProfile) { p.PostalCode = strings.Repeat("1", 21) }, "postal_code"},
		{"unknown country", func(p *BillingProfile) { p.Country = "XX" }, "country"},
		{"three-letter country", func(p *BillingProfile) { p.Country = "DEU" }, "country"},
		{"tax id with a slash", func(p *BillingProfile) { p.TaxID = "DE/123" }, "tax_id"},
		{"tax id too long", func(p *BillingProfile) { p.TaxID = strings.Repeat("1", 33) }, "tax_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := validProfile()
			tc.edit(&p)
			err := p.normalized().check()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Code != CodeInvalid || e.Field != tc.field {
				t.Fatalf("got %v, want invalid %s", err, tc.field)
			}
		})
	}
	p := BillingProfile{Country: " de ", TaxID: "de 123 456 789", Name: " Ada "}.normalized()
	if p.Country != "DE" || p.TaxID != "DE123456789" || p.Name != "Ada" {
		t.Fatalf("normalized %+v", p)
	}
}

func TestQuoteServiceFeeAndTax(t *testing.T) {
	cfg := BillingConfig{
		ServiceFeeBPS: 550, ServiceFeeMin: map[string]int64{"USD": 200, "JPY": 300, "KWD": 500},
		TaxRates: map[string]int{"DE": 1900, "FR": 2000, "JP": 1000}, Issuer: Issuer{Country: "DE"},
	}
	de, fr, frB2B, deB2B := &BillingProfile{Country: "DE"}, &BillingProfile{Country: "FR"},
		&BillingProfile{Country: "FR", TaxID: "FR123"}, &BillingProfile{Country: "DE", TaxID: "DE1"}
	for _, tc := range []struct {
		name            string
		price           int64
		currency        string
		buyer           *BillingProfile
		fee, tax, total int64
		rate            int
		country         string
		reverse         bool
	}{
		// 5.5 % of 100.00 is 5.50; 19 % of 100.00 is 19.00, of 5.50 is 1.045 → 1.05 (half-up).
		{"percentage above the minimum", 10_000, "USD", de, 550, 1900 + 105, 10_000 + 550 + 2005, 1900, "DE", false},
		// 5.5 % of 10.00 is 0.55, under the 2.00 minimum.
		{"minimum", 1000, "USD", de, 200, 190 + 38, 1000 + 200 + 228, 1900, "DE", false},
		{"no profile: the issuer's country", 1000, "USD", nil, 200, 228, 1428, 1900, "DE", false},
		{"other country's rate", 1000, "USD", fr, 200, 200 + 40, 1440, 2000, "FR", false},
		{"business abroad: reverse charge", 1000, "USD", frB2B, 200, 0, 1200, 0, "FR", true},
		{"business at home pays tax", 1000, "USD", deB2B, 200, 228, 1428, 1900, "DE", false},
		{"country without a rate", 1000, "USD", &BillingProfile{Country: "US"}, 200, 0, 1200, 0, "US", false},
		// JPY has no decimals: 5.5 % of 4500 is 247.5 → 248; 10 % tax of 4500 is 450, of 248 is 24.8 → 25.
		{"zero-decimal currency", 4500, "JPY", &BillingProfile{Country: "JP"}, 300, 450 + 30, 4500 + 300 + 480, 1000, "JP", false},
		// KWD has three: 5.5 % of 4.500 is 0.2475 → 0.248, under the 0.500 minimum.
		{"three-decimal currency", 4500, "KWD", fr, 500, 900 + 100, 4500 + 500 + 1000, 2000, "FR", false},
		{"currency without a minimum", 1000, "EUR", fr, 55, 200 + 11, 1000 + 55 + 211, 2000, "FR", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := cfg.QuoteFor("Logo (Basic)", tc.price, tc.currency, tc.buyer)
			if err != nil {
				t.Fatal(err)
			}
			if q.ServiceFeeMinor != tc.fee || q.TaxMinor != tc.tax || q.TotalMinor != tc.total || q.TaxRateBPS != tc.rate ||
				q.TaxCountry != tc.country || q.ReverseCharge != tc.reverse {
				t.Fatalf("got fee %d tax %d total %d rate %d country %q reverse %v; want %d %d %d %d %q %v", q.ServiceFeeMinor,
					q.TaxMinor, q.TotalMinor, q.TaxRateBPS, q.TaxCountry, q.ReverseCharge, tc.fee, tc.tax, tc.total, tc.rate, tc.country, tc.reverse)
			}
			if (q.TaxNote != "") != tc.reverse {
				t.Fatalf("tax note %q with reverse %v", q.TaxNote, tc.reverse)
			}
			var sum int64
			for _, l := range q.Lines {
				sum += l.AmountMinor + l.TaxMinor
			}
			if sum != q.TotalMinor || q.PriceMinor+q.ServiceFeeMinor+q.TaxMinor != q.TotalMinor {
				t.Fatalf("lines sum to %d, total %d", sum, q.TotalMinor)
			}
		})
	}
}

func TestQuoteWithoutFeeOrTaxIsThePrice(t *testing.T) {
	q, err := BillingConfig{}.QuoteFor("x", 4500, "KWD", nil)
	if err != nil || q.TotalMinor != 4500 || len(q.Lines) != 1 || q.TaxMinor != 0 {
		t.Fatalf("%+v %v", q, err)
	}
}
