package market

import (
	"strings"
	"unicode"
)

// GigSort is an order of the catalogue. Every order ends with the gig id, so ties in
// its key still page without gaps or duplicates.
type GigSort string

// The orders of the catalogue.
const (
	// SortNewest is newest published first, the default without a query.
	SortNewest GigSort = "newest"
	// SortRelevance ranks matches of the query (ts_rank_cd, title above
	// description), the default with one; it needs a query.
	SortRelevance GigSort = "relevance"
	// SortPriceAsc and SortPriceDesc order by the cheapest package; they need a
	// currency, since prices in different currencies do not compare.
	SortPriceAsc  GigSort = "price_asc"
	SortPriceDesc GigSort = "price_desc"
	// SortRating is best rated first by a Bayesian average that counts ten extra
	// 4-star reviews, (total + 40) / (count + 10), so one 5-star review (4.09) does
	// not beat fifty 4.8s (4.67).
	SortRating GigSort = "rating"
)

// EffectiveSort is the order a filter lists in: its Sort, or the default for its
// Query (relevance with one, newest without).
func (f GigFilter) EffectiveSort() GigSort {
	switch {
	case f.Sort != "":
		return f.Sort
	case strings.TrimSpace(f.Query) != "":
		return SortRelevance
	default:
		return SortNewest
	}
}

// checkGigSort settles f's order and checks that it can be used with f's other
// fields, returning an invalid Error naming sort, q or currency.
func checkGigSort(f *GigFilter) error {
	f.Sort = f.EffectiveSort()
	switch f.Sort {
	case SortNewest, SortRating:
	case SortRelevance:
		if f.Query == "" {
			return FieldError(CodeInvalid, "sort", "relevance needs a search query in q")
		}
	case SortPriceAsc, SortPriceDesc:
		if f.Currency == "" {
			return FieldError(CodeInvalid, "currency", "is required to sort by price")
		}
	default:
		return FieldError(CodeInvalid, "sort", "must be newest, relevance, price_asc, price_desc or rating")
	}
	if f.After != nil && f.After.Sort != f.Sort {
		return FieldError(CodeInvalid, "cursor", "belongs to another sort order")
	}
	return nil
}

// checkGigQuery trims a search query and refuses one that is too long or not one
// line of text; any other text is safe, since websearch_to_tsquery never fails.
func checkGigQuery(q string) (string, error) {
	q = strings.TrimSpace(q)
	if len([]rune(q)) > maxGigQuery || strings.ContainsFunc(q, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }) {
		return "", FieldError(CodeInvalid, "q", "must be one line of text of at most 100 characters")
	}
	return q, nil
}

// cursorAt is the position of gig in the order s.
func cursorAt(s GigSort, gig Gig) *GigCursor {
	c := &GigCursor{Sort: s, ID: gig.ID}
	switch s {
	case SortNewest:
		c.PublishedAt = *gig.PublishedAt
	case SortRelevance:
		c.Rank = gig.Rank
	default:
		c.SortValue = gig.SortValue
	}
	return c
}
