package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

// searchConfig is the text search configuration of gigs.search (migration 00012):
// a query must be parsed with the same one to match its stemmed words.
const searchConfig = "english"

// gigOrder is how one market.GigSort reads in SQL: the key it compares, its
// direction, and the parameter cast a cursor's key needs.
type gigOrder struct {
	key, cast string
	desc      bool
}

var gigOrders = map[market.GigSort]gigOrder{
	market.SortNewest:    {key: `g.published_at`, cast: `timestamptz`, desc: true},
	market.SortRelevance: {key: `ts_rank_cd(g.search, websearch_to_tsquery('` + searchConfig + `', $1))`, cast: `real`, desc: true},
	market.SortPriceAsc:  {key: `g.price_minor`, cast: `bigint`},
	market.SortPriceDesc: {key: `g.price_minor`, cast: `bigint`, desc: true},
	market.SortRating:    {key: `g.rating_score`, cast: `bigint`, desc: true},
}

// rumRelevance orders by the RUM index's distance to the query (the lower the more
// relevant), read from the index itself instead of ranking every match.
var rumRelevance = gigOrder{key: `g.search <=> websearch_to_tsquery('` + searchConfig + `', $1)`, cast: `real`}

// searchUsesRUM reports whether migration 00015 created the RUM index here (see
// migrations/00015_gig_discovery.sql), asked once per pool.
func (db *DB) searchUsesRUM(ctx context.Context) bool {
	db.rumOnce.Do(func() {
		err := db.x.GetContext(ctx, &db.rum, `SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'gigs_search_rum_idx')`)
		if err != nil {
			db.rum = false
		}
	})
	return db.rum
}

// PublishedGigs returns the published gigs of active sellers that match f, in
// f.EffectiveSort() after f.After (a position in that order), at most f.Limit, each
// with its packages. A query that has no word to search for (only stop words or
// punctuation) is an invalid Error naming q.
func (db *DB) PublishedGigs(ctx context.Context, f market.GigFilter) ([]market.Gig, error) {
	f.Sort = f.EffectiveSort()
	order, ok := gigOrders[f.Sort]
	if !ok {
		return nil, fmt.Errorf("published gigs: unknown sort %q", f.Sort)
	}
	if f.Sort == market.SortRelevance && db.searchUsesRUM(ctx) {
		order = rumRelevance
	}
	if err := db.checkSearchable(ctx, f.Query); err != nil {
		return nil, err
	}
	query, args := publishedQuery(f, order)
	list := []market.Gig{}
	if err := db.x.SelectContext(ctx, &list, query, args...); err != nil {
		return nil, fmt.Errorf("published gigs: %w", err)
	}
	return list, attachPackages(ctx, db.x, list)
}

// checkSearchable refuses a query that parses to no search term: it would match
// nothing, which a client would read as "no such gigs".
func (db *DB) checkSearchable(ctx context.Context, q string) error {
	if q == "" {
		return nil
	}
	var nodes int
	err := db.x.GetContext(ctx, &nodes, `SELECT numnode(websearch_to_tsquery('`+searchConfig+`', $1))`, q)
	if err != nil {
		return fmt.Errorf("parse search %q: %w", q, err)
	}
	if nodes == 0 {
		return market.FieldError(market.CodeInvalid, "q", "has no word to search for (only common words or punctuation)")
	}
	return nil
}

// publishedQuery builds the listing's SQL and arguments. The query text, when there
// is one, is always $1, which the relevance key refers to.
func publishedQuery(f market.GigFilter, order gigOrder) (string, []any) {
	w := &whereBuilder{where: []string{`g.status = 'published'`, `u.deleted_at IS NULL`, `u.disabled_at IS NULL`}}
	rank := `0::real`
	if f.Query != "" {
		w.add(`g.search @@ websearch_to_tsquery('`+searchConfig+`', $?)`, f.Query)
		rank = gigOrders[market.SortRelevance].key
		if f.Sort == market.SortRelevance {
			rank = order.key
		}
	}
	filterGigs(w, f)
	dir, cmp := "ASC", ">"
	if order.desc {
		dir, cmp = "DESC", "<"
	}
	if f.After != nil {
		w.args = append(w.args, cursorKey(f.Sort, f.After), f.After.ID)
		n := len(w.args)
		w.where = append(w.where, fmt.Sprintf(`(%s, g.id) %s ($%d::%s, $%d::uuid)`, order.key, cmp, n-1, order.cast, n))
	}
	sortValue := `0::bigint`
	if order.cast == "bigint" {
		sortValue = order.key
	}
	w.args = append(w.args, f.Limit)
	return gigColumns + `, ` + rank + ` AS rank, ` + sortValue + ` AS sort_value` + gigTables + `
	WHERE ` + strings.Join(w.where, " AND ") + fmt.Sprintf(`
	ORDER BY %s %s, g.id %s LIMIT $%d`, order.key, dir, dir, len(w.args)), w.args
}

// cursorKey is the sort key a cursor holds for the order s.
func cursorKey(s market.GigSort, c *market.GigCursor) any {
	switch s {
	case market.SortNewest:
		return c.PublishedAt
	case market.SortRelevance:
		return float64(c.Rank) // the nearest real is the rank itself
	default:
		return c.SortValue
	}
}

// filterGigs adds the conditions of f's filters other than the query and cursor.
func filterGigs(w *whereBuilder, f market.GigFilter) {
	if f.CategorySlug != "" {
		w.add(`g.category_id IN (SELECT k.id FROM categories k LEFT JOIN categories parent ON parent.id = k.parent_id
			WHERE k.slug = $? OR parent.slug = $?)`, f.CategorySlug)
	}
	switch {
	case f.Seller == "":
	case isUUID(f.Seller):
		w.add(`u.id = $?`, f.Seller)
	default:
		w.add(`u.username = $?`, strings.ToLower(f.Seller))
	}
	if f.Currency != "" {
		w.add(`g.price_currency = $?`, f.Currency)
	}
	if f.MinPrice > 0 {
		w.add(`g.price_minor >= $?`, f.MinPrice)
	}
	if f.MaxPrice > 0 {
		w.add(`g.price_minor <= $?`, f.MaxPrice)
	}
	if f.MaxDeliveryDays > 0 {
		w.add(`g.delivery_days <= $?`, f.MaxDeliveryDays)
	}
	if f.MinRating > 0 {
		w.add(`g.rating_mean >= $?`, f.MinRating)
	}
	if f.OnlineOnly {
		w.add(`g.seller_id = ANY($?::uuid[])`, pq.Array(f.OnlineSellers))
	}
}

// whereBuilder collects SQL conditions and their arguments; $? in a condition is
// its argument's placeholder.
type whereBuilder struct {
	where []string
	args  []any
}

func (w *whereBuilder) add(cond string, v any) {
	w.args = append(w.args, v)
	w.where = append(w.where, strings.ReplaceAll(cond, "$?", fmt.Sprintf("$%d", len(w.args))))
}
