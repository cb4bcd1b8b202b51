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
// or unknown one), cacheable for a short while because it shows presence.
func (h *profileRoutes) show(c *fiber.Ctx) error {
	p, err := h.profiles.Public(c.UserContext(), c.Params("username"))
	if err != nil {
		return err
	}
	return sendCached(c, publicProfileResponse{PublicProfile: p, MoreGigs: moreGigsLink(p)}, cachePublicProfile)
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
