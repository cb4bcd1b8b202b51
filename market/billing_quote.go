package market

import (
	"context"
	"math"
	"strings"
)

// BillingConfig sets the buyer's service fee, the tax rates and the issuer of
// invoices. The zero value charges no service fee and no tax.
type BillingConfig struct {
	// ServiceFeeBPS is the platform's service fee charged to the buyer on top of the
	// price, in basis points of the price (0…10000); 0 charges only ServiceFeeMin.
	ServiceFeeBPS int
	// ServiceFeeMin is the smallest service fee per currency (ISO 4217 code → minor
	// units); a currency not listed has no minimum.
	ServiceFeeMin map[string]int64
	// TaxRates is the tax rate per buyer country (ISO 3166-1 alpha-2 → basis points,
	// 1900 is 19 %); a country not listed is charged no tax.
	TaxRates map[string]int
	// Issuer is who issues invoices and credit notes: the platform, in its own name.
	Issuer Issuer
}

// Issuer is the seller of record on invoices: the platform's legal name, address
// (lines separated by "\n"), country (ISO 3166-1 alpha-2) and tax id. A buyer without
// a billing profile is taxed as if in Country; with Country empty, they pay no tax.
type Issuer struct {
	Name, Address, Country, TaxID string
}

// withDefaults names the issuer GigStream when no name is set.
func (c BillingConfig) withDefaults() BillingConfig {
	if c.Issuer.Name == "" {
		c.Issuer.Name = "GigStream"
	}
	return c
}

// The kinds of a quote's lines.
const (
	LineService    = "service"     // the gig package, sold by the platform (see Issuer)
	LineServiceFee = "service_fee" // the platform's service fee charged to the buyer
)

// ReverseChargeNote is printed on an invoice whose buyer, a business in another
// country than the issuer, accounts for the tax themselves.
const ReverseChargeNote = "Reverse charge: no tax charged; the customer accounts for the tax in their country."

// QuoteLine is one line of a quote or invoice: a net amount, its tax rate in basis
// points and its tax, all in minor units.
type QuoteLine struct {
	Kind        string `json:"kind"`
	Description string `json:"description"`
	AmountMinor int64  `json:"amount_minor"`
	TaxRateBPS  int    `json:"tax_rate_bps"`
	TaxMinor    int64  `json:"tax_minor"`
}

// Quote is what a buyer pays for a package, before paying: the price, the service
// fee and the tax on both, and their total, in minor units of Currency. TaxCountry is
// the country whose rate applied ("" when none); ReverseCharge is set, with TaxNote,
// when a business buyer accounts for the tax themselves.
type Quote struct {
	Currency        string      `json:"currency"`
	PriceMinor      int64       `json:"price_minor"`
	ServiceFeeMinor int64       `json:"service_fee_minor"`
	TaxMinor        int64       `json:"tax_minor"`
	TotalMinor      int64       `json:"total_minor"`
	TaxRateBPS      int         `json:"tax_rate_bps"`
	TaxCountry      string      `json:"tax_country"`
	ReverseCharge   bool        `json:"reverse_charge"`
	TaxNote         string      `json:"tax_note"`
	Lines           []QuoteLine `json:"lines"`
}

// ServiceFee is the buyer's service fee on price minor units of currency: the
// percentage (half-up, like PlatformFee) or the currency's minimum, whichever is more.
func (c BillingConfig) ServiceFee(price int64, currency string) int64 {
	if price <= 0 {
		return 0
	}
	return max(PlatformFee(price, c.ServiceFeeBPS), c.ServiceFeeMin[currency])
}

// TaxRule is the rate that applies to a buyer: their profile's country (the issuer's
// when they have none), reverse charge for a business (a tax id) in another country
// than the issuer's, where the rate becomes 0.
func (c BillingConfig) TaxRule(buyer *BillingProfile) (country string, bps int, reverse bool) {
	country = c.Issuer.Country
	if buyer != nil {
		country = buyer.Country
	}
	bps = c.TaxRates[country]
	if buyer != nil && buyer.TaxID != "" && bps > 0 && c.Issuer.Country != "" && country != c.Issuer.Country {
		return country, 0, true
	}
	return country, bps, false
}

// Tax is the tax on a net amount at bps basis points, rounded half-up in minor units
// (PlatformFee's rule): per line, so an invoice's tax is the sum of its lines' taxes.
func Tax(net int64, bps int) int64 { return PlatformFee(net, bps) }

// QuoteFor prices a package of price minor units of currency for buyer (nil when they
// have no billing profile): the service fee, the tax line by line, the total. It
// returns an invalid Error when the total would not fit in int64.
func (c BillingConfig) QuoteFor(title string, price int64, currency string, buyer *BillingProfile) (Quote, error) {
	country, bps, reverse := c.TaxRule(buyer)
	q := Quote{Currency: currency, PriceMinor: price, ServiceFeeMinor: c.ServiceFee(price, currency),
		TaxRateBPS: bps, TaxCountry: country, ReverseCharge: reverse}
	if reverse {
		q.TaxNote = ReverseChargeNote
	}
	q.Lines = append(q.Lines, QuoteLine{Kind: LineService, Description: title, AmountMinor: price, TaxRateBPS: bps, TaxMinor: Tax(price, bps)})
	if q.ServiceFeeMinor > 0 {
		q.Lines = append(q.Lines, QuoteLine{Kind: LineServiceFee, Description: "Service fee", AmountMinor: q.ServiceFeeMinor,
			TaxRateBPS: bps, TaxMinor: Tax(q.ServiceFeeMinor, bps)})
	}
	var total int64
	for _, l := range q.Lines {
		q.TaxMinor += l.TaxMinor
		if l.AmountMinor > math.MaxInt64/4 || l.TaxMinor > math.MaxInt64/4 {
			return Quote{}, FieldError(CodeInvalid, "price_minor", "is too large")
		}
		total += l.AmountMinor + l.TaxMinor
	}
	q.TotalMinor = total
	return q, nil
}

// QuotedPackage is what a quote needs of a gig's package: its title, price and
// currency, and who sells it.
type QuotedPackage struct {
	GigTitle, PackageTitle, SellerID, GigStatus string
	PriceMinor                                  int64
	Currency                                    string
}

// Quote prices a package of a published gig for buyerID: the price, the service fee
// and the tax for the buyer's billing profile, which POST /orders charges.
// Errors: invalid naming gig_id or tier, not found for no such published package.
func (b *Billing) Quote(ctx context.Context, buyerID, gigID, tier string) (Quote, error) {
	if !uuidText.MatchString(gigID) {
		return Quote{}, FieldError(CodeInvalid, "gig_id", "must be a UUID")
	}
	if tier != "basic" && tier != "standard" && tier != "premium" {
		return Quote{}, FieldError(CodeInvalid, "tier", "must be basic, standard or premium")
	}
	pkg, err := b.store.QuotedPackage(ctx, strings.ToLower(gigID), tier)
	if err != nil || pkg.GigStatus != "published" {
		return Quote{}, FieldError(CodeNotFound, "gig_id", "no such published gig")
	}
	if pkg.SellerID == buyerID {
		return Quote{}, FieldError(CodeInvalid, "gig_id", "you cannot order your own gig")
	}
	return b.QuoteForBuyer(ctx, buyerID, pkg.GigTitle+" ("+pkg.PackageTitle+")", pkg.PriceMinor, pkg.Currency)
}

// QuoteForBuyer prices price minor units of currency for buyerID with their billing
// profile, if any.
func (b *Billing) QuoteForBuyer(ctx context.Context, buyerID, title string, price int64, currency string) (Quote, error) {
	buyer, err := b.buyerProfile(ctx, buyerID)
	if err != nil {
		return Quote{}, err
	}
	return b.cfg.QuoteFor(title, price, currency, buyer)
}

// buyerProfile is buyerID's billing profile, nil when they have none.
func (b *Billing) buyerProfile(ctx context.Context, buyerID string) (*BillingProfile, error) {
	p, err := b.store.BillingProfile(ctx, buyerID)
	switch {
	case err == nil:
		return &p, nil
	case ErrorCode(err) != CodeNotFound:
		return nil, err
	}
	return nil, nil
}
