package handlers

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// reconciliationRoutes serve the admins' view of the reconciliation with the payment
// providers: its open differences and a run on demand. Both answer 404 to everyone
// else.
type reconciliationRoutes struct {
	rec *market.Reconciliation
}

// reconciliationRunTimeout bounds a run an admin asks for; the periodic job has its
// own (RECONCILE_TIMEOUT).
const reconciliationRunTimeout = 2 * time.Minute

// differences lists differences, newest first: ?open=false includes resolved ones
// (default: open only), ?limit= and ?cursor= page them.
func (h *reconciliationRoutes) differences(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if !u.IsAdmin {
		return market.ErrNotFound // before reading the query: the route reveals nothing
	}
	open := true
	switch c.Query("open") {
	case "", "true":
	case "false":
		open = false
	default:
		return badRequest("open", "must be true or false")
	}
	limit, before, err := queryPage(c, 50, 200)
	if err != nil {
		return err
	}
	list, err := h.rec.Differences(c.UserContext(), u, open, before, limit)
	if err != nil {
		return err
	}
	out := fiber.Map{"differences": list}
	if len(list) == limit {
		last := list[len(list)-1]
		out["next_cursor"] = encodeCursor(last.FirstSeenAt, last.ID)
	}
	return c.JSON(out)
}

// run reconciles now, every provider or only ?provider=, and answers each
// provider's run: what was compared and every difference found. 409 while this node
// is already running one.
func (h *reconciliationRoutes) run(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if !u.IsAdmin {
		return market.ErrNotFound
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), reconciliationRunTimeout)
	defer cancel()
	runs, err := h.rec.RunAs(ctx, u, c.Query("provider"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"runs": runs})
}
