package handlers

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
	PerIP        int // requests per minute per client address, all routes; default 600
	PerUser      int // requests per minute per signed-in user, all routes; default 1200
	Auth         int // sign-in, registration and recovery attempts per minute per address; default 10
	FailedLogins int // failed logins per account per 15 minutes before it is locked; default 5
}

func (r RateLimits) withDefaults() RateLimits {
	r.PerIP = cmp.Or(r.PerIP, 600)
	r.PerUser = cmp.Or(r.PerUser, 1200)
	r.Auth = cmp.Or(r.Auth, 10)
	r.FailedLogins = cmp.Or(r.FailedLogins, 5)
	return r
}

// newLimiter returns a GCRA limiter on rdb, or nil (no limits) without Redis.
func newLimiter(rdb redis.UniversalClient) *redis_rate.Limiter {
	if rdb == nil {
		return nil
	}
	return redis_rate.NewLimiter(rdb)
}

// rateLimiter enforces budgets per address, per user and per account.
type rateLimiter struct {
	lim    *redis_rate.Limiter
	limits RateLimits
	log    *slog.Logger
}

func perMinute(n int) redis_rate.Limit { return redis_rate.PerMinute(n) }

// failedLoginLimit allows limits.FailedLogins failures in a burst, refilling over 15 minutes.
func (r *rateLimiter) failedLoginLimit() redis_rate.Limit {
	return redis_rate.Limit{Rate: r.limits.FailedLogins, Burst: r.limits.FailedLogins, Period: 15 * time.Minute}
}

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

// accountLocked reports how long the account must wait when it has used up its
// failed-login budget, or 0. It spends nothing.
func (r *rateLimiter) accountLocked(ctx context.Context, email string) (time.Duration, error) {
	if r.lim == nil {
		return 0, nil
	}
	limit := r.failedLoginLimit()
	res, err := r.lim.AllowN(ctx, accountKey(email), limit, 0)
	if err != nil {
		return 0, fmt.Errorf("login throttle: %w", err)
	}
	if res.Remaining >= 1 {
		return 0, nil
	}
	// Spending nothing, ResetAfter is how long until the whole budget is back; one
	// failure's worth comes back burst-1 intervals sooner.
	interval := limit.Period / time.Duration(limit.Rate)
	return max(res.ResetAfter-time.Duration(limit.Burst-1)*interval, time.Second), nil
}

// loginFailed spends one failure of the account's budget.
func (r *rateLimiter) loginFailed(ctx context.Context, email string) {
	if r.lim == nil {
		return
	}
	if _, err := r.lim.Allow(ctx, accountKey(email), r.failedLoginLimit()); err != nil {
		r.log.ErrorContext(ctx, "login throttle not updated", "err", err)
	}
}

// accountKey hashes the address, so that Redis holds no e-mail addresses.
func accountKey(email string) string {
	sum := sha256.Sum256([]byte(email))
	return "gs:rl:login-fail:" + hex.EncodeToString(sum[:16])
}

func tooManyRequests(c *fiber.Ctx, retryAfter time.Duration) error {
	secs := int(math.Ceil(retryAfter.Seconds()))
	if secs < 1 {
		secs = 1
	}
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
	return newProblem(fiber.StatusTooManyRequests, "Too many requests; retry after "+strconv.Itoa(secs)+" s.")
}
