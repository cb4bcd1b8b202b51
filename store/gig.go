package store

import (
	"context"
	"fmt"
	"regexp"

	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

// gigColumns are the columns of a gig with its category, seller and review totals
// (kept on the gig row by a trigger on reviews); packages come from attachPackages.
var gigColumns = `
	SELECT g.id, g.slug, g.title, g.description, to_json(g.tags) AS tags, g.status, g.published_at, g.created_at, g.updated_at,
		` + aliased("c.", "category.", "id, slug, name, parent_id") + `,
		` + aliased("u.", "seller.", "id, username, display_name") + `,
		(u.deleted_at IS NULL AND u.disabled_at IS NULL) AS seller_active,
		g.rating_count AS "rating.count", g.rating_total AS "rating.total",
		g.takedown_reason, g.taken_down_at`

// gigTables are the tables gigColumns read.
const gigTables = `
	FROM gigs g
	JOIN categories c ON c.id = g.category_id
	JOIN users u ON u.id = g.seller_id`

// gigSelect reads a gig with its category and seller.
var gigSelect = gigColumns + gigTables

var gigSlug = regexp.MustCompile(`^[a-z0-9-]{3,100}$`)

// Gig returns a gig by id or slug, whatever its status, with its packages. A malformed
// id or slug, like a missing gig, wraps ErrNotFound.
func (db *DB) Gig(ctx context.Context, idOrSlug string) (market.Gig, error) {
	return db.gigWhere(ctx, db.x, idOrSlug)
}

func (db *DB) gigWhere(ctx context.Context, q querier, idOrSlug string) (market.Gig, error) {
	where := ` WHERE g.slug = $1`
	switch {
	case isUUID(idOrSlug):
		where = ` WHERE g.id = $1`
	case !gigSlug.MatchString(idOrSlug):
		return market.Gig{}, fmt.Errorf("gig %q: %w", idOrSlug, ErrNotFound)
	}
	list := []market.Gig{}
	if err := q.SelectContext(ctx, &list, gigSelect+where, idOrSlug); err != nil {
		return market.Gig{}, fmt.Errorf("gig %q: %w", idOrSlug, err)
	}
	if len(list) == 0 {
		return market.Gig{}, fmt.Errorf("gig %q: %w", idOrSlug, ErrNotFound)
	}
	if err := attachPackages(ctx, q, list); err != nil {
		return market.Gig{}, err
	}
	return list[0], nil
}

// attachPackages fills in the packages of every gig of list, in tier order, in one query.
func attachPackages(ctx context.Context, q querier, list []market.Gig) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]string, len(list))
	byID := make(map[string]*market.Gig, len(list))
	for i := range list {
		ids[i] = list[i].ID
		byID[list[i].ID] = &list[i]
		list[i].Packages = []market.GigPackage{}
	}
	var rows []struct {
		GigID string `db:"gig_id"`
		market.GigPackage
	}
	err := q.SelectContext(ctx, &rows, `
		SELECT gig_id, tier, title, description, price_minor, currency, delivery_days, revisions
		FROM gig_packages WHERE gig_id = ANY($1)
		ORDER BY gig_id, array_position(ARRAY['basic', 'standard', 'premium'], tier)`, pq.Array(ids))
	if err != nil {
		return fmt.Errorf("gig packages: %w", err)
	}
	for _, r := range rows {
		g := byID[r.GigID]
		g.Packages = append(g.Packages, r.GigPackage)
	}
	return nil
}

var _ market.GigStore = (*DB)(nil)
