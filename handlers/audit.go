package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// auditRoutes serve the caller's ledger statement and the admins' views: the order
// queue and the live ledger check. The admin routes answer 404 to everyone else.
type auditRoutes struct {
	audit *market.Audit
}

// postingCursor is the position of a statement page: the id of its last posting
// (postings are paged by their id, which orders them within an account).
type postingCursor struct {
	PostingID int64 `json:"p"`
}

// ledger lists the caller's postings as a seller, newest first (an admin may pass
// ?account= to read any account).
func (h *auditRoutes) ledger(c *fiber.Ctx) error {
	limit, err := queryInt(c, "limit", 50, 1, 200)
	if err != nil {
		return err
	}
	var before postingCursor
	if _, err := queryKeyCursor(c.Query("cursor"), &before, func(p postingCursor) bool { return p.PostingID > 0 }); err != nil {
		return err
	}
	u, _ := currentUser(c)
	list, err := h.audit.Statement(c.UserContext(), u, c.Query("account"), before.PostingID, limit)
	if err != nil {
		return err
	}
	out := fiber.Map{"entries": list}
	if len(list) == limit {
		out["next_cursor"] = encodeKeyCursor(postingCursor{PostingID: list[len(list)-1].PostingID})
	}
	return c.JSON(out)
}

// adminOrders is the admins' order queue, ?status= (e.g. disputed), newest change
// first.
func (h *auditRoutes) adminOrders(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if !u.IsAdmin {
		return market.ErrNotFound // before reading the query: the route reveals nothing
	}
	limit, before, err := queryPage(c, 50, 200)
	if err != nil {
		return err
	}
	list, err := h.audit.AdminOrders(c.UserContext(), u, market.OrderStatus(c.Query("status")), before, limit)
	if err != nil {
		return err
	}
	out := fiber.Map{"orders": list}
	if len(list) == limit {
		last := list[len(list)-1]
		out["next_cursor"] = encodeCursor(last.UpdatedAt, last.ID)
	}
	return c.JSON(out)
}

// ledgerCheck audits the ledger's invariants live, for admins.
func (h *auditRoutes) ledgerCheck(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	a, err := h.audit.CheckLedger(c.UserContext(), u)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

// providerEventCursor is the position of a provider events page.
type providerEventCursor struct {
	At       time.Time `json:"at"`
	Provider string    `json:"p"`
	EventID  string    `json:"e"`
}

// providerEvents lists stored provider events for admins: ?outcome= (unhandled when
// absent: the events GigStream received but does not act on), newest first.
func (h *auditRoutes) providerEvents(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if !u.IsAdmin {
		return market.ErrNotFound // before reading the query: the route reveals nothing
	}
	limit, err := queryInt(c, "limit", 50, 1, 200)
	if err != nil {
		return err
	}
	var before *market.ProviderEventKey
	var cur providerEventCursor
	ok, err := queryKeyCursor(c.Query("cursor"), &cur, func(p providerEventCursor) bool {
		return !p.At.IsZero() && p.Provider != "" && p.EventID != ""
	})
	if err != nil {
		return err
	}
	if ok {
		before = &market.ProviderEventKey{At: cur.At, Provider: cur.Provider, EventID: cur.EventID}
	}
	list, err := h.audit.ProviderEvents(c.UserContext(), u, c.Query("outcome"), before, limit)
	if err != nil {
		return err
	}
	out := fiber.Map{"events": list}
	if len(list) == limit {
		last := list[len(list)-1]
		out["next_cursor"] = encodeKeyCursor(providerEventCursor{At: last.ReceivedAt, Provider: last.Provider, EventID: last.EventID})
	}
	return c.JSON(out)
}
