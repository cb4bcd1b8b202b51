package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"
)

// limiterKeyPrefix is what redis_rate puts before a budget's key ("rate:") and what
// check puts before it ("gs:rl:"): the combined script reads and writes the very keys
// redis_rate.Limiter.Allow does, so nodes of either kind share one budget.
const limiterKeyPrefix = "rate:gs:rl:"

// allowEach is redis_rate's GCRA script (allowN with a cost of one) over several keys
// in one call, one after the other, stopping at the first that refuses: it spends
// exactly what the same budgets checked in turn by redis_rate would spend, in one
// Redis round trip. ARGV holds burst, rate and period in seconds of each key in turn.
// It returns {0, "-1"} when every key allowed the request, else {i, retry_after in
// seconds} for the first key i (from 1) that refused it.
var allowEach = redis.NewScript(`
redis.replicate_commands()

local jan_1_2017 = 1483228800
local now = redis.call("TIME")
now = (now[1] - jan_1_2017) + (now[2] / 1000000)

for i, key in ipairs(KEYS) do
  local burst = ARGV[i * 3 - 2]
  local rate = ARGV[i * 3 - 1]
  local period = ARGV[i * 3]
  local emission_interval = period / rate
  local burst_offset = emission_interval * burst

  local tat = redis.call("GET", key)
  if not tat then
    tat = now
  else
    tat = tonumber(tat)
  end
  tat = math.max(tat, now)

  local new_tat = tat + emission_interval
  local allow_at = new_tat - burst_offset
  local diff = now - allow_at
  if diff < 0 then
    return {i, tostring(diff * -1)}
  end

  local reset_after = new_tat - now
  if reset_after > 0 then
    redis.call("SET", key, new_tat, "EX", math.ceil(reset_after))
  end
end
return {0, "-1"}
`)

// budget is one request budget: its key (without limiterKeyPrefix) and its rate.
type budget struct {
	key   string
	limit redis_rate.Limit
}

// allowEachBudget spends one request of each budget in turn, in one Redis round trip, and
// returns the first that refused it (nil when none did) with its wait.
func allowEachBudget(ctx context.Context, rdb redis.Scripter, budgets ...budget) (*budget, time.Duration, error) {
	keys := make([]string, len(budgets))
	args := make([]any, 0, 3*len(budgets))
	for i, b := range budgets {
		keys[i] = limiterKeyPrefix + b.key
		args = append(args, b.limit.Burst, b.limit.Rate, b.limit.Period.Seconds())
	}
	v, err := allowEach.Run(ctx, rdb, keys, args...).Slice()
	if err != nil {
		return nil, 0, fmt.Errorf("rate limit script: %w", err)
	}
	if len(v) != 2 {
		return nil, 0, fmt.Errorf("rate limit script answered %v", v)
	}
	i, ok := v[0].(int64)
	if !ok || i < 0 || int(i) > len(budgets) {
		return nil, 0, fmt.Errorf("rate limit script answered key %v of %d", v[0], len(budgets))
	}
	if i == 0 {
		return nil, 0, nil
	}
	s, _ := v[1].(string)
	secs, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("rate limit script's retry after %q: %w", s, err)
	}
	return &budgets[i-1], time.Duration(secs * float64(time.Second)), nil
}

// localSearchSpent marks a request whose search budget the front door spent beside
// the per-address or per-user budget, so searchBudget does not spend it again.
const localSearchSpent = "gs.searchSpent"

// frontDoor is the per-address ("all:ip") or per-user ("all:user") budget of every
// request that, for a search (spendsSearch), also spends the caller's search budget
// in the same Redis round trip: a search answered from the result cache then costs
// one round trip to Redis instead of two. Without a search, or on Redis Cluster
// (where the two keys may live on different nodes), it is perIP / perUser.
type frontDoor struct {
	r      *rateLimiter
	rdb    redis.Scripter // nil: budgets one by one (no Redis, or Redis Cluster)
	search redis_rate.Limit
}

// newFrontDoor returns the front door of r with searchPerMin as the search budget.
func newFrontDoor(r *rateLimiter, rdb redis.UniversalClient, searchPerMin int) *frontDoor {
	f := &frontDoor{r: r, search: perMinute(searchPerMin)}
	if _, cluster := rdb.(*redis.ClusterClient); rdb != nil && !cluster {
		f.rdb = rdb
	}
	return f
}

// perIP spends the address's "all" budget, and a signed-out search's budget with it.
// A request that carries a token is left to perUser and searchBudget: it may be signed
// in, and then its search budget is the user's.
func (f *frontDoor) perIP(perMin int) fiber.Handler {
	plain := f.r.perIP("all", perMin)
	limit := perMinute(perMin)
	return func(c *fiber.Ctx) error {
		if f.rdb == nil || !spendsSearch(c) || bearerToken(c) != "" || c.Cookies(sessionCookie) != "" {
			return plain(c)
		}
		addr := clientKey(c)
		return f.spend(c, budget{"all:ip:" + addr, limit}, budget{"search:ip:" + addr, f.search})
	}
}

// perUser spends the signed-in user's "all" budget, and a search's budget with it;
// signed-out requests pass (perIP covered them).
func (f *frontDoor) perUser(perMin int) fiber.Handler {
	plain := f.r.perUser("all", perMin)
	limit := perMinute(perMin)
	return func(c *fiber.Ctx) error {
		u, ok := currentUser(c)
		if f.rdb == nil || !ok || !spendsSearch(c) {
			return plain(c)
		}
		return f.spend(c, budget{"all:user:" + u.ID, limit}, budget{"search:user:" + u.ID, f.search})
	}
}

// spend is rateLimiter.check over both budgets in one round trip: the first that
// refuses answers 429 with its Retry-After; while Redis is down both fail open. It marks
// the search budget spent whatever the outcome, as searchBudget would have failed open
// too.
func (f *frontDoor) spend(c *fiber.Ctx, all, search budget) error {
	r := f.r
	if time.Now().UnixNano() < r.downUntil.Load() {
		c.Locals(localSearchSpent, true)
		return c.Next()
	}
	refused, wait, err := allowEachBudget(c.UserContext(), f.rdb, all, search)
	if err != nil {
		r.downUntil.Store(time.Now().Add(limiterOutageSkip).UnixNano())
		r.log.ErrorContext(c.UserContext(), "rate limiter unavailable", "budget", budgetName(all.key)+"+"+budgetName(search.key), "fail_closed", failOpen, "err", err)
		c.Locals(localSearchSpent, true)
		return c.Next()
	}
	if refused != nil {
		securityEvent(c, r.log, "rate_limited", slog.String("budget", refused.key))
		return tooManyRequests(c, wait)
	}
	c.Locals(localSearchSpent, true)
	return c.Next()
}

// spendsSearch reports whether the request spends the search budget: GET (or HEAD)
// /gigs with a query, and /search/suggest. Paths the router also takes (a trailing
// slash, other letter case) answer false here and spend it in searchBudget instead.
func spendsSearch(c *fiber.Ctx) bool {
	if m := c.Method(); m != fiber.MethodGet && m != fiber.MethodHead {
		return false
	}
	switch c.Path() {
	case "/gigs":
		return c.Query("q") != ""
	case "/search/suggest":
		return true
	}
	return false
}

// searchSpent reports whether the front door already spent the request's search budget.
func searchSpent(c *fiber.Ctx) bool {
	spent, _ := c.Locals(localSearchSpent).(bool)
	return spent
}
