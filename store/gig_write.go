package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

// CreateGig stores a draft and its packages in one transaction, under a slug made from
// its title (with a random suffix when taken). An unknown category is an invalid Error
// naming the category field.
func (db *DB) CreateGig(ctx context.Context, in market.NewGig) (market.Gig, error) {
	var gig market.Gig
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		categoryID, err := categoryID(ctx, tx, in.CategorySlug, "")
		if err != nil {
			return err
		}
		id, err := insertGig(ctx, tx, in, categoryID)
		if err != nil {
			return err
		}
		if err := upsertPackages(ctx, tx, id, in.Packages); err != nil {
			return err
		}
		gig, err = db.gigWhere(ctx, tx, id)
		return err
	})
	return gig, err
}

// insertGig inserts the gig row under a free slug and returns its id.
func insertGig(ctx context.Context, tx *sqlx.Tx, in market.NewGig, categoryID string) (string, error) {
	base := market.Slugify(in.Title)
	slug := base
	for range 5 {
		var id string
		err := tx.GetContext(ctx, &id, `
			INSERT INTO gigs (seller_id, category_id, slug, title, description, tags) VALUES ($1, $2, $3, $4, $5, COALESCE($6::text[], '{}'))
			ON CONFLICT (slug) DO NOTHING RETURNING id`, in.SellerID, categoryID, slug, in.Title, in.Description, pq.Array(in.Tags))
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("insert gig: %w", err)
		}
		slug = base + "-" + randomHex(3)
	}
	return "", fmt.Errorf("insert gig: no free slug for %q", base)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// categoryID finds the category of slug for gigID ("" for a new gig). An unknown
// category is an invalid Error on category, and so is an archived one unless the gig
// is already in it (a gig keeps a category retired after it chose it).
func categoryID(ctx context.Context, tx *sqlx.Tx, slug, gigID string) (string, error) {
	var c struct {
		ID      string `db:"id"`
		Retired bool   `db:"retired"`
	}
	err := tx.GetContext(ctx, &c, `
		SELECT c.id, (c.archived_at IS NOT NULL OR COALESCE(p.archived_at IS NOT NULL, false))
			AND NOT EXISTS (SELECT 1 FROM gigs g WHERE g.id::text = $2 AND g.category_id = c.id) AS retired
		FROM categories c LEFT JOIN categories p ON p.id = c.parent_id
		WHERE c.slug = $1`, slug, gigID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", market.FieldError(market.CodeInvalid, "category", "no such category")
	}
	if err != nil {
		return "", fmt.Errorf("category %q: %w", slug, err)
	}
	if c.Retired {
		return "", market.FieldError(market.CodeInvalid, "category", "this category is archived; choose another")
	}
	return c.ID, nil
}

// upsertPackages makes the gig's packages exactly list: tiers in list are inserted or
// updated in place (keeping their ids, which orders may point at), the others deleted.
// Deleting a tier that orders point at is a conflict Error.
func upsertPackages(ctx context.Context, tx *sqlx.Tx, gigID string, list []market.GigPackage) error {
	tiers := make([]string, len(list))
	for i, p := range list {
		tiers[i] = p.Tier
		_, err := tx.ExecContext(ctx, `
			INSERT INTO gig_packages (gig_id, tier, title, description, price_minor, currency, delivery_days, revisions)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (gig_id, tier) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description,
				price_minor = EXCLUDED.price_minor, currency = EXCLUDED.currency,
				delivery_days = EXCLUDED.delivery_days, revisions = EXCLUDED.revisions`,
			gigID, p.Tier, p.Title, p.Description, p.PriceMinor, p.Currency, p.DeliveryDays, p.Revisions)
		if err != nil {
			return fmt.Errorf("package %s: %w", p.Tier, err)
		}
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM gig_packages WHERE gig_id = $1 AND NOT (tier = ANY($2))`, gigID, pq.Array(tiers))
	if isForeignKeyViolation(err) {
		return market.FieldError(market.CodeConflict, "packages", "a package that orders point at cannot be removed")
	}
	if err != nil {
		return fmt.Errorf("remove packages: %w", err)
	}
	return nil
}

func isForeignKeyViolation(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23503"
}

// lockOwnGig locks sellerID's gig for the rest of tx and returns its status and
// whether it has a basic package. Someone else's gig, or a malformed id, wraps ErrNotFound.
func lockOwnGig(ctx context.Context, tx *sqlx.Tx, gigID, sellerID string) (market.GigStatus, bool, error) {
	if !isUUID(gigID) {
		return "", false, fmt.Errorf("gig %q: %w", gigID, ErrNotFound)
	}
	var row struct {
		Status   market.GigStatus `db:"status"`
		HasBasic bool             `db:"has_basic"`
	}
	err := tx.GetContext(ctx, &row, `
		SELECT status, EXISTS (SELECT 1 FROM gig_packages p WHERE p.gig_id = g.id AND p.tier = 'basic') AS has_basic
		FROM gigs g WHERE g.id = $1 AND g.seller_id = $2 FOR UPDATE`, gigID, sellerID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, fmt.Errorf("gig %s of %s: %w", gigID, sellerID, ErrNotFound)
	}
	if err != nil {
		return "", false, fmt.Errorf("lock gig %s: %w", gigID, err)
	}
	return row.Status, row.HasBasic, nil
}
