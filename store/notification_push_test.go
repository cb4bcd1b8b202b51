package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

// TestOrderPushIsOneJobPerBurstWithAFollowUpWhileRunning holds the burst rule of order
// pushes as stored: notifications about one order routed while its push job waits are
// absorbed by that job; one routed while it runs (it may have read the notifications
// already) queues exactly one follow-up, which absorbs the next ones in turn.
func TestOrderPushIsOneJobPerBurstWithAFollowUpWhileRunning(t *testing.T) {
	ctx := context.Background()
	f := newOrderFixture(t)
	_, err := f.db.MigrateJobs(ctx, slog.New(slog.DiscardHandler))
	must(t, err)
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
		f.place(t, ref)
		for deadline := time.Now().Add(30 * time.Second); ; {
			r, _, _, err := f.db.RouteEvents(ctx, "orders", 10, route)
			must(t, err)
			if len(r) > 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: nothing routed in 30 s", ref)
			}
			time.Sleep(20 * time.Millisecond)
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
	_, err = f.raw.Exec(`UPDATE river_job SET state = 'running', attempted_at = now(), attempt = 1
		WHERE kind = 'notification_push' AND args->>'collapse_key' = $1`, "order:"+first)
	must(t, err)
	for i := range 2 {
		routeOne(fmt.Sprintf("burst-running-%d", i))
	}
	if got0, got1 := jobs(0), jobs(1); got0 != 1 || got1 != 1 {
		t.Fatalf("two notifications while the job runs: %d jobs and %d follow-ups, want 1 and 1", got0, got1)
	}
}
