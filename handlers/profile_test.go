package handlers

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

// TestMoreGigsLinkIsACatalogueRequestForTheRest: the profile's link parses as the
// catalogue's filter of the seller, newest first, continuing at the profile's cursor.
func TestMoreGigsLinkIsACatalogueRequestForTheRest(t *testing.T) {
	after := market.GigCursor{Sort: market.SortNewest, PublishedAt: time.Date(2026, 12, 4, 12, 0, 0, 123456000, time.UTC),
		ID: "0193a7c2-5b1e-7c3d-9f00-0123456789ab"}
	if got := moreGigsLink(market.PublicProfile{Username: "seller_1"}); got != nil {
		t.Fatalf("no cursor: link %q, want none", *got)
	}
	link := moreGigsLink(market.PublicProfile{Username: "seller_1", MoreGigs: &after})
	if link == nil || !strings.HasPrefix(*link, "/gigs?") {
		t.Fatalf("link %v", link)
	}
	u, err := url.Parse(*link)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gigFilterFrom(u.Query().Get)
	if err != nil {
		t.Fatalf("the list route refuses %s: %v", *link, err)
	}
	if f.Seller != "seller_1" || f.EffectiveSort() != market.SortNewest || f.After == nil ||
		!f.After.PublishedAt.Equal(after.PublishedAt) || f.After.ID != after.ID {
		t.Fatalf("%s reads as %+v", *link, f)
	}
}
