package e2e

import (
	"strconv"
	"testing"
	"time"
)

func TestBurstGets429AndRotatedForwardedForDoesNotReset(t *testing.T) {
	// A Redis database of its own, so no other test's budget is in play.
	n := startCluster(t, 1, map[string]string{"RATE_LIMIT_AUTH_PER_MINUTE": "5", "REDIS_URL": redisDB(t, 7)})[0]
	c := &client{t: t, base: n.URL}
	body := map[string]string{"email": "nobody@example.com", "password": "wrong password"}
	limited := -1
	for i := range 8 {
		// An untrusted peer rotating X-Forwarded-For must not get a fresh budget.
		r := c.do("POST", "/auth/login", body, "X-Forwarded-For", "203.0.113."+strconv.Itoa(i+1))
		if r.status == 429 {
			limited = i
			if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
				t.Fatalf("429 without a usable Retry-After: %q", r.header.Get("Retry-After"))
			}
			break
		}
		expect(t, r, 401, "attempt within budget")
	}
	if limited != 5 {
		t.Fatalf("first 429 at attempt %d, want 5 (budget 5/min)", limited)
	}
}

func TestTrustedProxyGivesEachClientItsOwnBudget(t *testing.T) {
	n := startCluster(t, 1, map[string]string{"RATE_LIMIT_AUTH_PER_MINUTE": "3", "TRUSTED_PROXIES": "127.0.0.1", "REDIS_URL": redisDB(t, 8)})[0]
	c := &client{t: t, base: n.URL}
	body := map[string]string{"email": "nobody@example.com", "password": "wrong password"}
	for i := range 3 {
		expect(t, c.do("POST", "/auth/login", body, "X-Forwarded-For", "198.51.100.7"), 401, "client 1 attempt "+strconv.Itoa(i))
	}
	expect(t, c.do("POST", "/auth/login", body, "X-Forwarded-For", "198.51.100.7"), 429, "client 1 over budget")
	// Spoofed left-most entries are ignored: the proxy appended the real address.
	expect(t, c.do("POST", "/auth/login", body, "X-Forwarded-For", "1.2.3.4, 198.51.100.7"), 429, "client 1 with a spoofed prefix")
	expect(t, c.do("POST", "/auth/login", body, "X-Forwarded-For", "198.51.100.8"), 401, "client 2 has its own budget")
}

func TestFailedLoginsSlowTheClientNotTheAccount(t *testing.T) {
	n := startCluster(t, 1, map[string]string{"RATE_LIMIT_AUTH_PER_MINUTE": "1000", "RATE_LIMIT_FAILED_LOGINS": "3", "TRUSTED_PROXIES": "127.0.0.1", "REDIS_URL": redisDB(t, 9)})[0]
	email, password := uniqueEmail(t, "lock"), "the right password"
	c := &client{t: t, base: n.URL}
	c.register(email, "lock_"+n.URL[len(n.URL)-5:], password)
	for i := range 3 {
		expect(t, c.do("POST", "/auth/login", map[string]string{"email": email, "password": "wrong guess " + strconv.Itoa(i)}, "X-Forwarded-For", "192.0.2.1"), 401, "failed login")
	}
	// The third failure made this address wait a second, and each further failure
	// doubles the wait; keep failing until the wait is long enough to observe.
	for i := 0; ; i++ {
		r := c.do("POST", "/auth/login", map[string]string{"email": email, "password": "more guess " + strconv.Itoa(i)}, "X-Forwarded-For", "192.0.2.1")
		if i == 8 {
			t.Fatalf("failing address never waited 3 s or more: %d %q", r.status, r.header.Get("Retry-After"))
		}
		if r.status == 401 {
			continue
		}
		wait, err := strconv.Atoi(r.header.Get("Retry-After"))
		if r.status != 429 || err != nil || wait < 1 {
			t.Fatalf("over the failures: %d Retry-After %q, want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
		}
		if wait >= 3 {
			break
		}
		time.Sleep(time.Duration(wait) * time.Second)
	}
	expect(t, c.do("POST", "/auth/login", map[string]string{"email": email, "password": password}, "X-Forwarded-For", "192.0.2.1"), 429, "right password from the waiting address")
	expect(t, c.do("POST", "/auth/login", map[string]string{"email": email, "password": password}, "X-Forwarded-For", "192.0.2.99"), 201, "right password from another address")
}
