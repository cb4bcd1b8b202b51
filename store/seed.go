package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// SeedData is a demo dataset: users, categories and published gigs with packages.
type SeedData struct {
	Users      []SeedUser
	Categories []SeedCategory
	Gigs       []SeedGig
}

// SeedUser is a demo account, matched on its username.
type SeedUser struct {
	Email, Username, DisplayName, Bio string
	IsBuyer, IsSeller                 bool
	PasswordHash                      string // argon2id; empty: the account cannot sign in with a password
}

// SeedCategory is a demo category, matched on its slug.
type SeedCategory struct{ Slug, Name string }

// SeedGig is a published demo gig, matched on its slug.
type SeedGig struct {
	Slug, SellerUsername, CategorySlug, Title, Description string
	Packages                                               []SeedPackage
}

// SeedPackage is one priced tier of a demo gig, in minor units.
type SeedPackage struct {
	Tier, Title             string
	PriceMinor              int64
	Currency                string
	DeliveryDays, Revisions int
}

// SeedCounts says how many rows a Seed call inserted; a second run inserts none.
type SeedCounts struct{ Users, Categories, Gigs, Packages int64 }

// Seed inserts the dataset in one transaction, skipping rows that already exist, so it
// is idempotent. It returns an error, and inserts nothing, if any row is invalid.
func (db *DB) Seed(ctx context.Context, data SeedData) (SeedCounts, error) {
	var n SeedCounts
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, u := range data.Users {
			if err := seedExec(ctx, tx, &n.Users, seedUserSQL, u.Email, u.Username, u.DisplayName, u.Bio, u.IsBuyer, u.IsSeller, nullable(u.PasswordHash)); err != nil {
				return fmt.Errorf("seed user %s: %w", u.Username, err)
			}
		}
		for _, c := range data.Categories {
			if err := seedExec(ctx, tx, &n.Categories, seedCategorySQL, c.Slug, c.Name); err != nil {
				return fmt.Errorf("seed category %s: %w", c.Slug, err)
			}
		}
		for _, g := range data.Gigs {
			if err := seedGig(ctx, tx, g, &n); err != nil {
				return fmt.Errorf("seed gig %s: %w", g.Slug, err)
			}
		}
		return nil
	})
	return n, err
}

const seedUserSQL = `
INSERT INTO users (email, username, display_name, bio, is_buyer, is_seller, password_hash, email_verified_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, now())
ON CONFLICT DO NOTHING`

const seedCategorySQL = `
INSERT INTO categories (slug, name) VALUES ($1, $2) ON CONFLICT DO NOTHING`

const seedGigSQL = `
INSERT INTO gigs (seller_id, category_id, slug, title, description, status, published_at)
SELECT u.id, c.id, $3, $4, $5, 'published', now()
FROM users u, categories c
WHERE u.username = $1 AND c.slug = $2
ON CONFLICT DO NOTHING`

const seedPackageSQL = `
INSERT INTO gig_packages (gig_id, tier, title, price_minor, currency, delivery_days, revisions)
SELECT g.id, $2, $3, $4, $5, $6, $7 FROM gigs g WHERE g.slug = $1
ON CONFLICT DO NOTHING`

func seedGig(ctx context.Context, tx *sqlx.Tx, g SeedGig, n *SeedCounts) error {
	if err := seedExec(ctx, tx, &n.Gigs, seedGigSQL, g.SellerUsername, g.CategorySlug, g.Slug, g.Title, g.Description); err != nil {
		return err
	}
	for _, p := range g.Packages {
		if err := seedExec(ctx, tx, &n.Packages, seedPackageSQL, g.Slug, p.Tier, p.Title, p.PriceMinor, p.Currency, p.DeliveryDays, p.Revisions); err != nil {
			return fmt.Errorf("package %s: %w", p.Tier, err)
		}
	}
	return nil
}

func seedExec(ctx context.Context, tx *sqlx.Tx, count *int64, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	added, err := res.RowsAffected()
	if err != nil {
		return err
	}
	*count += added
	return nil
}

// nullable stores an empty string as NULL.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
