package gigindex

import (
	"container/heap"
	"math"
)

// Sort is an order of a result list; each ends with the gig id, in the direction of
// its key.
type Sort string

// The orders of a search.
const (
	ByRelevance Sort = "relevance" // score, highest first
	ByNewest    Sort = "newest"    // publication, latest first
	ByPriceAsc  Sort = "price_asc" // cheapest package, in Request.Currency
	ByPriceDesc Sort = "price_desc"
	ByRating    Sort = "rating" // the Bayesian rating score, best first
)

// The factors of a word's other forms against an exact match.
const (
	prefixFactor     = 0.8
	correctionFactor = 0.6
	maxCompletions   = 16
	maxCorrections   = 4
)

// Request is a search: the query and filters select gigs, Sort orders them, After and
// Limit page them; Facets asks for the counts of each facet over the matches.
type Request struct {
	Query           Query    // no words: every listed gig
	Categories      []string // category ids; empty: any
	Currency        string   // "": any
	MinPrice        int64    // of the cheapest package; 0: no bound
	MaxPrice        int64
	Sellers         []string // seller ids; nil: anyone's
	Online          []string // when OnlineOnly, the sellers online now
	OnlineOnly      bool
	MaxDeliveryDays int // 0: any
	MinRating       int // hundredths of a star; 0: any (gigs without reviews pass)
	Sort            Sort
	After           *Cursor
	Limit           int
	Facets          bool
	// PriceEdges are the lower bounds (minor units of Currency) of the price facet's
	// buckets, ascending from 0; with no Currency there is no price facet.
	PriceEdges []int64
	// Within, when not nil, restricts the search to these gig ids (a saved search
	// asks whether new gigs match it).
	Within []string
}

// Cursor is the position of the last hit of a page in its order.
type Cursor struct {
	Rank  float32 // by relevance
	Value int64   // publication (unix µs), price or rating score
	ID    string
}

// Hit is a gig in a result, with its sort key.
type Hit struct {
	ID    string
	Rank  float32
	Value int64
}

// The cumulative buckets of the delivery and rating facets.
var (
	DeliveryBuckets = []int{1, 3, 7, 14}        // within N days
	RatingBuckets   = []int{450, 400, 350, 300} // a mean of at least N hundredths
)

// Facets count the matches by facet. A facet's counts apply every filter but its own,
// so choosing a value never hides the others.
type Facets struct {
	Categories map[string]int // category id → gigs
	Currencies map[string]int
	Prices     []int       // per Request.PriceEdges bucket; nil without a Currency
	Delivery   map[int]int // DeliveryBuckets → gigs delivered within that many days
	Rating     map[int]int // RatingBuckets → gigs rated at least that
}

// Result is a page of hits, the number of matches of the query and filters, and the
// facets when asked for.
type Result struct {
	Hits   []Hit
	Total  int
	Facets *Facets
}

// Search runs a request. A query whose words match nothing gives an empty result.
func (ix *Index) Search(r Request) Result {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	m := ix.match(r.Query)
	f := ix.newFilter(r)
	res := Result{}
	if r.Facets {
		res.Facets = newFacets(len(r.PriceEdges) > 0 && r.Currency != "")
	}
	top := &topHits{order: r.Sort, limit: max(r.Limit, 1)}
	each := func(n uint32, rank float32) {
		if ix.dead[n] || !f.within(n) {
			return
		}
		pass := f.check(&ix.docs[n])
		if res.Facets != nil {
			ix.count(res.Facets, &ix.docs[n], pass, r)
		}
		if pass.all() {
			res.Total++
			top.offer(ix.hit(n, rank, r.Sort), r.After)
		}
	}
	if m == nil {
		for n := range ix.docs {
			each(uint32(n), 0)
		}
	} else {
		for i, n := range m.docs {
			each(n, m.weight[i])
		}
	}
	res.Hits = top.sorted()
	return res
}

// match is the documents matching q's words, each with its score; nil when q has no
// word (everything matches).
func (ix *Index) match(q Query) *postings {
	if !q.HasWords() {
		return nil
	}
	var all *postings
	for gi, group := range q.Groups {
		var g *postings
		for wi, w := range group {
			last := gi == len(q.Groups)-1 && wi == len(group)-1
			g = merge(g, ix.wordPostings(w, last), func(a, b float32) float32 { return a + b })
		}
		if all == nil {
			all = g
		} else {
			all = intersect(all, g)
		}
		if len(all.docs) == 0 {
			return all
		}
	}
	for _, w := range q.Not {
		if p := ix.terms[ix.lex.stem(w)]; p != nil {
			all = subtract(all, p)
		}
	}
	return all
}

// wordPostings are the documents of a query word: its stem, scored by idf, merged with
// its completions when it is the query's last word, and with its corrections when
// the index does not know it.
func (ix *Index) wordPostings(w string, last bool) *postings {
	stem := ix.lex.stem(w)
	forms := map[string]float32{stem: 1}
	if last && len(w) >= 2 {
		for _, c := range ix.lex.completions(w, maxCompletions) {
			addForm(forms, ix.lex.stem(c), prefixFactor)
		}
	}
	if ix.terms[stem] == nil {
		for _, c := range ix.lex.corrections(w, maxCorrections) {
			addForm(forms, ix.lex.stem(c), correctionFactor)
		}
	}
	var out *postings
	for _, term := range sortedKeys(forms) {
		p := ix.terms[term]
		if p == nil {
			continue
		}
		out = merge(out, ix.scored(p, forms[term]), func(a, b float32) float32 { return max(a, b) })
	}
	if out == nil {
		return &postings{}
	}
	return out
}

func addForm(forms map[string]float32, stem string, factor float32) {
	if forms[stem] < factor {
		forms[stem] = factor
	}
}

// scored is p with each weight times the term's idf and factor.
func (ix *Index) scored(p *postings, factor float32) *postings {
	n, df := float64(ix.live), float64(len(p.docs))
	idf := float32(math.Log(1+(n-df+0.5)/(df+0.5))) * factor
	out := &postings{docs: p.docs, weight: make([]float32, len(p.weight))}
	for i, w := range p.weight {
		out.weight[i] = w * idf
	}
	return out
}

// merge is the union of two posting lists; a document in both gets join of its weights.
func merge(a, b *postings, join func(a, b float32) float32) *postings {
	if a == nil {
		return b
	}
	out := &postings{docs: make([]uint32, 0, len(a.docs)+len(b.docs)), weight: make([]float32, 0, len(a.docs)+len(b.docs))}
	i, j := 0, 0
	for i < len(a.docs) || j < len(b.docs) {
		switch {
		case j == len(b.docs) || i < len(a.docs) && a.docs[i] < b.docs[j]:
			out.docs, out.weight = append(out.docs, a.docs[i]), append(out.weight, a.weight[i])
			i++
		case i == len(a.docs) || b.docs[j] < a.docs[i]:
			out.docs, out.weight = append(out.docs, b.docs[j]), append(out.weight, b.weight[j])
			j++
		default:
			out.docs, out.weight = append(out.docs, a.docs[i]), append(out.weight, join(a.weight[i], b.weight[j]))
			i, j = i+1, j+1
		}
	}
	return out
}

// intersect is the documents in both lists, their weights added.
func intersect(a, b *postings) *postings {
	out := &postings{}
	i, j := 0, 0
	for i < len(a.docs) && j < len(b.docs) {
		switch {
		case a.docs[i] < b.docs[j]:
			i++
		case b.docs[j] < a.docs[i]:
			j++
		default:
			out.docs, out.weight = append(out.docs, a.docs[i]), append(out.weight, a.weight[i]+b.weight[j])
			i, j = i+1, j+1
		}
	}
	return out
}

// subtract is a without the documents of b.
func subtract(a, b *postings) *postings {
	out := &postings{}
	j := 0
	for i, n := range a.docs {
		for j < len(b.docs) && b.docs[j] < n {
			j++
		}
		if j == len(b.docs) || b.docs[j] != n {
			out.docs, out.weight = append(out.docs, n), append(out.weight, a.weight[i])
		}
	}
	return out
}

func (ix *Index) hit(n uint32, rank float32, s Sort) Hit {
	d := &ix.docs[n]
	h := Hit{ID: d.id, Rank: rank}
	switch s {
	case ByNewest:
		h.Value = d.published
	case ByPriceAsc, ByPriceDesc:
		h.Value = d.price
	case ByRating:
		h.Value = d.score
	}
	return h
}

// before reports whether a comes before b in order s.
func before(s Sort, a, b Hit) bool {
	switch s {
	case ByRelevance:
		if a.Rank != b.Rank {
			return a.Rank > b.Rank
		}
	case ByPriceAsc:
		if a.Value != b.Value {
			return a.Value < b.Value
		}
		return a.ID < b.ID
	default:
		if a.Value != b.Value {
			return a.Value > b.Value
		}
	}
	return a.ID > b.ID
}

// topHits keeps the first limit hits of an order after a cursor: a heap whose root
// is the last of them.
type topHits struct {
	order Sort
	limit int
	hits  []Hit
}

func (t *topHits) Len() int           { return len(t.hits) }
func (t *topHits) Less(i, j int) bool { return before(t.order, t.hits[j], t.hits[i]) }
func (t *topHits) Swap(i, j int)      { t.hits[i], t.hits[j] = t.hits[j], t.hits[i] }
func (t *topHits) Push(x any)         { t.hits = append(t.hits, x.(Hit)) }
func (t *topHits) Pop() any {
	last := t.hits[len(t.hits)-1]
	t.hits = t.hits[:len(t.hits)-1]
	return last
}

func (t *topHits) offer(h Hit, after *Cursor) {
	if after != nil && !before(t.order, Hit{ID: after.ID, Rank: after.Rank, Value: after.Value}, h) {
		return
	}
	if len(t.hits) < t.limit {
		heap.Push(t, h)
	} else if before(t.order, h, t.hits[0]) {
		t.hits[0] = h
		heap.Fix(t, 0)
	}
}

// sorted empties the heap into a list in order.
func (t *topHits) sorted() []Hit {
	out := make([]Hit, len(t.hits))
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(t).(Hit)
	}
	return out
}
