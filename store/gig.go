package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

// gigSelect reads a gig with its category and seller; packages come from
// attachPackages.
var gigSelect = `
	SELECT g.id, g.slug, g.title, g.description, g.status, g.published_at, g.created_at, g.updated_at,
		` + aliased("c.", "category.", "id, slug, name, parent_id") + `,
		` + aliased("u.", "seller.", "id, username, display_name") + `,
		(u.deleted_at IS NULL AND u.disabled_at IS NULL) AS seller_active,
		rt.n AS "rating.count", rt.total AS "rating.total"
	FROM gigs g
	JOIN categories c ON c.id = g.category_id
	JOIN users u ON u.id = g.seller_id
	CROSS JOIN LATERAL (SELECT count(*) AS n, coalesce(sum(rating), 0) AS total FROM reviews WHERE gig_id = g.id) rt`

var gigSlug = regexp.MustCompile(`^[a-z0-9-]{3,100}$`)

// Gig returns a gig by id or slug, whatever its status, with its packages. A malformed
// id or slug, like a missing gig, wraps ErrNotFound.
func (db *DB) Gig(ctx context.Context, idOrSlug string) (market.Gig, error) {
	return db.gigWhere(ctx, db.x, idOrSlug)
}

func (db *DB) gigWhere(ctx context.Context, q sqlx.QueryerContext, idOrSlug string) (market.Gig, error) {
	where := ` WHERE g.slug = $1`
	switch {
	case isUUID(idOrSlug):
		where = ` WHERE g.id = $1`
	case !gigSlug.MatchString(idOrSlug):
		return market.Gig{}, fmt.Errorf("gig %q: %w", idOrSlug, ErrNotFound)
	}
	list := []market.Gig{}
	if err := sqlx.SelectContext(ctx, q, &list, gigSelect+where, idOrSlug); err != nil {
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

// PublishedGigs returns the published gigs of active sellers that match f, newest
// published first, at most f.Limit, each with its packages.
func (db *DB) PublishedGigs(ctx context.Context, f market.GigFilter) ([]market.Gig, error) {
	where, args := publishedWhere(f)
	args = append(args, f.Limit)
	query := gigSelect + `
	JOIN LATERAL (SELECT min(p.price_minor) AS price, min(p.currency) AS currency
		FROM gig_packages p WHERE p.gig_id = g.id) cheapest ON true
	WHERE ` + strings.Join(where, " AND ") + fmt.Sprintf(`
	ORDER BY g.published_at DESC, g.id DESC LIMIT $%d`, len(args))
	list := []market.Gig{}
	if err := db.x.SelectContext(ctx, &list, query, args...); err != nil {
		return nil, fmt.Errorf("published gigs: %w", err)
	}
	return list, attachPackages(ctx, db.x, list)
}

// publishedWhere turns a filter into SQL conditions and their arguments.
func publishedWhere(f market.GigFilter) ([]string, []any) {
	where := []string{`g.status = 'published'`, `u.deleted_at IS NULL`, `u.disabled_at IS NULL`}
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", fmt.Sprintf("$%d", len(args))))
	}
	if f.CategorySlug != "" {
		add(`g.category_id IN (SELECT k.id FROM categories k LEFT JOIN categories parent ON parent.id = k.parent_id
			WHERE k.slug = $? OR parent.slug = $?)`, f.CategorySlug)
	}
	switch {
	case f.Seller == "":
	case isUUID(f.Seller):
		add(`u.id = $?`, f.Seller)
	default:
		add(`u.username = $?`, strings.ToLower(f.Seller))
	}
	if f.Query != "" {
		add(`(g.title ILIKE $? OR g.description ILIKE $?)`, "%"+likeEscaper.Replace(f.Query)+"%")
	}
	if f.Currency != "" {
		add(`cheapest.currency = $?`, f.Currency)
	}
	if f.MinPrice > 0 {
		add(`cheapest.price >= $?`, f.MinPrice)
	}
	if f.MaxPrice > 0 {
		add(`cheapest.price <= $?`, f.MaxPrice)
	}
	if f.After != nil {
		args = append(args, f.After.PublishedAt, f.After.ID)
		where = append(where, fmt.Sprintf(`(g.published_at, g.id) < ($%d, $%d::uuid)`, len(args)-1, len(args)))
	}
	return where, args
}

// likeEscaper makes user text match itself literally in a LIKE pattern.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// attachPackages fills in the packages of every gig of list, in tier order, in one query.
func attachPackages(ctx context.Context, q sqlx.QueryerContext, list []market.Gig) error {
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
	err := sqlx.SelectContext(ctx, q, &rows, `
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
