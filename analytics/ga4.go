package analytics

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

// The conversions GigStream reports, named as GA4's recommended events where one fits.
const (
	EventSignUp         = "sign_up"         // an account was created
	EventGigViewed      = "view_item"       // a gig's page was read
	EventOrderPlaced    = "begin_checkout"  // an order was placed (not yet paid)
	EventOrderPaid      = "purchase"        // an order's payment succeeded
	EventOrderCompleted = "order_completed" // the buyer accepted, or the order auto-completed
)

// maxEventsPerRequest is the Measurement Protocol's limit of events in one request.
const maxEventsPerRequest = 25

// flushAt is how many pending events make Run send before FlushInterval passes.
const flushAt = 500

// Config switches analytics on. The zero value (no MeasurementID) sends nothing.
type Config struct {
	MeasurementID string // G-XXXXXXX; empty turns analytics off
	APISecret     string // the data stream's Measurement Protocol API secret
	// IDKey keys the hash that turns a user id into a client_id, so ids cannot be
	// guessed back from GA4's data; required when MeasurementID is set.
	IDKey         []byte
	Endpoint      string        // default https://www.google-analytics.com/mp/collect
	FlushInterval time.Duration // longest an event waits in the queue; default 5 s
	QueueSize     int           // events held before new ones are dropped; default 10 000
	Timeout       time.Duration // per request; default 10 s
	HTTPClient    *http.Client  // default a client with Timeout
	Logger        *slog.Logger  // default slog.Default()
}

// Event is one conversion.
type Event struct {
	Name   string // one of the Event* names
	UserID string // our user's id; sent only as its keyed hash
	// ItemID, TransactionID, Value and Currency describe the gig or order: Value in the
	// currency's minor units, with its ISO 4217 Exponent (GA4 wants major units).
	ItemID        string
	TransactionID string
	ValueMinor    int64
	Exponent      int
	Currency      string
	At            time.Time // when it happened; default when Track was called
}

// Tracker batches and sends events. Its methods are safe for concurrent use; a
// Tracker built without a MeasurementID drops everything at once.
type Tracker struct {
	cfg     Config
	queue   chan Event
	sent    atomic.Int64
	dropped atomic.Int64
	failed  atomic.Int64
}

// NewTracker builds a Tracker; Run sends what it queues.
func NewTracker(cfg Config) *Tracker {
	cfg.Endpoint = cmp.Or(cfg.Endpoint, "https://www.google-analytics.com/mp/collect")
	cfg.FlushInterval = cmp.Or(cfg.FlushInterval, 5*time.Second)
	cfg.QueueSize = cmp.Or(cfg.QueueSize, 10_000)
	cfg.Timeout = cmp.Or(cfg.Timeout, 10*time.Second)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.Timeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Tracker{cfg: cfg, queue: make(chan Event, cfg.QueueSize)}
}

// Enabled reports whether events are sent anywhere.
func (t *Tracker) Enabled() bool { return t != nil && t.cfg.MeasurementID != "" }

// Track queues ev without waiting; when the queue is full ev is dropped and counted.
func (t *Tracker) Track(ev Event) {
	if !t.Enabled() || ev.UserID == "" {
		return
	}
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	select {
	case t.queue <- ev:
	default:
		t.dropped.Add(1)
	}
}

// Stats are the events sent, dropped (queue full) and lost to failed requests so far.
func (t *Tracker) Stats() (sent, dropped, failed int64) {
	return t.sent.Load(), t.dropped.Load(), t.failed.Load()
}

// Run sends queued events until ctx ends, then sends what is still queued within
// one Timeout.
func (t *Tracker) Run(ctx context.Context) {
	if !t.Enabled() {
		return
	}
	tick := time.NewTicker(t.cfg.FlushInterval)
	defer tick.Stop()
	var pending []Event
	for {
		select {
		case ev := <-t.queue:
			pending = append(pending, ev)
			if len(pending) < flushAt {
				continue
			}
		case <-tick.C:
		case <-ctx.Done():
			pending = append(pending, t.drain()...)
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.cfg.Timeout)
			t.send(final, pending)
			cancel()
			return
		}
		t.send(ctx, pending)
		pending = pending[:0]
	}
}

// drain takes whatever is queued now.
func (t *Tracker) drain() []Event {
	var out []Event
	for {
		select {
		case ev := <-t.queue:
			out = append(out, ev)
		default:
			return out
		}
	}
}

// send posts events grouped by client, up to 25 a request.
func (t *Tracker) send(ctx context.Context, events []Event) {
	byClient := map[string][]Event{}
	var order []string
	for _, ev := range events {
		id := t.ClientID(ev.UserID)
		if _, ok := byClient[id]; !ok {
			order = append(order, id)
		}
		byClient[id] = append(byClient[id], ev)
	}
	for _, id := range order {
		evs := byClient[id]
		for len(evs) > 0 {
			n := min(len(evs), maxEventsPerRequest)
			if err := t.post(ctx, id, evs[:n]); err != nil {
				t.failed.Add(int64(n))
				t.cfg.Logger.WarnContext(ctx, "analytics: events not sent", "events", n, "err", err)
			} else {
				t.sent.Add(int64(n))
			}
			evs = evs[n:]
		}
	}
}

// ClientID is the pseudonymous id GA4 sees for a user: a keyed SHA-256 of the id.
func (t *Tracker) ClientID(userID string) string {
	mac := hmac.New(sha256.New, t.cfg.IDKey)
	mac.Write([]byte(userID))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

// mpRequest is a Measurement Protocol request body.
type mpRequest struct {
	ClientID string    `json:"client_id"`
	Events   []mpEvent `json:"events"`
}

type mpEvent struct {
	Name            string         `json:"name"`
	Params          map[string]any `json:"params"`
	TimestampMicros int64          `json:"timestamp_micros"`
}

// post sends one request; the Measurement Protocol answers 2xx whether or not it
// keeps the events, so only transport failures and other statuses are errors.
func (t *Tracker) post(ctx context.Context, clientID string, events []Event) error {
	body := mpRequest{ClientID: clientID}
	for _, ev := range events {
		body.Events = append(body.Events, mpEvent{Name: ev.Name, Params: params(ev), TimestampMicros: ev.At.UnixMicro()})
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	q := url.Values{"measurement_id": {t.cfg.MeasurementID}, "api_secret": {t.cfg.APISecret}}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.cfg.Endpoint+"?"+q.Encode(), bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post: status %d", resp.StatusCode)
	}
	return nil
}

// params are an event's parameters in GA4's ecommerce shape: value in major units
// (the protocol's number), currency, transaction_id and one item.
func params(ev Event) map[string]any {
	p := map[string]any{"engagement_time_msec": 1}
	if ev.Currency != "" {
		p["currency"] = ev.Currency
		p["value"] = float64(ev.ValueMinor) / math.Pow10(ev.Exponent)
	}
	if ev.TransactionID != "" {
		p["transaction_id"] = ev.TransactionID
	}
	if ev.ItemID != "" {
		p["items"] = []map[string]any{{"item_id": ev.ItemID}}
	}
	if ev.Name == EventSignUp {
		p["method"] = "gigstream"
	}
	return p
}
