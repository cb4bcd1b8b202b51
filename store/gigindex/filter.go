package gigindex

// filter is a request's filters resolved to the index's numbers.
type filter struct {
	categories  []bool // by category number; nil: any
	currency    int    // -1: any; -2: a currency no gig has
	minPrice    int64
	maxPrice    int64
	sellers     map[uint32]bool // nil: anyone
	online      map[uint32]bool // nil: no online filter
	maxDelivery int
	minRating   int
	only        map[uint32]bool // nil: every gig
}

// passes says which filters a gig passes: each facet's own, and the rest together.
type passes struct{ base, category, currency, price, delivery, rating bool }

func (p passes) all() bool {
	return p.base && p.category && p.currency && p.price && p.delivery && p.rating
}

func (ix *Index) newFilter(r Request) *filter {
	f := &filter{currency: -1, minPrice: r.MinPrice, maxPrice: r.MaxPrice, maxDelivery: r.MaxDeliveryDays,
		minRating: r.MinRating}
	if len(r.Categories) > 0 {
		f.categories = make([]bool, len(ix.cats.names))
		for _, c := range r.Categories {
			if i := ix.cats.lookup(c); i >= 0 {
				f.categories[i] = true
			}
		}
	}
	if r.Currency != "" {
		f.currency = ix.curs.lookup(r.Currency)
		if f.currency < 0 {
			f.currency = -2
		}
	}
	if r.Sellers != nil {
		f.sellers = ix.numbers(r.Sellers)
	}
	if r.OnlineOnly {
		f.online = ix.numbers(r.Online)
	}
	if r.Within != nil {
		f.only = map[uint32]bool{}
		for _, id := range r.Within {
			if n, ok := ix.byID[id]; ok {
				f.only[n] = true
			}
		}
	}
	return f
}

// numbers are the seller numbers of known seller ids.
func (ix *Index) numbers(ids []string) map[uint32]bool {
	out := make(map[uint32]bool, len(ids))
	for _, id := range ids {
		if i := ix.sellers.lookup(id); i >= 0 {
			out[uint32(i)] = true
		}
	}
	return out
}

func (f *filter) within(n uint32) bool { return f.only == nil || f.only[n] }

func (f *filter) check(d *docMeta) passes {
	p := passes{base: true, category: true, currency: true, price: true, delivery: true, rating: true}
	if f.sellers != nil && !f.sellers[d.seller] || f.online != nil && !f.online[d.seller] {
		p.base = false
	}
	if f.categories != nil && !f.categories[d.category] {
		p.category = false
	}
	if f.currency != -1 && int(d.currency) != f.currency {
		p.currency = false
	}
	if f.minPrice > 0 && d.price < f.minPrice || f.maxPrice > 0 && d.price > f.maxPrice {
		p.price = false
	}
	if f.maxDelivery > 0 && int(d.delivery) > f.maxDelivery {
		p.delivery = false
	}
	if f.minRating > 0 && int(d.ratingMean) < f.minRating {
		p.rating = false
	}
	return p
}

func newFacets(prices bool) *Facets {
	f := &Facets{Categories: map[string]int{}, Currencies: map[string]int{}, Delivery: map[int]int{}, Rating: map[int]int{}}
	if prices {
		f.Prices = []int{}
	}
	return f
}

// count adds a matching gig to the facets whose other filters it passes.
func (ix *Index) count(fc *Facets, d *docMeta, p passes, r Request) {
	if !p.base {
		return
	}
	if p.currency && p.price && p.delivery && p.rating {
		fc.Categories[ix.cats.names[d.category]]++
	}
	if p.category && p.price && p.delivery && p.rating {
		fc.Currencies[ix.curs.names[d.currency]]++
	}
	if fc.Prices != nil && p.category && p.currency && p.delivery && p.rating {
		for len(fc.Prices) < len(r.PriceEdges) {
			fc.Prices = append(fc.Prices, 0)
		}
		b := 0
		for b+1 < len(r.PriceEdges) && d.price >= r.PriceEdges[b+1] {
			b++
		}
		fc.Prices[b]++
	}
	if p.category && p.currency && p.price && p.rating {
		for _, days := range DeliveryBuckets {
			if int(d.delivery) <= days {
				fc.Delivery[days]++
			}
		}
	}
	if p.category && p.currency && p.price && p.delivery {
		for _, stars := range RatingBuckets {
			if int(d.ratingMean) >= stars {
				fc.Rating[stars]++
			}
		}
	}
}
