package handlers

import (
	"cmp"
	"log/slog"
	"math"
	"strconv"
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
}

func perMinute(n int) redis_rate.Limit { return redis_rate.PerMinute(n) }

// perIP limits requests per client address under budget name.
func (r *rateLimiter) perIP(name string, perMin int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		return r.check(c, name+":ip:"+clientIP(c), perMinute(perMin))
	}
}

// perUser limits requests per signed-in user; anonymous requests pass (perIP covers them).
func (r *rateLimiter) perUser(name string, perMin int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		u, ok := currentUser(c)
		if !ok {
			return c.Next()
		}
		return r.check(c, name+":user:"+u.ID, perMinute(perMin))
	}
}

// accountChanges limits the sensitive account changes (e-mail, password, deletion) of
// a signed-in user to limits.AccountChanges per hour, whichever address they come from.
func (r *rateLimiter) accountChanges() fiber.Handler {
	limit := redis_rate.PerHour(r.limits.AccountChanges)
	return func(c *fiber.Ctx) error {
		u, ok := currentUser(c)
		if !ok {
			return c.Next()
		}
		return r.check(c, "account-change:user:"+u.ID, limit)
	}
}

// check spends one request of key's budget. When Redis cannot answer, the request
// passes and the fault is logged: an outage of the limiter must not take the site down.
func (r *rateLimiter) check(c *fiber.Ctx, key string, limit redis_rate.Limit) error {
	if r.lim == nil {
		return c.Next()
	}
	res, err := r.lim.Allow(c.UserContext(), "gs:rl:"+key, limit)
	if err != nil {
		r.log.ErrorContext(c.UserContext(), "rate limiter unavailable; request allowed", "err", err)
		return c.Next()
	}
	if res.Allowed == 0 {
		securityEvent(c, r.log, "rate_limited", slog.String("budget", key))
		return tooManyRequests(c, res.RetryAfter)
	}
	return c.Next()
}

func tooManyRequests(c *fiber.Ctx, retryAfter time.Duration) error {
	secs := int(math.Ceil(retryAfter.Seconds()))
	if secs < 1 {
		secs = 1
	}
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
	return newProblem(fiber.StatusTooManyRequests, "Too many requests; retry after "+strconv.Itoa(secs)+" s.")
}
