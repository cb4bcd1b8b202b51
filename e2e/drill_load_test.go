//go:build drill

package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/google/uuid"
)

// mixedLoad is the drills' traffic through one address (a load balancer): REST reads and
// paid orders, chat over sockets, resumable uploads. Its clients behave like the
// reference client (web/static/gigstream.js) and retry only what is safe to retry:
// a refused or cut connection, 429, 502, 503 or 504, for GETs, HEADs, orders under
// their Idempotency-Key, messages under their client_id, webhooks under their event id
// (as Stripe does) and tus PATCHes after a HEAD; at most loadAttempts times, with
// equal-jitter backoff. A request that still fails is a failure of the drill.
type mixedLoad struct {
	base  string        // the load balancer
	order *orderNode    // the seeded seller, buyer and gig
	http  *http.Client  // keep-alive, like a browser
	stats loadStats     // counters, read with report()
	mu    sync.Mutex    // guards what follows
	fails []string      // the first failures, for the test's message
	paid  []string      // orders placed and paid
	chats []*chatStream // one per conversation
	ups   []string      // uploads finished (all bytes accepted)
}

// loadAttempts bounds retries; the backoff spans ~15 s, like the reference client's.
const loadAttempts = 8

type loadStats struct {
	requests, retries, failures, status5xx atomic.Int64
	orders, messages, uploads, resumes     atomic.Int64
	socketOpens, reconnects, events        atomic.Int64
	maxReconnectMS                         atomic.Int64
}

// loadReport is what a drill prints and asserts on.
type loadReport struct {
	Requests, Retries, Failures, Status5xx int64
	Orders, Messages, Uploads, Resumes     int64
	SocketOpens, Reconnects, Events        int64
	MaxReconnectMS                         int64
}

func (l *mixedLoad) report() loadReport {
	s := &l.stats
	return loadReport{s.requests.Load(), s.retries.Load(), s.failures.Load(), s.status5xx.Load(),
		s.orders.Load(), s.messages.Load(), s.uploads.Load(), s.resumes.Load(),
		s.socketOpens.Load(), s.reconnects.Load(), s.events.Load(), s.maxReconnectMS.Load()}
}

func newMixedLoad(base string, o *orderNode) *mixedLoad {
	return &mixedLoad{base: base, order: o, http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}}}
}

func (l *mixedLoad) fail(format string, args ...any) {
	l.stats.failures.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) < 20 {
		l.fails = append(l.fails, fmt.Sprintf(format, args...))
	}
}

// retryable is the reference client's rule.
func retryable(status int, err error) bool {
	return err != nil || status == 429 || status == 502 || status == 503 || status == 504
}

func backoffWait(ctx context.Context, attempt int) {
	limit := min(8000, 500<<attempt) / 4 // a quarter of the reference client's caps: drills are short
	wait := time.Duration(limit/2+rand.IntN(limit/2+1)) * time.Millisecond
	select {
	case <-ctx.Done():
	case <-time.After(wait):
	}
}

// call sends one request (no retry) and returns status, headers and body.
func (l *mixedLoad) call(ctx context.Context, method, path, token string, body []byte, headers ...string) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	l.stats.requests.Add(1)
	resp, err := l.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		l.stats.status5xx.Add(1)
	}
	return resp.StatusCode, resp.Header, raw, err
}

// retry sends a request until it gets an answer that is not retryable, and returns it;
// ok is false (and the failure recorded) if every attempt failed or ctx ended.
func (l *mixedLoad) retry(ctx context.Context, what, method, path, token string, body []byte, headers ...string) (int, http.Header, []byte, bool) {
	for attempt := 0; attempt < loadAttempts; attempt++ {
		if attempt > 0 {
			l.stats.retries.Add(1)
			backoffWait(ctx, attempt)
		}
		status, h, raw, err := l.call(ctx, method, path, token, body, headers...)
		if ctx.Err() != nil {
			return 0, nil, nil, false
		}
		if !retryable(status, err) {
			return status, h, raw, true
		}
	}
	l.fail("%s: no answer after %d attempts", what, loadAttempts)
	return 0, nil, nil, false
}

func jsonBody(v any) []byte { raw, _ := json.Marshal(v); return raw }

// restWorker browses the catalogue and its own account, and every tenth round places
// an order and has Stripe pay it (the signed webhook, retried under its event id).
func (l *mixedLoad) restWorker(ctx context.Context, buyer string, pace time.Duration) {
	for round := 0; ctx.Err() == nil; round++ {
		l.expect(ctx, "GET /gigs", "GET", "/gigs?limit=5", "", nil, 200)
		l.expect(ctx, "GET /me", "GET", "/me", buyer, nil, 200)
		if round%10 == 0 {
			l.orderAndPay(ctx, buyer)
		}
		sleepCtx(ctx, pace)
	}
}

func (l *mixedLoad) expect(ctx context.Context, what, method, path, token string, body []byte, want int, headers ...string) []byte {
	status, _, raw, ok := l.retry(ctx, what, method, path, token, body, headers...)
	if ok && status != want {
		l.fail("%s: status %d: %.200s", what, status, raw)
		return nil
	}
	return raw
}

func (l *mixedLoad) orderAndPay(ctx context.Context, buyer string) {
	raw := l.expect(ctx, "POST /orders", "POST", "/orders", buyer,
		jsonBody(map[string]string{"gig_id": l.order.gigID, "tier": "basic"}), 201,
		"Content-Type", "application/json", "Idempotency-Key", uuid.NewString())
	if raw == nil {
		return
	}
	var ord apiOrder
	if err := json.Unmarshal(raw, &ord); err != nil {
		l.fail("order: %v", err)
		return
	}
	event := paymentWebhook("evt_"+uuid.NewString(), "payment_intent.succeeded", ord, l.order.price, l.order.currency)
	for attempt := 0; ; attempt++ { // Stripe signs each delivery anew
		status, _, body, err := l.call(ctx, "POST", "/webhooks/stripe", "", event,
			"Content-Type", "application/json", "Stripe-Signature", stripeSignature(event, webhookSecret, time.Now()))
		if ctx.Err() != nil {
			return
		}
		if err == nil && status == 200 {
			break
		}
		if attempt+1 == loadAttempts || !retryable(status, err) {
			l.fail("payment webhook: %d %v %.200s", status, err, body)
			return
		}
		l.stats.retries.Add(1)
		backoffWait(ctx, attempt+1)
	}
	l.stats.orders.Add(1)
	l.mu.Lock()
	l.paid = append(l.paid, ord.ID)
	l.mu.Unlock()
}

// chatStream is one conversation: a sender posting messages over REST and a receiver
// holding a socket through the balancer that reconnects (jittered) whenever it closes
// and resumes with since = the last seq it saw.
type chatStream struct {
	conv             string
	sender, receiver string // bearer tokens
	mu               sync.Mutex
	sent             map[uint64]string // seq → client_id, from the send answers
	seen             []uint64          // seqs in the order the receiver got them
}

// chatWorker sends a message every pace until ctx ends.
func (l *mixedLoad) chatWorker(ctx context.Context, c *chatStream, pace time.Duration) {
	for i := 0; ctx.Err() == nil; i++ {
		id := uuid.NewString()
		raw := l.sendMessage(ctx, c, id, i)
		if raw != nil {
			var m struct{ Seq uint64 }
			_ = json.Unmarshal(raw, &m)
			c.mu.Lock()
			if prev, dup := c.sent[m.Seq]; dup && prev != id {
				l.fail("%s: seq %d given to two messages", c.conv, m.Seq)
			}
			c.sent[m.Seq] = id
			c.mu.Unlock()
			l.stats.messages.Add(1)
		}
		sleepCtx(ctx, pace)
	}
}

func (l *mixedLoad) sendMessage(ctx context.Context, c *chatStream, clientID string, i int) []byte {
	status, _, raw, ok := l.retry(ctx, "send message", "POST", "/conversations/"+c.conv+"/messages", c.sender,
		jsonBody(map[string]string{"client_id": clientID, "text": "message " + strconv.Itoa(i)}),
		"Content-Type", "application/json")
	if !ok {
		return nil
	}
	if status != 201 && status != 200 {
		l.fail("send message: %d %.200s", status, raw)
		return nil
	}
	return raw
}

// receiver keeps a socket on the conversation as the receiving member until ctx ends.
func (l *mixedLoad) receiver(ctx context.Context, c *chatStream) {
	l.listen(ctx, c, c.receiver, true)
}

// listen keeps a socket of the member holding token on the conversation until ctx
// ends; only the receiver's events are recorded (the sender's socket is the second
// socket a chat has open, so replacements move more of them).
func (l *mixedLoad) listen(ctx context.Context, c *chatStream, token string, record bool) {
	var last uint64
	for attempt := 0; ctx.Err() == nil; {
		err := l.receiveOnce(ctx, c, token, record, &last)
		closedAt := time.Now()
		if ctx.Err() != nil {
			return
		}
		l.stats.reconnects.Add(1)
		if err != nil && !errors.Is(err, errSocketClosed) {
			attempt++
		} else {
			attempt = 0
		}
		// Full jitter, as the reference client: 1001 "reconnect elsewhere" at once-ish.
		sleepCtx(ctx, time.Duration(rand.IntN(min(10000, 250<<attempt)+1))*time.Millisecond)
		if gap := time.Since(closedAt).Milliseconds(); gap > l.stats.maxReconnectMS.Load() {
			l.stats.maxReconnectMS.Store(gap) // racy max: a figure, not a check
		}
		if attempt > 12 {
			l.fail("%s: receiver gave up reconnecting: %v", c.conv, err)
			return
		}
	}
}

var errSocketClosed = errors.New("socket closed by the server")

func (l *mixedLoad) receiveOnce(ctx context.Context, c *chatStream, token string, record bool, last *uint64) error {
	url := "ws" + strings.TrimPrefix(l.base, "http") + "/ws"
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, url, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	l.stats.socketOpens.Add(1)
	if err := conn.WriteJSON(map[string]any{"op": "subscribe", "id": 1, "channel": "conversation:" + c.conv, "since": *last}); err != nil {
		return err
	}
	for {
		var f frame
		if err := conn.ReadJSON(&f); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return errSocketClosed
			}
			return err
		}
		switch {
		case f.Op == "error":
			l.fail("%s: subscribe refused: %s", c.conv, f.Code)
			return fmt.Errorf("subscribe: %s", f.Code)
		case f.Op == "event" && f.Channel == "conversation:"+c.conv && f.Seq > 0:
			*last = max(*last, f.Seq)
			if !record {
				continue
			}
			l.stats.events.Add(1)
			c.mu.Lock()
			c.seen = append(c.seen, f.Seq)
			c.mu.Unlock()
		}
	}
}

// uploadWorker uploads size-byte text attachments to conv with tus, chunk by chunk; a
// PATCH that fails is resumed from the offset a HEAD reports.
func (l *mixedLoad) uploadWorker(ctx context.Context, token, conv string, size, chunk int) {
	for ctx.Err() == nil {
		l.uploadOne(ctx, token, conv, size, chunk)
	}
}

func (l *mixedLoad) uploadOne(ctx context.Context, token, conv string, size, chunk int) {
	data := []byte(strings.Repeat(base64.StdEncoding.EncodeToString([]byte(uuid.NewString()))+"\n", size/49+1))[:size]
	meta := tusMetadata("kind", "attachment", "filename", "notes.txt", "conversation_id", conv)
	status, h, raw, ok := l.retry(ctx, "tus create", "POST", "/uploads/tus/", token, nil,
		"Tus-Resumable", "1.0.0", "Upload-Length", strconv.Itoa(size), "Upload-Metadata", meta)
	if !ok || status != 201 {
		if ok {
			l.fail("tus create: %d %.200s", status, raw)
		}
		return
	}
	path := strings.TrimPrefix(h.Get("Location"), l.base)
	for offset, tries := 0, 0; offset < size && ctx.Err() == nil; {
		end := min(offset+chunk, size)
		status, h, _, err := l.call(ctx, "PATCH", path, token, data[offset:end], "Tus-Resumable", "1.0.0",
			"Upload-Offset", strconv.Itoa(offset), "Content-Type", "application/offset+octet-stream")
		if err == nil && status == 204 {
			offset, _ = strconv.Atoi(h.Get("Upload-Offset"))
			tries = 0
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if tries++; tries >= loadAttempts || (err == nil && status != 409 && !retryable(status, nil)) {
			l.fail("tus PATCH at %d: %d %v", offset, status, err)
			return
		}
		// Resume: ask any node where the upload stands.
		l.stats.resumes.Add(1)
		backoffWait(ctx, tries)
		status, h, _, ok := l.retry(ctx, "tus HEAD", "HEAD", path, token, nil, "Tus-Resumable", "1.0.0")
		if !ok || status != 200 {
			l.fail("tus HEAD: %d", status)
			return
		}
		offset, _ = strconv.Atoi(h.Get("Upload-Offset"))
	}
	if ctx.Err() == nil {
		l.stats.uploads.Add(1)
		l.mu.Lock()
		l.ups = append(l.ups, h.Get("X-Upload-Id"))
		l.mu.Unlock()
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// verifyLoad checks what the load left behind, after it stopped: every paid order is
// paid once (one ledger transaction, one order.paid event), every message reached its
// receiver exactly once and in order, every upload ended clean.
func (l *mixedLoad) verify(t *testing.T) {
	t.Helper()
	o := l.order
	for _, id := range l.paid {
		if n := o.sqlInt64(t, `SELECT count(*) FROM ledger_transactions WHERE order_id = $1`, id); n != 1 {
			t.Errorf("order %s has %d ledger transactions, want 1", id, n)
		}
		if n := o.sqlInt64(t, `SELECT count(*) FROM events WHERE channel = 'order:' || $1::text AND type = 'order.paid'`, id); n != 1 {
			t.Errorf("order %s has %d order.paid events, want 1", id, n)
		}
	}
	for _, c := range l.chats {
		c.mu.Lock()
		// A send cut off by the end of the load may be stored without its answer: one at most.
		stored := o.sqlInt64(t, `SELECT count(*) FROM messages WHERE conversation_id = $1`, c.conv)
		if int(stored) < len(c.sent) || int(stored) > len(c.sent)+1 {
			t.Errorf("conversation %s: %d messages stored, %d sends answered", c.conv, stored, len(c.sent))
		}
		for i, seq := range c.seen {
			if seq != uint64(i+1) {
				t.Errorf("conversation %s: the receiver's event %d has seq %d (lost or doubled); seqs %v", c.conv, i+1, seq, c.seen)
				break
			}
		}
		if len(c.seen) < len(c.sent) || len(c.seen) > int(stored) {
			t.Errorf("conversation %s: the receiver got %d of %d messages", c.conv, len(c.seen), len(c.sent))
		}
		c.mu.Unlock()
	}
	for _, id := range l.ups {
		deadline := time.Now().Add(60 * time.Second)
		var status string
		for time.Now().Before(deadline) {
			status = ""
			db, err := o.open(t)
			if err == nil {
				_ = db.QueryRow(`SELECT status FROM uploads WHERE id = $1`, id).Scan(&status)
				db.Close()
			}
			if status == "clean" || status == "rejected" {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if status != "clean" {
			t.Errorf("upload %s ended %q, want clean", id, status)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) > 0 {
		t.Errorf("%d requests failed beyond retries; first: %s", l.stats.failures.Load(), strings.Join(l.fails, "\n  "))
	}
}
