package handlers

import (
	"cmp"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/gofiber/fiber/v2"
)

// RouteBudgets are the budgets of the routes that cost money or CPU, spent on top of
// the per-address and per-user budgets of RateLimits, in Redis shared by every node.
// All fail open while Redis is down. The zero value of each field means the default
// in its comment.
type RouteBudgets struct {
	Orders        int // POST /orders per user per minute (each creates a payment intent at the provider); default 30
	Uploads       int // new uploads (POST /uploads, PUT /uploads/raw, POST /uploads/tus) per user per minute; default 60
	Conversations int // POST /conversations per user per minute; default 30
	Search        int // GET /gigs with q and GET /search/suggest per user, or per address when signed out, per minute; default 300
	Exports       int // GET /me/export per user per hour; default 10
	Reports       int // POST /reports (abuse reports) per user per hour; default 30
	Webhooks      int // POST /webhooks/stripe and /webhooks/paypal per address per minute, before any verification; default 600
	// Messages is the chat message budget per user per minute that market.Chat.Send
	// spends (ChatConfig.SendLimit, the same key); the front door spends it beside the
	// per-user budget for POST /conversations/{id}/messages. 0: left to Send alone.
	Messages int
}

func (b RouteBudgets) withDefaults() RouteBudgets {
	b.Orders = cmp.Or(b.Orders, 30)
	b.Uploads = cmp.Or(b.Uploads, 60)
	b.Conversations = cmp.Or(b.Conversations, 30)
	b.Search = cmp.Or(b.Search, 300)
	b.Exports = cmp.Or(b.Exports, 10)
	b.Reports = cmp.Or(b.Reports, 30)
	b.Webhooks = cmp.Or(b.Webhooks, 600)
	return b
}

// userBudget spends one of the signed-in caller's budget name, perPeriod per period.
// It runs after requireUser; a request without a user passes to it.
func (r *rateLimiter) userBudget(name string, perPeriod int, period time.Duration) fiber.Handler {
	limit := redis_rate.Limit{Rate: perPeriod, Burst: perPeriod, Period: period}
	return func(c *fiber.Ctx) error {
		u, ok := currentUser(c)
		if !ok {
			return c.Next()
		}
		return r.check(c, name+":user:"+u.ID, limit, failOpen)
	}
}

// callerBudget spends one of budget name per signed-in user, or per address (an IPv6
// /64) for anyone signed out: public routes that are costly to answer.
func (r *rateLimiter) callerBudget(name string, perMin int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		key := name + ":ip:" + clientKey(c)
		if u, ok := currentUser(c); ok {
			key = name + ":user:" + u.ID
		}
		return r.check(c, key, perMinute(perMin), failOpen)
	}
}

// searchBudget is callerBudget for searches: GET /gigs spends it only with a query
// (browsing a category is cheap), GET /search/suggest always, unless the front door
// spent it already beside the per-address or per-user budget (frontDoor).
func (r *rateLimiter) searchBudget(perMin int) fiber.Handler {
	spend := r.callerBudget("search", perMin)
	return func(c *fiber.Ctx) error {
		if searchSpent(c) || c.Path() == "/gigs" && c.Query("q") == "" {
			return c.Next()
		}
		return spend(c)
	}
}
