// Package analytics sends server-side product conversions (signed up, gig viewed,
// order placed, paid, completed) to Google Analytics 4 through its Measurement
// Protocol (POST /mp/collect?measurement_id=…&api_secret=…).
//
// It imports nothing else of ours. Track never blocks and never fails its caller:
// events go into a bounded queue, a background loop batches them per client (the
// protocol takes up to 25 events of one client_id per request) and sends them
// every FlushInterval or when a batch is full; a full queue drops events and
// counts them. Users are identified only by a keyed hash of their id (ClientID),
// never by an e-mail, a name or an address; no user_id is sent.
//
// Wiring, in cmd/:
//
//	t := analytics.NewTracker(analytics.Config{MeasurementID: id, APISecret: secret, IDKey: key})
//	go t.Run(ctx)      // sends until ctx ends, then flushes what is queued
//	t.Track(analytics.Event{Name: analytics.EventSignUp, UserID: u.ID})
//
// Tests point the tracker at analytics/ga4test, a local endpoint that decodes
// Measurement Protocol requests.
package analytics
