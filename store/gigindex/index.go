package gigindex

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// Doc is a listed gig as the index sees it: its text and the fields filters, facets
// and sorts read. Only gigs that buyers may see (published, seller active) are put.
type Doc struct {
	ID           string
	Title        string
	Tags         []string
	Description  string // sanitized HTML: tags and entities are skipped
	CategoryID   string
	Currency     string
	PriceMinor   int64
	DeliveryDays int
	RatingMean   int // hundredths of a star; negative when the gig has no review
	RatingScore  int64
	SellerID     string
	PublishedAt  time.Time
}

// The weights of the fields (ts_rank's A, B, C) and BM25's parameters.
const (
	titleWeight       = 1.0
	tagWeight         = 0.4
	descriptionWeight = 0.2
	bm25K1            = 1.2
	bm25B             = 0.75
)

type docMeta struct {
	id         string
	price      int64
	score      int64
	published  int64 // unix microseconds, as PostgreSQL keeps them
	seller     uint32
	category   uint16
	currency   uint8
	delivery   uint8
	ratingMean int16
	phrases    []uint32 // the suggestions this gig counts in
}

// postings are the documents holding a term, in increasing order, each with the
// BM25 weight of the term in it (without the idf, which changes as gigs come and go).
type postings struct {
	docs   []uint32
	weight []float32
}

// Index is one node's search index. Its methods are safe for concurrent use: searches
// share a read lock, Put and Remove take the write lock for a few microseconds.
type Index struct {
	mu       sync.RWMutex
	docs     []docMeta
	dead     []bool
	live     int
	byID     map[string]uint32
	terms    map[string]*postings
	lex      lexicon
	sugg     suggestions
	cats     interned
	curs     interned
	sellers  interned
	totalLen float64
}

// New returns an empty index.
func New() *Index {
	return &Index{byID: map[string]uint32{}, terms: map[string]*postings{}, lex: newLexicon(), sugg: newSuggestions(),
		cats: newInterned(), curs: newInterned(), sellers: newInterned()}
}

// interned numbers strings (category, currency and seller ids) in order of arrival.
type interned struct {
	names []string
	index map[string]int
}

func newInterned() interned { return interned{index: map[string]int{}} }

func (in *interned) id(name string) int {
	if i, ok := in.index[name]; ok {
		return i
	}
	in.names = append(in.names, name)
	in.index[name] = len(in.names) - 1
	return len(in.names) - 1
}

// lookup is the number of a known name, or -1.
func (in *interned) lookup(name string) int {
	if i, ok := in.index[name]; ok {
		return i
	}
	return -1
}

// Len is how many gigs the index lists.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.live
}

// Garbage is the share of document numbers that belong to removed or replaced gigs;
// past a quarter or so, rebuilding the index pays.
func (ix *Index) Garbage() float64 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if len(ix.docs) == 0 {
		return 0
	}
	return 1 - float64(ix.live)/float64(len(ix.docs))
}

// Put lists a gig, replacing the one with the same id.
func (ix *Index) Put(d Doc) {
	fields := []struct {
		words  []string
		weight float32
	}{{Words(d.Title), titleWeight}, {Words(strings.Join(d.Tags, " ")), tagWeight}, {Words(d.Description), descriptionWeight}}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.removeLocked(d.ID)
	n := uint32(len(ix.docs))
	tf := map[string]float32{}
	seen := map[string]bool{}
	var length float32
	for _, f := range fields {
		for _, w := range f.words {
			if IsStopWord(w) {
				continue
			}
			if !seen[w] {
				seen[w] = true
				ix.lex.add(w)
			}
			tf[ix.lex.stem(w)] += f.weight
			length += f.weight
		}
	}
	ix.totalLen += float64(length)
	avg := float32(ix.totalLen / float64(ix.live+1))
	for term, wtf := range tf {
		p := ix.terms[term]
		if p == nil {
			p = &postings{}
			ix.terms[term] = p
		}
		p.docs = append(p.docs, n)
		p.weight = append(p.weight, wtf*(bm25K1+1)/(wtf+bm25K1*(1-bm25B+bm25B*length/avg)))
	}
	ix.docs = append(ix.docs, docMeta{
		id: d.ID, price: d.PriceMinor, score: d.RatingScore, published: d.PublishedAt.UnixMicro(),
		seller: uint32(ix.sellers.id(d.SellerID)), category: uint16(ix.cats.id(d.CategoryID)),
		currency: uint8(ix.curs.id(d.Currency)), delivery: uint8(min(max(d.DeliveryDays, 0), 255)),
		ratingMean: int16(max(d.RatingMean, -1)), phrases: ix.sugg.add(d.Title, d.Tags),
	})
	ix.dead = append(ix.dead, false)
	ix.byID[d.ID] = n
	ix.live++
}

// Remove unlists a gig; an unknown id is no error.
func (ix *Index) Remove(id string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.removeLocked(id)
}

func (ix *Index) removeLocked(id string) {
	n, ok := ix.byID[id]
	if !ok {
		return
	}
	delete(ix.byID, id)
	ix.dead[n] = true
	ix.live--
	ix.sugg.remove(ix.docs[n].phrases)
	ix.docs[n].phrases = nil
}

// Contains reports whether a gig is listed.
func (ix *Index) Contains(id string) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	_, ok := ix.byID[id]
	return ok
}

// Categories counts the listed gigs of each category id.
func (ix *Index) Categories() map[string]int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	counts := make([]int, len(ix.cats.names))
	for n := range ix.docs {
		if !ix.dead[n] {
			counts[ix.docs[n].category]++
		}
	}
	out := map[string]int{}
	for i, c := range counts {
		if c > 0 {
			out[ix.cats.names[i]] = c
		}
	}
	return out
}

// sortedKeys is a map's keys in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
