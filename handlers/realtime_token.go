package handlers

import (
	"bytes"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
)

// SocketTokens issues and checks connection tokens: short-lived signed
// credentials for opening sockets without a session lookup (the hub's).
type SocketTokens interface {
	// Issue returns a token for the session and when it expires.
	Issue(userID, sessionID string) (token string, expires time.Time, err error)
	// Verify returns the token's user and session. ok is false for a token
	// that is malformed, wrongly signed, expired or revoked; err means the
	// node cannot tell right now (answer 503).
	Verify(token string) (userID, sessionID string, ok bool, err error)
}

// issueToken gives a signed-in caller a connection token for GET /ws?token=…,
// reusable until it expires, so reconnects need neither the session nor a new
// ticket. Without tokens configured it is 404.
func (s *sockets) issueToken(c *fiber.Ctx) error {
	if s.tokens == nil {
		return newProblem(fiber.StatusNotFound, "Connection tokens are not enabled on this hub (WS_TOKEN_SECRET).")
	}
	u, _ := currentUser(c)
	sess, _ := currentSession(c)
	token, expires, err := s.tokens.Issue(u.ID, sess.ID)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{
		"token": token, "expires_in": int(time.Until(expires).Seconds()),
	})
}

// admitToken takes upgrades that carry ?token=: Origin as for any socket, a
// per-node budget per address (the shared budgets live in Redis, which a token
// connect does not touch), the token, then the upgrade. It runs before the
// session and rate-limit middleware; any other request goes on to them.
func (s *sockets) admitToken(c *fiber.Ctx) error {
	token := rawQueryValue(c.Request().URI().QueryString(), "token")
	if token == "" || s.tokens == nil || !websocket.IsWebSocketUpgrade(c) {
		return c.Next()
	}
	if origin := c.Get(fiber.HeaderOrigin); origin != "" && !s.originAllowed(c, origin) {
		securityEvent(c, s.log, "ws_foreign_origin", slog.String("origin", truncated(origin, 100)))
		return newProblem(fiber.StatusForbidden, "This origin may not open a socket.")
	}
	if wait := s.upgrades.take(clientKey(c), time.Now()); wait > 0 {
		securityEvent(c, s.log, "rate_limited", slog.String("budget", "ws-token:ip"))
		return tooManyRequests(c, wait)
	}
	userID, sessionID, ok, err := s.tokens.Verify(token)
	if err != nil {
		c.Set(fiber.HeaderRetryAfter, "1")
		return newProblem(fiber.StatusServiceUnavailable, "Connection tokens cannot be checked right now; retry shortly.")
	}
	if !ok {
		securityEvent(c, s.log, "ws_bad_token")
		return newProblem(fiber.StatusUnauthorized, "The connection token is invalid, expired or revoked; get a new one from POST /ws/token.")
	}
	c.Locals(localWSUser, userID)
	c.Locals(localWSSession, sessionID)
	return s.upgradeHandler(c)
}

// rawQueryValue finds name's value in a raw query string without parsing every
// argument: fasthttp keeps a request's parsed arguments for as long as the socket
// it upgraded lives, so a token connect parses none. A value with escapes is
// unescaped; an undecodable one is empty.
func rawQueryValue(query []byte, name string) string {
	for len(query) > 0 {
		var pair []byte
		pair, query, _ = bytes.Cut(query, []byte("&"))
		key, value, _ := bytes.Cut(pair, []byte("="))
		if string(key) != name {
			continue
		}
		if bytes.ContainsAny(value, "%+") {
			v, err := url.QueryUnescape(string(value))
			if err != nil {
				return ""
			}
			return v
		}
		return string(value)
	}
	return ""
}

// addressBudget is a per-node GCRA budget per client address, in memory: it
// protects this node's upgrades without a shared store.
type addressBudget struct {
	interval time.Duration // one request's worth of the budget
	burst    time.Duration // how far ahead of now the schedule may run
	mu       sync.Mutex
	tat      map[string]time.Time // theoretical arrival time per address
	swept    time.Time
}

func newAddressBudget(perMinute int) *addressBudget {
	interval := time.Minute / time.Duration(max(perMinute, 1))
	return &addressBudget{interval: interval, burst: time.Minute, tat: make(map[string]time.Time)}
}

// take spends one request of addr's budget and returns 0, or how long to
// wait when the budget is used up.
func (b *addressBudget) take(addr string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.swept) > b.burst {
		b.sweep(now)
	}
	tat := b.tat[addr]
	if tat.Before(now) {
		tat = now
	}
	if over := tat.Add(b.interval).Sub(now) - b.burst; over > 0 {
		return over
	}
	b.tat[addr] = tat.Add(b.interval)
	return 0
}

// sweep forgets addresses whose budget is whole again.
func (b *addressBudget) sweep(now time.Time) {
	for addr, tat := range b.tat {
		if tat.Before(now) {
			delete(b.tat, addr)
		}
	}
	b.swept = now
}
