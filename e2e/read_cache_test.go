package e2e

import "testing"

// TestReadCacheKeepsDatabasesSharingARedisApart: two deployments with databases of
// their own share one Redis and both hold the demo seed, so the same gig slug names a
// different gig in each. Each node's GET /gigs/{slug} (a cached page) shows its own
// database's gig, and an order of it places. Before the keys started with the
// database's installation id, the second node served the first one's cached page and
// its order failed with "this gig has no package of that tier" (the fresh-clone CI of
// stop 22 failed 39 e2e tests this way).
func TestReadCacheKeepsDatabasesSharingARedisApart(t *testing.T) {
	first := startOrderNode(t, nil, true)
	second := startOrderNode(t, nil, true)
	if first.gigID == second.gigID {
		t.Fatalf("both nodes show gig %s for one slug", first.gigID)
	}
	for _, o := range []*orderNode{first, second} {
		if n := o.sqlInt64(t, `SELECT count(*) FROM gigs WHERE id = $1`, o.gigID); n != 1 {
			t.Fatalf("node %s shows gig %s, which its database does not hold", o.n.URL, o.gigID)
		}
	}
	second.paidOrder(t)
}
