package handlers

import (
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// profileRoutes serve public profiles.
type profileRoutes struct {
	profiles *market.Profiles
}

// publicProfileResponse is a profile as GET /users/{username} answers it: the
// profile, and where its gig list continues (the catalogue filtered by the seller,
// newest first, from the cursor after the profile's last gig; null when the profile
// lists every published gig).
type publicProfileResponse struct {
	market.PublicProfile
	MoreGigs *string `json:"more_gigs"`
}

// show returns the profile of an active user to anyone (404 for a disabled, deleted
// or unknown one), cacheable for a short while because it shows presence. A profile
// read from the read cache is encoded once per cached record and presence on this
// node (its Memo): later readers get the same bytes, ETag and gzip without encoding,
// hashing or compressing again.
func (h *profileRoutes) show(c *fiber.Ctx) error {
	p, err := h.profiles.Public(c.UserContext(), c.Params("username"))
	if err != nil {
		return err
	}
	variant := p.PresenceVariant()
	if a, ok := p.Memo.Encoded(variant).(*encodedAnswer); ok {
		return a.send(c, cachePublicProfile)
	}
	a, err := encodeAnswer(publicProfileResponse{PublicProfile: p, MoreGigs: moreGigsLink(p)})
	if err != nil {
		return err
	}
	p.Memo.SetEncoded(variant, a)
	return a.send(c, cachePublicProfile)
}

// moreGigsLink is the catalogue request that lists a profile's published gigs after
// the ones it shows, nil when it shows them all.
func moreGigsLink(p market.PublicProfile) *string {
	if p.MoreGigs == nil {
		return nil
	}
	q := url.Values{"seller": {p.Username}, "sort": {string(market.SortNewest)}, "cursor": {encodeGigCursor(*p.MoreGigs)}}
	link := "/gigs?" + q.Encode()
	return &link
}
