package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gigstream/hub/analytics"
	"github.com/gigstream/hub/market"
)

// analyticsConfig points product analytics at GA4's Measurement Protocol; off while
// MeasurementID is empty.
type analyticsConfig struct {
	MeasurementID string        // GA4_MEASUREMENT_ID
	APISecret     secret        // GA4_API_SECRET
	Endpoint      string        // GA4_ENDPOINT; default Google's
	IDKey         secret        // ANALYTICS_ID_KEY: keys the hash that pseudonymizes user ids
	FlushInterval time.Duration // ANALYTICS_FLUSH_INTERVAL
}

// loadAnalyticsConfig reads the analytics settings: all or nothing.
func loadAnalyticsConfig(e *envReader, c *config) {
	c.Analytics = analyticsConfig{
		MeasurementID: e.str("GA4_MEASUREMENT_ID", ""),
		APISecret:     secret(e.str("GA4_API_SECRET", "")),
		Endpoint:      e.str("GA4_ENDPOINT", ""),
		IDKey:         secret(e.str("ANALYTICS_ID_KEY", "")),
		FlushInterval: e.duration("ANALYTICS_FLUSH_INTERVAL", 5*time.Second, 100*time.Millisecond, time.Hour),
	}
	a := c.Analytics
	if a.MeasurementID == "" {
		return
	}
	if a.APISecret == "" {
		e.fail("GA4_API_SECRET", "the data stream's Measurement Protocol API secret when GA4_MEASUREMENT_ID is set", "")
	}
	if len(a.IDKey) < 32 {
		e.fail("ANALYTICS_ID_KEY", "at least 32 random characters when GA4_MEASUREMENT_ID is set (value not shown)", "")
	}
	if a.Endpoint != "" && !strings.HasPrefix(a.Endpoint, "http://") && !strings.HasPrefix(a.Endpoint, "https://") {
		e.fail("GA4_ENDPOINT", "an http:// or https:// URL", a.Endpoint)
	}
}

// newTracker builds the GA4 tracker and reports its counts to reg; it sends nothing
// without GA4_MEASUREMENT_ID.
func newTracker(cfg config, reg prometheus.Registerer, log *slog.Logger) *analytics.Tracker {
	a := cfg.Analytics
	t := analytics.NewTracker(analytics.Config{
		MeasurementID: a.MeasurementID, APISecret: string(a.APISecret), IDKey: []byte(a.IDKey),
		Endpoint: a.Endpoint, FlushInterval: a.FlushInterval, Logger: log.With("component", "analytics"),
		HTTPClient: providerHTTP(cfg, "ga4", 10*time.Second),
	})
	for _, result := range []string{"sent", "dropped", "failed"} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "gigstream_analytics_events_total", ConstLabels: prometheus.Labels{"result": result},
			Help: "Product analytics events: sent to GA4, dropped (queue full) or failed (GA4 unreachable).",
		}, func() float64 {
			sent, dropped, failed := t.Stats()
			return float64(map[string]int64{"sent": sent, "dropped": dropped, "failed": failed}[result])
		}))
	}
	return t
}

// orderConversions are the order events that are conversions, by event type.
var orderConversions = map[string]string{
	"order.placed":    analytics.EventOrderPlaced,
	"order.paid":      analytics.EventOrderPaid,
	"order.completed": analytics.EventOrderCompleted,
}

// trackOrderEvent reports an order's conversion when ev is one. Order events are
// published once, after commit, by the node that made the change (whether a request,
// a webhook or a job did), so each conversion is tracked once, the buyer's.
func trackOrderEvent(t *analytics.Tracker, ev market.Event) {
	name, ok := orderConversions[ev.Type]
	if !ok || !t.Enabled() {
		return
	}
	var data struct{ Order market.Order }
	if err := json.Unmarshal(ev.Data, &data); err != nil || data.Order.BuyerID == "" {
		return
	}
	o := data.Order
	exp, _ := market.CurrencyExponent(o.Currency)
	t.Track(analytics.Event{Name: name, UserID: o.BuyerID, ItemID: o.GigID, TransactionID: o.ID,
		ValueMinor: o.PriceMinor, Exponent: exp, Currency: o.Currency})
}

// conversions reports the HTTP layer's conversions (handlers.Conversions).
type conversions struct{ t *analytics.Tracker }

func (c conversions) SignedUp(userID string) {
	c.t.Track(analytics.Event{Name: analytics.EventSignUp, UserID: userID})
}

func (c conversions) GigViewed(userID, gigID string) {
	c.t.Track(analytics.Event{Name: analytics.EventGigViewed, UserID: userID, ItemID: gigID})
}

// runTracker sends analytics in the background; the returned stop ends it after a
// last flush (bounded by the tracker's request timeout). Nothing runs when it is off.
func runTracker(ctx context.Context, t *analytics.Tracker) (stop func()) {
	return runUntilStopped(ctx, t.Run)
}

// runGigViews flushes counted gig views until stop, which waits for the last flush.
func runGigViews(ctx context.Context, v *market.GigViews) (stop func()) {
	return runUntilStopped(ctx, v.Run)
}

// runUntilStopped runs run in a goroutine; stop cancels it and waits for it to return.
func runUntilStopped(ctx context.Context, run func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { run(ctx); close(done) }()
	return func() { cancel(); <-done }
}
