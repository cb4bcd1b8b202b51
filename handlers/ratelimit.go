package handlers

import (
	"cmp"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"
)

// RateLimits are the request budgets, as GCRA rates in Redis shared by every node.
// The zero value of each field means the default in its comment.
type RateLimits struct {
	PerIP   int // requests per minute per client address, all routes; default 600
	PerUser int // requests per minute per signed-in user, all routes; default 1200
	Auth    int // sign-in, registration and recovery attempts per minute per address; default 10
	// FailedLogins is how many failed sign-ins one client (a known device, else an
	// address or IPv6 /64) may make on one account before it waits; default 5.
	FailedLogins int
	// FailedLoginsPerAccount is how many failed sign-ins all unknown clients together
	// may make on one account before every unknown client waits (known devices never
	// do); default 100.
	FailedLoginsPerAccount int
	// AccountChanges are e-mail changes, password changes and account deletions per
	// signed-in user per hour (on top of Auth per address); default 10.
	AccountChanges int
}

func (r RateLimits) withDefaults() RateLimits {
	r.PerIP = cmp.Or(r.PerIP, 600)
	r.PerUser = cmp.Or(r.PerUser, 1200)
	r.Auth = cmp.Or(r.Auth, 10)
	r.FailedLogins = cmp.Or(r.FailedLogins, 5)
	r.FailedLoginsPerAccount = cmp.Or(r.FailedLoginsPerAccount, 100)
	r.AccountChanges = cmp.Or(r.AccountChanges, 10)
	return r
}

// newLimiter returns a GCRA limiter on rdb, or nil (no limits) without Redis.
func newLimiter(rdb redis.UniversalClient) *redis_rate.Limiter {
	if rdb == nil {
		return nil
	}
	return redis_rate.NewLimiter(rdb)
}

// rateLimiter enforces budgets per address and per user.
type rateLimiter struct {
	lim    *redis_rate.Limiter
	limits RateLimits
	log    *slog.Logger
	// downUntil (unix nanoseconds) is set when Redis failed: until then budgets are not
	// asked of it, so an outage costs each request nothing rather than a timeout.
	downUntil atomic.Int64
}

// What a budget does while Redis cannot answer (README, "Running it safely").
const (
	failOpen   = false // the request passes: an outage of the limiter must not take the site down
	failClosed = true  // 503 with Retry-After: authentication is never left unthrottled

	// limiterOutageSkip is how long a failed Redis is left alone before it is asked again.
	limiterOutageSkip = time.Second
	// limiterOutageRetry is the Retry-After of a request refused because Redis is down.
	limiterOutageRetry = 5 * time.Second
)

func perMinute(n int) redis_rate.Limit { return redis_rate.PerMinute(n) }

// perIP limits requests per client address (an IPv6 /64) under budget name; it
// fails open while Redis is down.
func (r *rateLimiter) perIP(name string, perMin int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		return r.check(c, name+":ip:"+clientKey(c), perMinute(perMin), failOpen)
	}
}

// authPerIP is perIP for the authentication routes: it fails closed while Redis is
// down, since an unthrottled sign-in is a password-guessing oracle.
func (r *rateLimiter) authPerIP(name string, perMin int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		return r.check(c, name+":ip:"+clientKey(c), perMinute(perMin), failClosed)
	}
}

// perUser limits requests per signed-in user; anonymous requests pass (perIP covers them).
func (r *rateLimiter) perUser(name string, perMin int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		u, ok := currentUser(c)
		if !ok {
			return c.Next()
		}
		return r.check(c, name+":user:"+u.ID, perMinute(perMin), failOpen)
	}
}

// accountChanges limits the sensitive account changes (e-mail, password, deletion) of
// a signed-in user to limits.AccountChanges per hour, whichever address they come from.
// Like sign-in, it fails closed while Redis is down.
func (r *rateLimiter) accountChanges() fiber.Handler {
	limit := redis_rate.PerHour(r.limits.AccountChanges)
	return func(c *fiber.Ctx) error {
		u, ok := currentUser(c)
		if !ok {
			return c.Next()
		}
		return r.check(c, "account-change:user:"+u.ID, limit, failClosed)
	}
}

// check spends one request of key's budget. When Redis cannot answer, the fault is
// logged and the request passes, or with closed set is refused with 503.
func (r *rateLimiter) check(c *fiber.Ctx, key string, limit redis_rate.Limit, closed bool) error {
	if r.lim == nil {
		return c.Next()
	}
	if time.Now().UnixNano() < r.downUntil.Load() {
		return r.unavailable(c, key, closed)
	}
	res, err := r.lim.Allow(c.UserContext(), "gs:rl:"+key, limit)
	if err != nil {
		r.downUntil.Store(time.Now().Add(limiterOutageSkip).UnixNano())
		r.log.ErrorContext(c.UserContext(), "rate limiter unavailable", "budget", budgetName(key), "fail_closed", closed, "err", err)
		return r.unavailable(c, key, closed)
	}
	if res.Allowed == 0 {
		securityEvent(c, r.log, "rate_limited", slog.String("budget", key))
		return tooManyRequests(c, res.RetryAfter)
	}
	return c.Next()
}

// unavailable answers a request whose budget Redis cannot tell: 503 with Retry-After
// when the budget fails closed, the next handler otherwise.
func (r *rateLimiter) unavailable(c *fiber.Ctx, key string, closed bool) error {
	if !closed {
		return c.Next()
	}
	securityEvent(c, r.log, "rate_limiter_down", slog.String("budget", budgetName(key)))
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(limiterOutageRetry.Seconds())))
	return newProblem(fiber.StatusServiceUnavailable, "This is throttled and the throttle cannot be checked right now; retry shortly.")
}

// budgetName is a budget key without the caller ("auth" of "auth:ip:203.0.113.7").
func budgetName(key string) string {
	name, _, _ := strings.Cut(key, ":")
	return name
}

func tooManyRequests(c *fiber.Ctx, retryAfter time.Duration) error {
	secs := int(math.Ceil(retryAfter.Seconds()))
	if secs < 1 {
		secs = 1
	}
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
	return newProblem(fiber.StatusTooManyRequests, "Too many requests; retry after "+strconv.Itoa(secs)+" s.")
}
