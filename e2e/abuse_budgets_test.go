package e2e

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gigstream/hub/payments/paypaltest"
)

// expectThrottled fails the test unless r is a 429 problem with a usable Retry-After.
func expectThrottled(t *testing.T, r response, what string) {
	t.Helper()
	expect(t, r, 429, what)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("%s: 429 as %q, want application/problem+json", what, ct)
	}
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("%s: 429 without a usable Retry-After (%q)", what, r.header.Get("Retry-After"))
	}
}

// paypalCalls counts the calls the local PayPal answered on path with method.
func paypalCalls(pp *paypaltest.Server, method, path string) int {
	n := 0
	for _, r := range pp.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

// Every route that costs money or CPU has a budget of its own, per user (or per address
// when it is public), spent before the work: placing orders (each one a PayPal order
// here), webhooks (before PayPal is asked to verify anything), new uploads on all three
// paths, new conversations, searches (an IPv6 client counted by its /64) and exports.
func TestAbuseBudgetsCostlyRoutesHaveBudgets(t *testing.T) {
	pp := paypaltest.New(t)
	o := startOrderNode(t, map[string]string{
		"PAYPAL_API_BASE": pp.URL, "PAYPAL_CLIENT_ID": paypaltest.ClientID,
		"PAYPAL_CLIENT_SECRET": paypaltest.ClientSecret, "PAYPAL_WEBHOOK_ID": paypaltest.WebhookID,
		"REDIS_URL": redisDB(t, 11), "TRUSTED_PROXIES": "127.0.0.1",
		"RATE_LIMIT_ORDERS_PER_MINUTE": "3", "RATE_LIMIT_WEBHOOKS_PER_MINUTE": "3", "RATE_LIMIT_UPLOADS_PER_MINUTE": "3",
		"RATE_LIMIT_CONVERSATIONS_PER_MINUTE": "2", "RATE_LIMIT_SEARCH_PER_MINUTE": "4", "RATE_LIMIT_EXPORTS_PER_HOUR": "2",
	}, true)
	n := o.n
	buyer := &client{t: t, base: n.URL, bearer: o.buyer}

	t.Run("orders", func(t *testing.T) {
		for i := range 5 {
			r, _ := o.placePayPal(t, uuid.NewString())
			if i < 3 {
				expect(t, r, 201, "order within the budget")
			} else {
				expectThrottled(t, r, "order past the budget")
			}
		}
		if got := paypalCalls(pp, "POST", "/v2/checkout/orders"); got != 3 {
			t.Fatalf("PayPal orders created: %d, want 3 (the budget)", got)
		}
	})

	t.Run("webhooks", func(t *testing.T) {
		// Well-formed but forged: each one that gets through costs a call to PayPal.
		hook := &client{t: t, base: n.URL}
		body := `{"id":"WH-FORGED-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{}}`
		headers := []string{"X-Forwarded-For", "198.51.100.50", "PAYPAL-AUTH-ALGO", "SHA256withRSA",
			"PAYPAL-CERT-URL", "https://api.paypal.com/v1/notifications/certs/CERT-1", "PAYPAL-TRANSMISSION-ID", "forged-1",
			"PAYPAL-TRANSMISSION-SIG", "Zm9yZ2Vk", "PAYPAL-TRANSMISSION-TIME", "2026-12-03T10:00:00Z"}
		for i := range 8 {
			r := hook.do("POST", "/webhooks/paypal", body, headers...)
			if i < 3 {
				expect(t, r, 400, "forged PayPal webhook within the budget")
			} else {
				expectThrottled(t, r, "PayPal webhook past the budget")
			}
		}
		if got := paypalCalls(pp, "POST", "/v1/notifications/verify-webhook-signature"); got != 3 {
			t.Fatalf("PayPal verify calls: %d for 8 webhooks, want 3 (the budget)", got)
		}
		for i := range 4 {
			r := hook.do("POST", "/webhooks/stripe", `{"id":"evt_forged"}`, "Stripe-Signature", "t=1,v1=00", "X-Forwarded-For", "198.51.100.51")
			if i < 3 {
				expect(t, r, 400, "forged Stripe webhook within the budget")
			} else {
				expectThrottled(t, r, "Stripe webhook past the budget")
			}
		}
	})

	t.Run("uploads", func(t *testing.T) {
		meta := tusMetadata("filename", "a.png", "kind", "avatar")
		for range 2 {
			tusCreate(t, n, o.buyer, 1000, meta)
		}
		expect(t, uploadRaw(t, n, o.buyer, "kind=avatar&filename=a.png", pngBytes(t)), 201, "raw upload within the budget")
		tus := tusRequest(t, "POST", n.URL+"/uploads/tus/", o.buyer, nil, "Upload-Length", "1000", "Upload-Metadata", meta)
		if tus.status != 429 || tus.header.Get("Retry-After") == "" {
			t.Fatalf("tus creation past the budget: %d (Retry-After %q), want 429 with Retry-After", tus.status, tus.header.Get("Retry-After"))
		}
		expectThrottled(t, uploadRaw(t, n, o.buyer, "kind=avatar&filename=a.png", pngBytes(t)), "raw upload past the budget")
		expectThrottled(t, uploadForm(t, n, o.buyer, map[string]string{"kind": "avatar"}, "a.png", pngBytes(t)), "form upload past the budget")
	})

	t.Run("conversations", func(t *testing.T) {
		open := map[string]string{"participant_id": o.sellerID}
		for range 2 {
			if r := buyer.do("POST", "/conversations", open); r.status != 200 && r.status != 201 {
				t.Fatalf("conversation within the budget: %d %s", r.status, r.body)
			}
		}
		expectThrottled(t, buyer.do("POST", "/conversations", open), "conversation past the budget")
	})

	t.Run("search", func(t *testing.T) {
		anon := &client{t: t, base: n.URL}
		from := func(addr string) []string { return []string{"X-Forwarded-For", addr} }
		for range 3 { // browsing without a query spends nothing
			expect(t, anon.do("GET", "/gigs", nil, from("198.51.100.60")...), 200, "browse")
		}
		for _, path := range []string{"/gigs?q=logo", "/search/suggest?q=lo", "/gigs?q=logo+design", "/search/suggest?q=log"} {
			expect(t, anon.do("GET", path, nil, from("198.51.100.60")...), 200, "search within the budget")
		}
		expectThrottled(t, anon.do("GET", "/gigs?q=logo", nil, from("198.51.100.60")...), "search past the budget")
		expectThrottled(t, anon.do("GET", "/search/suggest?q=lo", nil, from("198.51.100.60")...), "suggest past the budget")
		expect(t, anon.do("GET", "/gigs", nil, from("198.51.100.60")...), 200, "browse past the search budget")
		expect(t, buyer.do("GET", "/gigs?q=logo", nil, from("198.51.100.60")...), 200, "a signed-in buyer's own budget")

		// An IPv6 client holds a /64: every address in it shares one budget.
		for i := range 4 {
			expect(t, anon.do("GET", "/search/suggest?q=lo", nil, from("2001:db8:aa:bb::"+strconv.Itoa(i+1))...), 200, "IPv6 search within the budget")
		}
		expectThrottled(t, anon.do("GET", "/search/suggest?q=lo", nil, from("2001:db8:aa:bb:ffff:ffff:ffff:2")...), "another address of the same /64")
		expect(t, anon.do("GET", "/search/suggest?q=lo", nil, from("2001:db8:aa:bc::1")...), 200, "the next /64")
	})

	t.Run("exports", func(t *testing.T) {
		for range 2 {
			expect(t, buyer.do("GET", "/me/export", nil), 200, "export within the budget")
		}
		expectThrottled(t, buyer.do("GET", "/me/export", nil), "export past the budget")
	})
}

// While Redis is down the sign-in budgets fail closed (503 with Retry-After: sign-in,
// registration and recovery are never unthrottled), every other budget fails open (the
// site keeps working), and once Redis is back sign-in works again by itself.
func TestAbuseBudgetsRedisDownSignInFailsClosedTheRestOpen(t *testing.T) {
	redisURL, restart := privateRedis(t)
	n := startCluster(t, 1, realtimeEnv(map[string]string{"REDIS_URL": redisURL}))[0]
	_, token := appUser(t, n, "redisdown")
	c := &client{t: t, base: n.URL}
	me := &client{t: t, base: n.URL, bearer: token}
	restart(func() { redisDown(t, c, me) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := c.do("POST", "/auth/login", map[string]string{"email": "nobody@example.com", "password": "some password"})
		if r.status == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sign-in 10 s after Redis came back: %d %s, want 401 (wrong password)", r.status, r.body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// redisDown checks the budgets while Redis is down: c is signed out, me signed in.
func redisDown(t *testing.T, c, me *client) {
	t.Helper()
	login := map[string]string{"email": "nobody@example.com", "password": "some password"}
	register := map[string]any{"email": uniqueEmail(t, "late"), "username": "late_" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36),
		"display_name": "Late", "password": "a long enough password", "is_seller": false}
	for _, tc := range []struct {
		path string
		body any
	}{{"/auth/login", login}, {"/auth/tokens", login}, {"/auth/register", register}, {"/auth/password-reset", map[string]string{"email": "nobody@example.com"}}} {
		r := c.do("POST", tc.path, tc.body)
		if r.status != 503 || r.header.Get("Retry-After") == "" || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
			t.Fatalf("%s with Redis down: %d (Retry-After %q) %s, want a 503 problem with Retry-After", tc.path, r.status, r.header.Get("Retry-After"), r.body)
		}
	}
	expect(t, me.do("GET", "/me", nil), 200, "a signed-in read with Redis down")
	expect(t, c.do("GET", "/gigs?q=logo", nil), 200, "a search with Redis down")
}

// In production mode /readyz tells the public only what is up and down, not why (its
// errors name internal hosts and ports): those details need the metrics token, and so
// does /metrics.
func TestAbuseBudgetsReadyzAndMetricsKeepDetailsForOperators(t *testing.T) {
	redisAddr := closedPort(t) // Redis down: its check fails with an error naming the address
	token := strings.Repeat("m", 32)
	n := startClusterUnready(t, 1, productionEnv(map[string]string{"REDIS_URL": "redis://" + redisAddr + "/0", "METRICS_TOKEN": token}))[0]
	public := &client{t: t, base: n.URL}
	operator := &client{t: t, base: n.URL, bearer: token}
	var r response
	deadline := time.Now().Add(30 * time.Second)
	for r = public.do("GET", "/readyz", nil); r.status != 503 && time.Now().Before(deadline); r = public.do("GET", "/readyz", nil) {
		time.Sleep(200 * time.Millisecond)
	}
	var rep struct {
		Status string
		Checks map[string]map[string]any
	}
	r.json(t, &rep)
	if r.status != 503 || rep.Checks["redis"]["status"] != "down" || rep.Checks["postgres"]["status"] != "up" {
		t.Fatalf("public readyz = %d %s, want 503 naming redis down", r.status, r.body)
	}
	_, port, _ := strings.Cut(redisAddr, ":")
	for _, leak := range []string{"127.0.0.1", port, "error", "latency_ms", "dial", "refused"} {
		if strings.Contains(string(r.body), leak) {
			t.Fatalf("public readyz shows %q: %s", leak, r.body)
		}
	}
	if r = operator.do("GET", "/readyz", nil); r.status != 503 || !strings.Contains(string(r.body), port) || !strings.Contains(string(r.body), "latency_ms") {
		t.Fatalf("readyz with the metrics token = %d %s, want the details (the Redis error names its port %s)", r.status, r.body, port)
	}
	expect(t, public.do("GET", "/metrics", nil), 401, "metrics without the token in production")
	expect(t, (&client{t: t, base: n.URL, bearer: "wrong"}).do("GET", "/metrics", nil), 401, "metrics with a wrong token")
	if r = operator.do("GET", "/metrics", nil); r.status != 200 || !strings.Contains(string(r.body), "go_goroutines") {
		t.Fatalf("metrics with the token = %d", r.status)
	}
}

// hubAuthorizations reads how often the node asked the domain (a database query for a
// conversation channel) to authorize a subscribe; with must, both results must have
// been counted.
func hubAuthorizations(t *testing.T, n *Node, must bool) int {
	t.Helper()
	_, body := get(t, n.URL+"/metrics")
	total := 0
	for _, result := range []string{"allowed", "refused"} {
		m := regexp.MustCompile(`gigstream_hub_subscribe_authorizations_total\{result="` + result + `"\} (\d+)`).FindSubmatch(body)
		if m == nil && must {
			t.Fatalf("metrics lack gigstream_hub_subscribe_authorizations_total{result=%q}", result)
		}
		if m != nil {
			v, _ := strconv.Atoi(string(m[1]))
			total += v
		}
	}
	return total
}

// Sockets are capped per user and per address on each node (429 before the upgrade, and
// the count comes back when a socket closes), and a subscribe/unsubscribe loop costs the
// database one query, not one per frame: an allowed channel is remembered, and refusals
// spend a small budget after which subscribes are refused without asking.
func TestAbuseBudgetsSocketsAreCappedAndSubscribesDoNotQueryPerFrame(t *testing.T) {
	n := startCluster(t, 1, realtimeEnv(map[string]string{"TRUSTED_PROXIES": "127.0.0.1",
		"WS_MAX_SOCKETS_PER_USER": "2", "WS_MAX_SOCKETS_PER_IP": "3", "WS_SUBSCRIBE_AUTH_BURST": "5", "WS_SUBSCRIBE_AUTH_PER_SECOND": "1"}))[0]
	a, _, _, _, conv := chatPair(t, n)
	c, _, _, _, others := chatPair(t, n)
	from := func(bearer, addr string) http.Header {
		return http.Header{"Authorization": {"Bearer " + bearer}, "X-Forwarded-For": {addr}}
	}
	refused := func(bearer, addr, what string) {
		t.Helper()
		s, resp, err := dial(t, n, "", from(bearer, addr))
		if err == nil {
			s.conn.Close()
			t.Fatalf("%s: the upgrade was accepted", what)
		}
		if resp == nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("%s: %v (%+v), want 429 with Retry-After", what, err, resp)
		}
	}

	first, _, err := dial(t, n, "", from(a.bearer, "198.51.100.70"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := dial(t, n, "", from(a.bearer, "198.51.100.71")); err != nil {
		t.Fatal(err)
	}
	refused(a.bearer, "198.51.100.72", "a user's third socket")
	if _, _, err := dial(t, n, "", from(c.bearer, "198.51.100.70")); err != nil {
		t.Fatalf("another user's socket from the same address: %v", err)
	}
	_, d := appUser(t, n, "fourth")
	if _, _, err := dial(t, n, "", from(d, "198.51.100.70")); err != nil {
		t.Fatalf("the address's third socket: %v", err)
	}
	refused(d, "198.51.100.70", "the address's fourth socket (its user has one)")
	first.conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	var sock *socket
	for sock == nil {
		if s, _, err := dial(t, n, "", from(a.bearer, "198.51.100.80")); err == nil {
			sock = s
		} else if time.Now().After(deadline) {
			t.Fatalf("a socket closed, yet the user's cap still refuses: %v", err)
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}

	before, start := hubAuthorizations(t, n, false), time.Now()
	for i := range 30 { // the own conversation: one query, then remembered
		if f := sock.subscribe("conversation:"+conv, nil); f.Op != "reply" {
			t.Fatalf("subscribe %d to the own conversation: %+v", i, f)
		}
		sock.send(map[string]any{"op": "unsubscribe", "channel": "conversation:" + conv})
		time.Sleep(40 * time.Millisecond) // within the frame budget (20/s, 50 at once)
	}
	codes := map[string]int{}
	for range 20 { // someone else's conversation: refused, and soon refused without asking
		codes[sock.subscribe("conversation:"+others, nil).Code]++
		time.Sleep(40 * time.Millisecond)
	}
	asked := hubAuthorizations(t, n, true) - before
	if limit := 1 + 5 + int(time.Since(start).Seconds()) + 1; asked > limit {
		t.Fatalf("50 subscribes asked the database %d times, want at most %d", asked, limit)
	}
	if codes["forbidden"] == 0 || codes["rate_limited"] == 0 || codes["forbidden"]+codes["rate_limited"] != 20 {
		t.Fatalf("subscribes to someone else's conversation answered %v, want forbidden, then rate_limited", codes)
	}
}
