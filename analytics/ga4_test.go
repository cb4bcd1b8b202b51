package analytics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gigstream/hub/analytics"
	"github.com/gigstream/hub/analytics/ga4test"
)

func newTracker(t *testing.T, endpoint string, cfg analytics.Config) (*analytics.Tracker, context.CancelFunc, chan struct{}) {
	t.Helper()
	cfg.MeasurementID, cfg.APISecret, cfg.IDKey, cfg.Endpoint = "G-TEST123", "mp-secret", []byte("id-key"), endpoint
	tr := analytics.NewTracker(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tr.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return tr, cancel, done
}

// TestTrackerBatchesPerClientAndSendsPseudonymousIDs: events are grouped by client,
// at most 25 a request, under a keyed hash of the user id (the id itself is never
// sent), with money in major units as GA4 wants it.
func TestTrackerBatchesPerClientAndSendsPseudonymousIDs(t *testing.T) {
	ga := ga4test.New(t, "G-TEST123", "mp-secret")
	tr, _, _ := newTracker(t, ga.URL, analytics.Config{FlushInterval: 100 * time.Millisecond})
	for i := range 30 {
		tr.Track(analytics.Event{Name: analytics.EventGigViewed, UserID: "user-a", ItemID: fmt.Sprintf("gig-%d", i)})
	}
	tr.Track(analytics.Event{Name: analytics.EventOrderPaid, UserID: "user-b", TransactionID: "order-1", ItemID: "gig-9",
		ValueMinor: 4500, Exponent: 2, Currency: "USD"})
	tr.Track(analytics.Event{Name: analytics.EventOrderPaid, UserID: "user-b", TransactionID: "order-2", ValueMinor: 4500, Exponent: 3, Currency: "KWD"})
	events := ga.WaitEvents(t, 32, 10*time.Second)

	perRequest := map[string][]int{}
	for _, r := range ga.Requests() {
		perRequest[r.ClientID] = append(perRequest[r.ClientID], len(r.Events))
		raw, _ := json.Marshal(r)
		if strings.Contains(string(raw), "user-a") || strings.Contains(string(raw), "user-b") || r.UserID != "" {
			t.Fatalf("a user id was sent: %s", raw)
		}
	}
	a, b := tr.ClientID("user-a"), tr.ClientID("user-b")
	if fmt.Sprint(perRequest[a]) != "[25 5]" || fmt.Sprint(perRequest[b]) != "[2]" || a == b || len(a) != 32 {
		t.Fatalf("requests per client %v (a=%s, b=%s): want [25 5] and [2]", perRequest, a, b)
	}
	paid := events[30].Params
	if events[30].Name != "purchase" || paid["value"] != 45.0 || paid["currency"] != "USD" || paid["transaction_id"] != "order-1" {
		t.Fatalf("purchase params %v", paid)
	}
	if v := events[31].Params["value"]; v != 4.5 {
		t.Fatalf("4500 minor units of KWD sent as %v, want 4.5", v)
	}
	if sent, dropped, failed := tr.Stats(); sent != 32 || dropped != 0 || failed != 0 {
		t.Fatalf("stats %d/%d/%d", sent, dropped, failed)
	}
}

// TestTrackerNeverBlocksItsCaller: with the endpoint hanging, Track returns at once,
// and drops (and counts) what does not fit the queue.
func TestTrackerNeverBlocksItsCaller(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.WriteHeader(204)
	}))
	defer hang.Close()
	defer close(release)
	tr, _, _ := newTracker(t, hang.URL, analytics.Config{FlushInterval: 10 * time.Millisecond, QueueSize: 10, Timeout: 5 * time.Second})
	tr.Track(analytics.Event{Name: analytics.EventSignUp, UserID: "first"})
	time.Sleep(100 * time.Millisecond) // the loop is now stuck posting "first"
	start := time.Now()
	for i := range 100 {
		tr.Track(analytics.Event{Name: analytics.EventSignUp, UserID: fmt.Sprint("u", i)})
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("100 Track calls took %s with the endpoint hanging", d)
	}
	if _, dropped, _ := tr.Stats(); dropped != 90 {
		t.Fatalf("dropped %d, want 90 (queue of 10)", dropped)
	}
}

// TestTrackerOffByDefault: without a measurement id nothing is queued or sent.
func TestTrackerOffByDefault(t *testing.T) {
	tr := analytics.NewTracker(analytics.Config{})
	tr.Track(analytics.Event{Name: analytics.EventSignUp, UserID: "u"})
	if tr.Enabled() {
		t.Fatal("enabled without a measurement id")
	}
	if sent, dropped, _ := tr.Stats(); sent+dropped != 0 {
		t.Fatal("an event was handled while off")
	}
}
