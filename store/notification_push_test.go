package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

// TestOrderPushIsOneJobPerBurstWithAFollowUpWhileRunning holds the burst rule of order
// pushes as stored: notifications about one order routed while its push job waits are
// absorbed by that job; one routed while it runs (it may have read the notifications
// already) queues exactly one follow-up, which absorbs the next ones in turn.
func TestOrderPushIsOneJobPerBurstWithAFollowUpWhileRunning(t *testing.T) {
	f := newRoutingFixture(t)
	first := ""
	route := func(ev market.RoutableEvent) []market.Notification {
		if ev.Type != "order.placed" || ev.Order == nil {
			return nil
		}
		if first == "" {
			first = ev.Order.ID
		}
		id := first // every notification is about the first order: one collapse key
		return []market.Notification{{UserID: ev.Order.BuyerID, Kind: market.KindOrderPaid, Title: "t", Body: "b",
			Link: "/orders/" + id, OrderID: &id, PushAfter: time.Hour}}
	}
	routeOne := func(ref string) {
		t.Helper()
		if len(f.placeAndRoute(t, ref, route)) == 0 {
			t.Fatalf("%s: nothing routed in 30 s", ref)
		}
	}
	jobs := func(follow int) int {
		return f.count(t, `SELECT count(*) FROM river_job WHERE kind = 'notification_push' AND args->>'collapse_key' = $1
			AND (args->>'follow')::int = $2`, "order:"+first, follow)
	}
	for i := range 2 {
		routeOne(fmt.Sprintf("burst-wait-%d", i))
	}
	if got0, got1 := jobs(0), jobs(1); got0 != 1 || got1 != 0 {
		t.Fatalf("two notifications while the job waits: %d jobs and %d follow-ups, want 1 and 0", got0, got1)
	}
	_, err := f.raw.Exec(`UPDATE river_job SET state = 'running', attempted_at = now(), attempt = 1
		WHERE kind = 'notification_push' AND args->>'collapse_key' = $1`, "order:"+first)
	must(t, err)
	for i := range 2 {
		routeOne(fmt.Sprintf("burst-running-%d", i))
	}
	if got0, got1 := jobs(0), jobs(1); got0 != 1 || got1 != 1 {
		t.Fatalf("two notifications while the job runs: %d jobs and %d follow-ups, want 1 and 1", got0, got1)
	}
}
