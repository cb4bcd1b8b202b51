package market

// GigFacets count the gigs that match a search by facet. Each facet's counts apply
// every filter but its own, so a buyer who picks one category still sees how many gigs
// the others hold. Delivery and rating are cumulative ("within 3 days" includes the
// gigs delivered in one).
type GigFacets struct {
	Categories []CategoryCount `json:"categories"`
	Currencies []CurrencyCount `json:"currencies"`
	// Prices are buckets of the cheapest package in the filter's currency; without a
	// currency filter prices do not compare, and the list is empty.
	Prices   []PriceCount    `json:"prices"`
	Delivery []DeliveryCount `json:"delivery"`
	Rating   []RatingCount   `json:"rating"`
}

// CategoryCount is how many matches a category holds; a parent counts its children's.
type CategoryCount struct {
	Slug   string  `json:"slug"`
	Name   string  `json:"name"`
	Parent *string `json:"parent"` // the parent's slug
	Count  int     `json:"count"`
}

// CurrencyCount is how many matches are priced in a currency.
type CurrencyCount struct {
	Currency string `json:"currency"`
	Count    int    `json:"count"`
}

// PriceCount is how many matches have their cheapest package in [MinPrice, MaxPrice)
// (minor units; MaxPrice nil is no upper bound), as min_price and max_price filter.
type PriceCount struct {
	MinPrice int64  `json:"min_price"`
	MaxPrice *int64 `json:"max_price"`
	Count    int    `json:"count"`
}

// DeliveryCount is how many matches deliver within Days (the delivery_days filter).
type DeliveryCount struct {
	Days  int `json:"days"`
	Count int `json:"count"`
}

// RatingCount is how many matches have a mean rating of at least MinRating (stars,
// the min_rating filter).
type RatingCount struct {
	MinRating float64 `json:"min_rating"`
	Count     int     `json:"count"`
}

// priceBucketsMajor are the price facet's lower bounds in major units.
var priceBucketsMajor = []int64{0, 25, 50, 100, 250, 500}

// PriceBucketEdges are the lower bounds of the price facet's buckets in minor units of
// currency (its ISO 4217 exponent, see CurrencyExponent): 0, 25, 50, 100, 250 and 500
// in major units.
func PriceBucketEdges(currency string) []int64 {
	exp, ok := CurrencyExponent(currency)
	if !ok {
		exp = 2
	}
	scale := int64(1)
	for range exp {
		scale *= 10
	}
	out := make([]int64, len(priceBucketsMajor))
	for i, m := range priceBucketsMajor {
		out[i] = m * scale
	}
	return out
}
