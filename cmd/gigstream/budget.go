package main

import "github.com/gigstream/hub/handlers"

// routeBudgets are the budgets of the routes that cost money or CPU (handlers.RouteBudgets).
// Messages is not read here: it is the chat's MessagesPerMinute (handlerBudgets).
type routeBudgets struct{ Orders, Uploads, Conversations, Search, Exports, Reports, Webhooks, Messages int }

// handlerBudgets is c's route budgets for handlers.Config, with the chat message budget
// that market.Chat.Send spends (so the front door can spend it for REST sends).
func (c config) handlerBudgets() handlers.RouteBudgets {
	b := c.Budgets
	b.Messages = c.MessagesPerMinute
	return handlers.RouteBudgets(b)
}

// loadBudgetConfig reads the route budgets; .env.example says what each one counts.
func loadBudgetConfig(e *envReader, c *config) {
	c.Budgets = routeBudgets{
		Orders:        e.integer("RATE_LIMIT_ORDERS_PER_MINUTE", 30, 1, 1_000_000),
		Uploads:       e.integer("RATE_LIMIT_UPLOADS_PER_MINUTE", 60, 1, 1_000_000),
		Conversations: e.integer("RATE_LIMIT_CONVERSATIONS_PER_MINUTE", 30, 1, 1_000_000),
		Search:        e.integer("RATE_LIMIT_SEARCH_PER_MINUTE", 300, 1, 1_000_000),
		Exports:       e.integer("RATE_LIMIT_EXPORTS_PER_HOUR", 10, 1, 1_000_000),
		Reports:       e.integer("RATE_LIMIT_REPORTS_PER_HOUR", 30, 1, 1_000_000),
		Webhooks:      e.integer("RATE_LIMIT_WEBHOOKS_PER_MINUTE", 600, 1, 1_000_000),
	}
}

// socketBudgets cap this node's sockets and what each may cost in subscribe
// authorizations (handlers.Config's socket caps, hub.Config's Authorize budget).
type socketBudgets struct {
	PerUser, PerIP           int
	AuthorizeRate, AuthBurst int
}

// loadSocketBudgetConfig reads the socket caps and the subscribe authorization budget.
func loadSocketBudgetConfig(e *envReader, c *config) {
	c.SocketBudgets = socketBudgets{
		PerUser:       e.integer("WS_MAX_SOCKETS_PER_USER", 20, 1, 1_000_000),
		PerIP:         e.integer("WS_MAX_SOCKETS_PER_IP", 200, 1, 1_000_000),
		AuthorizeRate: e.integer("WS_SUBSCRIBE_AUTH_PER_SECOND", 2, 1, 1_000_000),
		AuthBurst:     e.integer("WS_SUBSCRIBE_AUTH_BURST", 64, 1, 1_000_000),
	}
}
