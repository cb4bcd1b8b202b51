package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gigstream/hub/market"
)

var _ market.BillingStore = (*DB)(nil)

const billingProfileColumns = `user_id, name, address_line1, address_line2, city, postal_code, region, country, tax_id, updated_at`

// BillingProfile returns the user's billing profile, or an error wrapping ErrNotFound.
func (db *DB) BillingProfile(ctx context.Context, userID string) (market.BillingProfile, error) {
	var p market.BillingProfile
	err := db.x.GetContext(ctx, &p, `SELECT `+billingProfileColumns+` FROM billing_profiles WHERE user_id = $1`, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("billing profile of %s: %w", userID, market.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("billing profile of %s: %w", userID, err)
	}
	return p, nil
}

// PutBillingProfile creates or replaces the user's billing profile and returns it.
func (db *DB) PutBillingProfile(ctx context.Context, p market.BillingProfile) (market.BillingProfile, error) {
	var out market.BillingProfile
	err := db.x.GetContext(ctx, &out, `INSERT INTO billing_profiles
			(user_id, name, address_line1, address_line2, city, postal_code, region, country, tax_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (user_id) DO UPDATE SET name = EXCLUDED.name, address_line1 = EXCLUDED.address_line1,
			address_line2 = EXCLUDED.address_line2, city = EXCLUDED.city, postal_code = EXCLUDED.postal_code,
			region = EXCLUDED.region, country = EXCLUDED.country, tax_id = EXCLUDED.tax_id, updated_at = now()
		RETURNING `+billingProfileColumns,
		p.UserID, p.Name, p.AddressLine1, p.AddressLine2, p.City, p.PostalCode, p.Region, p.Country, p.TaxID)
	if err != nil {
		return out, fmt.Errorf("put billing profile of %s: %w", p.UserID, err)
	}
	return out, nil
}

// QuotedPackage reads a gig's package of a tier for a quote, or an error wrapping
// ErrNotFound.
func (db *DB) QuotedPackage(ctx context.Context, gigID, tier string) (market.QuotedPackage, error) {
	var row struct {
		GigTitle     string `db:"title"`
		PackageTitle string `db:"package_title"`
		SellerID     string `db:"seller_id"`
		Status       string `db:"status"`
		PriceMinor   int64  `db:"price_minor"`
		Currency     string `db:"currency"`
	}
	err := db.x.GetContext(ctx, &row, `SELECT g.title, p.title AS package_title, g.seller_id, g.status, p.price_minor, p.currency
		FROM gig_packages p JOIN gigs g ON g.id = p.gig_id WHERE g.id = $1 AND p.tier = $2`, gigID, tier)
	if errors.Is(err, sql.ErrNoRows) {
		return market.QuotedPackage{}, fmt.Errorf("package %s of gig %s: %w", tier, gigID, market.ErrNotFound)
	}
	if err != nil {
		return market.QuotedPackage{}, fmt.Errorf("package %s of gig %s: %w", tier, gigID, err)
	}
	return market.QuotedPackage{GigTitle: row.GigTitle, PackageTitle: row.PackageTitle, SellerID: row.SellerID,
		GigStatus: row.Status, PriceMinor: row.PriceMinor, Currency: row.Currency}, nil
}
