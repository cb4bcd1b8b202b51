package market

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// BillingProfile is who a user is on invoices and credit notes, as buyer or seller:
// a name (a person's or a company's), a postal address, the country (ISO 3166-1
// alpha-2, upper case), which decides a buyer's tax rate, and an optional tax id (a
// VAT or GST number), which marks a business customer.
type BillingProfile struct {
	UserID       string    `json:"-" db:"user_id"`
	Name         string    `json:"name" db:"name"`
	AddressLine1 string    `json:"address_line1" db:"address_line1"`
	AddressLine2 string    `json:"address_line2" db:"address_line2"`
	City         string    `json:"city" db:"city"`
	PostalCode   string    `json:"postal_code" db:"postal_code"`
	Region       string    `json:"region" db:"region"`
	Country      string    `json:"country" db:"country"`
	TaxID        string    `json:"tax_id" db:"tax_id"`
	UpdatedAt    time.Time `json:"updated_at" db:"updated_at"`
}

// BillingStore keeps billing profiles and reads packages for quotes; store/
// implements it. BillingProfile and QuotedPackage return an error wrapping ErrNotFound
// when there is none.
type BillingStore interface {
	QuotedPackage(ctx context.Context, gigID, tier string) (QuotedPackage, error)
	BillingProfile(ctx context.Context, userID string) (BillingProfile, error)
	PutBillingProfile(ctx context.Context, p BillingProfile) (BillingProfile, error)
}

// Billing holds the billing use cases: profiles, quotes (the buyer's service fee and
// tax) and invoices.
type Billing struct {
	store BillingStore
	cfg   BillingConfig
}

// NewBilling returns the billing use cases over their store.
func NewBilling(s BillingStore, cfg BillingConfig) *Billing {
	return &Billing{store: s, cfg: cfg.withDefaults()}
}

// Profile returns the user's billing profile, or a not-found Error when they have
// not given one.
func (b *Billing) Profile(ctx context.Context, userID string) (BillingProfile, error) {
	p, err := b.store.BillingProfile(ctx, userID)
	if err != nil {
		return BillingProfile{}, err
	}
	return p, nil
}

// PutProfile replaces the user's billing profile after normalizing it (trimmed
// text, country and tax id upper case, spaces dropped from the tax id) and returns it
// as stored. It returns an invalid Error naming the first field at fault.
func (b *Billing) PutProfile(ctx context.Context, p BillingProfile) (BillingProfile, error) {
	p = p.normalized()
	if err := p.check(); err != nil {
		return BillingProfile{}, err
	}
	return b.store.PutBillingProfile(ctx, p)
}

// normalized trims the text fields, upper-cases the country and the tax id and takes
// the spaces out of the tax id ("de 123 456 789" is DE123456789).
func (p BillingProfile) normalized() BillingProfile {
	for _, f := range []*string{&p.Name, &p.AddressLine1, &p.AddressLine2, &p.City, &p.PostalCode, &p.Region} {
		*f = strings.TrimSpace(*f)
	}
	p.Country = strings.ToUpper(strings.TrimSpace(p.Country))
	p.TaxID = strings.ToUpper(strings.Join(strings.Fields(p.TaxID), ""))
	return p
}

// billingField is one text field of a profile and its limits in characters.
type billingField struct {
	name     string
	value    string
	min, max int
}

// check applies the profile's rules and names the first field that breaks one.
func (p BillingProfile) check() error {
	for _, f := range []billingField{
		{"name", p.Name, 1, 200}, {"address_line1", p.AddressLine1, 1, 200}, {"address_line2", p.AddressLine2, 0, 200},
		{"city", p.City, 1, 100}, {"postal_code", p.PostalCode, 0, 20}, {"region", p.Region, 0, 100},
	} {
		if err := f.check(); err != nil {
			return err
		}
	}
	if !IsCountry(p.Country) {
		return FieldError(CodeInvalid, "country", "must be an ISO 3166-1 alpha-2 country code, such as DE or US")
	}
	if len(p.TaxID) > 32 || strings.ContainsFunc(p.TaxID, func(r rune) bool {
		return (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '-' && r != '.'
	}) {
		return FieldError(CodeInvalid, "tax_id", "must be at most 32 letters, digits, dots and hyphens")
	}
	return nil
}

// check refuses a value of the wrong length, or one holding control characters (a
// line break in a name would forge lines on an invoice).
func (f billingField) check() error {
	n := utf8.RuneCountInString(f.value)
	if !utf8.ValidString(f.value) || strings.ContainsFunc(f.value, unicode.IsControl) {
		return FieldError(CodeInvalid, f.name, "must be text on one line")
	}
	if n < f.min || n > f.max {
		if f.min > 0 && n == 0 {
			return FieldError(CodeInvalid, f.name, "is required")
		}
		return FieldError(CodeInvalid, f.name, "is too long")
	}
	return nil
}
