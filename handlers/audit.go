package handlers

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// auditRoutes serve the caller's ledger statement and the admins' views: the order
// queue and the live ledger check. The admin routes answer 404 to everyone else.
type auditRoutes struct {
	audit *market.Audit
}

// encodePostingCursor makes the opaque next_cursor of a statement page ending at the
// posting id (postings are paged by their id, which orders them within an account).
func encodePostingCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("p" + strconv.FormatInt(id, 10)))
}

// queryPostingCursor reads a statement's cursor: 0 when absent, a 400 naming cursor
// when it is not a next_cursor this API made.
func queryPostingCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil && len(raw) > 1 && raw[0] == 'p' {
		if id, err := strconv.ParseInt(string(raw[1:]), 10, 64); err == nil && id > 0 {
			return id, nil
		}
	}
	return 0, badRequest("cursor", "must be a next_cursor from a previous page")
}

// ledger lists the caller's postings as a seller, newest first (an admin may pass
// ?account= to read any account).
func (h *auditRoutes) ledger(c *fiber.Ctx) error {
	limit, err := queryInt(c, "limit", 50, 1, 200)
	if err != nil {
		return err
	}
	before, err := queryPostingCursor(c.Query("cursor"))
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	list, err := h.audit.Statement(c.UserContext(), u, c.Query("account"), before, limit)
	if err != nil {
		return err
	}
	out := fiber.Map{"entries": list}
	if len(list) == limit {
		out["next_cursor"] = encodePostingCursor(list[len(list)-1].PostingID)
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
	if s := c.Query("cursor"); s != "" {
		var cur providerEventCursor
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || json.Unmarshal(raw, &cur) != nil || cur.At.IsZero() || cur.Provider == "" || cur.EventID == "" {
			return badRequest("cursor", "must be a next_cursor from a previous page")
		}
		before = &market.ProviderEventKey{At: cur.At, Provider: cur.Provider, EventID: cur.EventID}
	}
	list, err := h.audit.ProviderEvents(c.UserContext(), u, c.Query("outcome"), before, limit)
	if err != nil {
		return err
	}
	out := fiber.Map{"events": list}
	if len(list) == limit {
		last := list[len(list)-1]
		raw, _ := json.Marshal(providerEventCursor{At: last.ReceivedAt, Provider: last.Provider, EventID: last.EventID})
		out["next_cursor"] = base64.RawURLEncoding.EncodeToString(raw)
	}
	return c.JSON(out)
}
