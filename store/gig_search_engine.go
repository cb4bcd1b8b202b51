package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store/gigindex"
)

// SearchGigs implements market.GigSearch: the index finds and orders the page, counts
// the matches and the facets, and the page's gigs are read by id (those unlisted since
// the index last read are left out, so a page may come up one short).
func (s *GigSearch) SearchGigs(ctx context.Context, f market.GigFilter) (market.GigResults, error) {
	f.Sort = f.EffectiveSort()
	q := gigindex.Parse(f.Query)
	if f.Query != "" && !q.HasWords() {
		return market.GigResults{}, noWordError()
	}
	if q.Phrase || f.Query == "" && !f.Facets && !engineFilters(f) {
		list, err := s.db.PublishedGigs(ctx, f)
		return market.GigResults{Gigs: list}, err
	}
	req, err := s.request(ctx, f, q)
	if err != nil {
		return market.GigResults{}, err
	}
	if err := s.fresh(ctx, s.cfg.MaxLag, true); err != nil {
		return market.GigResults{}, fmt.Errorf("search index: %w", err)
	}
	key := cacheKey(s.version.Load(), f)
	if out, ok := s.cache.get(key); ok {
		return out, nil
	}
	res := s.index.Load().Search(req)
	gigs, err := s.db.gigsByHits(ctx, res.Hits)
	if err != nil {
		return market.GigResults{}, err
	}
	out := market.GigResults{Gigs: gigs, Total: &res.Total}
	if res.Facets != nil {
		out.Facets = s.cats.Load().facets(res.Facets, req.PriceEdges)
	}
	return s.cache.put(key, out), nil
}

// engineFilters reports whether f filters on something only the index knows.
func engineFilters(f market.GigFilter) bool {
	return f.MaxDeliveryDays > 0 || f.MinRating > 0 || f.OnlineOnly
}

func noWordError() error {
	return market.FieldError(market.CodeInvalid, "q", "has no word to search for (only common words or punctuation)")
}

// request turns a filter into the index's terms: category slug to ids, seller name to id.
func (s *GigSearch) request(ctx context.Context, f market.GigFilter, q gigindex.Query) (gigindex.Request, error) {
	req := gigindex.Request{
		Query: q, Currency: f.Currency, MinPrice: f.MinPrice, MaxPrice: f.MaxPrice,
		MaxDeliveryDays: f.MaxDeliveryDays, MinRating: f.MinRating, OnlineOnly: f.OnlineOnly, Online: f.OnlineSellers,
		Sort: gigindex.Sort(f.Sort), Limit: f.Limit, Facets: f.Facets,
	}
	if f.Currency != "" {
		req.PriceEdges = market.PriceBucketEdges(f.Currency)
	}
	if f.CategorySlug != "" {
		req.Categories = s.cats.Load().subtree(f.CategorySlug)
		if req.Categories == nil {
			req.Categories = []string{"none"} // no such category: nothing matches
		}
	}
	if f.Seller != "" {
		id, err := s.db.sellerID(ctx, f.Seller)
		if err != nil {
			return req, err
		}
		req.Sellers = []string{id}
	}
	if c := f.After; c != nil {
		req.After = &gigindex.Cursor{Rank: c.Rank, Value: c.SortValue, ID: c.ID}
		if f.Sort == market.SortNewest {
			req.After.Value = c.PublishedAt.UnixMicro()
		}
	}
	return req, nil
}

// sellerID resolves a username or id to a user id; an unknown one is "" (no gig).
func (db *DB) sellerID(ctx context.Context, nameOrID string) (string, error) {
	if isUUID(nameOrID) {
		return nameOrID, nil
	}
	var id string
	err := db.x.GetContext(ctx, &id, `SELECT id FROM users WHERE username = $1`, strings.ToLower(nameOrID))
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("seller %q: %w", nameOrID, err)
	}
	return id, nil
}

// gigsByHits reads the listed gigs of hits in their order, with packages, carrying
// each hit's sort key for the cursor.
func (db *DB) gigsByHits(ctx context.Context, hits []gigindex.Hit) ([]market.Gig, error) {
	list := []market.Gig{}
	if len(hits) == 0 {
		return list, nil
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	err := db.x.SelectContext(ctx, &list, gigSelect+`
		WHERE g.id = ANY($1) AND g.status = 'published' AND u.deleted_at IS NULL AND u.disabled_at IS NULL`, pq.Array(ids))
	if err != nil {
		return nil, fmt.Errorf("gigs by id: %w", err)
	}
	byID := make(map[string]market.Gig, len(list))
	for _, g := range list {
		byID[g.ID] = g
	}
	out := list[:0:0]
	for _, h := range hits {
		if g, ok := byID[h.ID]; ok {
			g.Rank, g.SortValue = h.Rank, h.Value
			out = append(out, g)
		}
	}
	return out, attachPackages(ctx, db.x, out)
}

// facets turns the index's counts into the market's, naming categories and adding
// each parent's children to it.
func (t *categoryTree) facets(fc *gigindex.Facets, edges []int64) *market.GigFacets {
	out := &market.GigFacets{Categories: []market.CategoryCount{}, Currencies: []market.CurrencyCount{},
		Prices: []market.PriceCount{}, Delivery: []market.DeliveryCount{}, Rating: []market.RatingCount{}}
	counts := map[string]int{}
	for id, n := range fc.Categories {
		counts[id] += n
		if c, ok := t.byID[id]; ok && c.ParentID != nil {
			counts[*c.ParentID] += n
		}
	}
	for id, n := range counts {
		c, ok := t.byID[id]
		if !ok {
			continue
		}
		cc := market.CategoryCount{Slug: c.Slug, Name: c.Name, Count: n}
		if c.ParentID != nil {
			parent := t.byID[*c.ParentID].Slug
			cc.Parent = &parent
		}
		out.Categories = append(out.Categories, cc)
	}
	slices.SortFunc(out.Categories, func(a, b market.CategoryCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Slug, b.Slug))
	})
	for cur, n := range fc.Currencies {
		out.Currencies = append(out.Currencies, market.CurrencyCount{Currency: cur, Count: n})
	}
	slices.SortFunc(out.Currencies, func(a, b market.CurrencyCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Currency, b.Currency))
	})
	for i, n := range fc.Prices {
		pc := market.PriceCount{MinPrice: edges[i], Count: n}
		if i+1 < len(edges) {
			pc.MaxPrice = &edges[i+1]
		}
		out.Prices = append(out.Prices, pc)
	}
	for _, days := range gigindex.DeliveryBuckets {
		out.Delivery = append(out.Delivery, market.DeliveryCount{Days: days, Count: fc.Delivery[days]})
	}
	for _, r := range gigindex.RatingBuckets {
		out.Rating = append(out.Rating, market.RatingCount{MinRating: float64(r) / 100, Count: fc.Rating[r]})
	}
	return out
}

// suggestLag is how stale suggestions may be.
const suggestLag = time.Second

// SuggestGigs implements market.GigSearch: category names that start with the typed
// text, then the index's tags and title words.
func (s *GigSearch) SuggestGigs(ctx context.Context, typed string, limit int) ([]market.GigSuggestion, error) {
	// Suggestions may lag a little behind the catalogue: a second, or MaxLag.
	if err := s.fresh(ctx, max(s.cfg.MaxLag, suggestLag), true); err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	idx := s.index.Load()
	out := []market.GigSuggestion{}
	words := strings.Join(gigindex.Words(typed), " ")
	if words == "" {
		return out, nil
	}
	counts := idx.Categories()
	t := s.cats.Load()
	for _, c := range t.byID {
		if t.archived(c) {
			continue // retired: no longer offered, though its gigs still match words
		}
		name := strings.Join(gigindex.Words(c.Name), " ")
		n := counts[c.ID]
		for _, k := range t.byID {
			if k.ParentID != nil && *k.ParentID == c.ID {
				n += counts[k.ID]
			}
		}
		if n > 0 && (strings.HasPrefix(name, words) || strings.Contains(name, " "+words)) {
			out = append(out, market.GigSuggestion{Text: c.Name, Kind: "category", Category: c.Slug, Gigs: n})
		}
	}
	slices.SortFunc(out, func(a, b market.GigSuggestion) int {
		return cmp.Or(cmp.Compare(b.Gigs, a.Gigs), strings.Compare(a.Text, b.Text))
	})
	out = out[:min(len(out), max(1, limit/4))]
	for _, sg := range idx.Suggest(typed, limit-len(out)) {
		out = append(out, market.GigSuggestion{Text: sg.Text, Kind: sg.Kind, Gigs: sg.Gigs})
	}
	return out, nil
}

// MatchingGigs implements market.GigSearch for saved searches: the gigs among ids that
// f's query and filters match, in the index as of now.
func (s *GigSearch) MatchingGigs(ctx context.Context, f market.GigFilter, ids []string) ([]string, error) {
	q := gigindex.Parse(f.Query)
	f.Sort, f.After, f.Facets, f.Limit = market.SortNewest, nil, false, len(ids)
	req, err := s.request(ctx, f, q)
	if err != nil {
		return nil, err
	}
	req.Within = ids
	// Strict even while notices are heard: a new gig is matched by a job that may
	// run on a node its notice has not reached yet.
	if err := s.fresh(ctx, s.cfg.MaxLag, false); err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	out := []string{}
	for _, h := range s.index.Load().Search(req).Hits {
		out = append(out, h.ID)
	}
	return out, nil
}

// MatchSavedSearches implements market.SavedSearchMatcher: for each filter, whether
// gigID matches it, as MatchingGigs would say, with one wait for the index's
// freshness for the whole batch. A filter whose query has no word matches nothing.
func (s *GigSearch) MatchSavedSearches(ctx context.Context, gigID string, filters []market.GigFilter) ([]bool, error) {
	// Strict even while notices are heard: a new gig is matched by a job that may
	// run on a node its notice has not reached yet.
	if err := s.fresh(ctx, s.cfg.MaxLag, false); err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	idx := s.index.Load()
	out := make([]bool, len(filters))
	within := []string{gigID}
	for i, f := range filters {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q := gigindex.Parse(f.Query)
		if f.Query != "" && !q.HasWords() {
			continue
		}
		f.Sort, f.After, f.Facets, f.Limit, f.OnlineOnly = market.SortNewest, nil, false, 1, false
		req, err := s.request(ctx, f, q)
		if err != nil {
			return nil, err
		}
		req.Within = within
		out[i] = len(idx.Search(req).Hits) > 0
	}
	return out, nil
}

var _ market.SavedSearchMatcher = (*GigSearch)(nil)
