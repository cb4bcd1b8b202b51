package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/gigstream/hub/market"
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
// one round trip to Redis instead of two. Likewise a signed-in chat message
// (sendsMessage) spends the sender's message budget beside their "all:user" budget,
// which market.Chat.Send would otherwise spend in a round trip of its own. Without a
// search or a message, or on Redis Cluster (where the two keys may live on different
// nodes), it is perIP / perUser.
type frontDoor struct {
	r        *rateLimiter
	rdb      redis.Scripter // nil: budgets one by one (no Redis, or Redis Cluster)
	search   redis_rate.Limit
	messages redis_rate.Limit // zero: the message budget is left to market.Chat.Send
}

// newFrontDoor returns the front door of r with searchPerMin as the search budget and
// messagesPerMin as the chat message budget (0: none spent here).
func newFrontDoor(r *rateLimiter, rdb redis.UniversalClient, searchPerMin, messagesPerMin int) *frontDoor {
	f := &frontDoor{r: r, search: perMinute(searchPerMin)}
	if messagesPerMin > 0 {
		f.messages = perMinute(messagesPerMin)
	}
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
		return f.spend(c, budget{"all:ip:" + addr, limit}, budget{"search:ip:" + addr, f.search}, markSearchSpent)
	}
}

// perUser spends the signed-in user's "all" budget, and a search's or a chat
// message's budget with it; signed-out requests pass (perIP covered them).
func (f *frontDoor) perUser(perMin int) fiber.Handler {
	plain := f.r.perUser("all", perMin)
	limit := perMinute(perMin)
	return func(c *fiber.Ctx) error {
		u, ok := currentUser(c)
		switch {
		case f.rdb == nil || !ok:
			return plain(c)
		case spendsSearch(c):
			return f.spend(c, budget{"all:user:" + u.ID, limit}, budget{"search:user:" + u.ID, f.search}, markSearchSpent)
		case f.messages.Rate > 0 && sendsMessage(c):
			return f.spend(c, budget{"all:user:" + u.ID, limit}, budget{messageBudgetKey + u.ID, f.messages}, markMessageBudgetSpent)
		}
		return plain(c)
	}
}

// messageBudgetKey is the start of a user's chat message budget key (the user id
// follows) as the front door names it; MessageBudgetKey is the whole Redis key.
const messageBudgetKey = "messages:user:"

// MessageBudgetKey is the redis_rate key of userID's chat message budget: the front
// door spends it for REST sends and market.Chat.Send's limiter (cmd/gigstream) for
// the others, so both must spend the one key.
func MessageBudgetKey(userID string) string { return "gs:rl:" + messageBudgetKey + userID }

// spend is rateLimiter.check over both budgets in one round trip: the first that
// refuses answers 429 with its Retry-After; while Redis is down both fail open. It
// marks the second budget spent (mark) whatever the outcome, as the budget's own
// check would have failed open too.
func (f *frontDoor) spend(c *fiber.Ctx, all, second budget, mark func(*fiber.Ctx)) error {
	r := f.r
	if time.Now().UnixNano() < r.downUntil.Load() {
		mark(c)
		return c.Next()
	}
	refused, wait, err := allowEachBudget(c.UserContext(), f.rdb, all, second)
	if err != nil {
		r.downUntil.Store(time.Now().Add(limiterOutageSkip).UnixNano())
		r.log.ErrorContext(c.UserContext(), "rate limiter unavailable", "budget", budgetName(all.key)+"+"+budgetName(second.key), "fail_closed", failOpen, "err", err)
		mark(c)
		return c.Next()
	}
	if refused != nil {
		securityEvent(c, r.log, "rate_limited", slog.String("budget", refused.key))
		return tooManyRequests(c, wait)
	}
	mark(c)
	return c.Next()
}

// markSearchSpent tells searchBudget that the front door spent the search budget.
func markSearchSpent(c *fiber.Ctx) { c.Locals(localSearchSpent, true) }

// markMessageBudgetSpent tells market.Chat.Send that the front door spent the
// sender's message budget.
func markMessageBudgetSpent(c *fiber.Ctx) {
	c.SetUserContext(market.WithMessageBudgetSpent(c.UserContext()))
}

// sendsMessage reports whether the request sends a chat message: POST
// /conversations/{id}/messages. Paths the router also takes (a trailing slash, other
// letter case) answer false here, and market.Chat.Send spends the budget instead.
func sendsMessage(c *fiber.Ctx) bool {
	if c.Method() != fiber.MethodPost {
		return false
	}
	rest, ok := strings.CutPrefix(c.Path(), "/conversations/")
	if !ok {
		return false
	}
	id, ok := strings.CutSuffix(rest, "/messages")
	return ok && id != "" && !strings.Contains(id, "/")
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
