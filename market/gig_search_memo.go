package market

import "sync/atomic"

// SearchMemo keeps, beside one cached search result, what is derived from it: the
// page with its covers (List) and the encoded answer (the HTTP layer's, opaque here),
// so that a cache hit repeats none of that work. It lives exactly as long as the
// result's cache entry, which every change that may alter the result ends (a gig, its
// packages, media, seller or category: see store.GigSearch), so what it keeps is as
// fresh as the result. A result that is not cached has no memo (nil).
type SearchMemo struct {
	page    atomic.Pointer[GigPage]
	encoded atomic.Value
}

// Page is the page List made of the result, nil until one is kept.
func (m *SearchMemo) Page() *GigPage {
	if m == nil {
		return nil
	}
	return m.page.Load()
}

// keepPage keeps p, and returns it with its Memo set, unless a cover carries
// presigned video links, which expire: such a page is returned as it is.
func (m *SearchMemo) keepPage(p GigPage) GigPage {
	if m == nil {
		return p
	}
	for _, g := range p.Gigs {
		if g.Cover != nil && g.Cover.VideoStatus != nil {
			return p
		}
	}
	p.Memo = m
	m.page.Store(&p)
	return p
}

// Encoded is what SetEncoded kept, nil until then.
func (m *SearchMemo) Encoded() any {
	if m == nil {
		return nil
	}
	return m.encoded.Load()
}

// SetEncoded keeps v, the page as a client receives it, made from Page; always the
// same type of value.
func (m *SearchMemo) SetEncoded(v any) {
	if m != nil {
		m.encoded.Store(v)
	}
}
