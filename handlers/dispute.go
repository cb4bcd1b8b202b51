package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// disputeRoutes serve an order's dispute: the buyer opens and withdraws it, the seller
// answers once, an admin resolves it (a final action that may refund). Every step
// takes an Idempotency-Key; a retry under it answers the same (Idempotent-Replayed).
type disputeRoutes struct {
	disputes   *market.Disputes
	settlement *market.Settlement
}

type disputeOpenRequest struct {
	Reason string `json:"reason"`
}

type disputeAnswerRequest struct {
	Response string `json:"response"`
}

type disputeResolveRequest struct {
	RefundMinor *int64 `json:"refund_minor" validate:"required"`
	Note        string `json:"note"`
}

// disputeAnswer is the body of a dispute step: the order and its dispute.
type disputeAnswer struct {
	Order   market.Order   `json:"order"`
	Dispute market.Dispute `json:"dispute"`
}

// stepped answers a dispute step: 201 for a new dispute, 200 otherwise and on replay.
func stepped(c *fiber.Ctx, out market.DisputeOutcome, created bool) error {
	markReplayed(c, out.Replayed)
	if created && !out.Replayed {
		c.Status(fiber.StatusCreated)
	}
	return c.JSON(disputeAnswer{Order: out.Order, Dispute: out.Dispute})
}

// open is the buyer disputing the order.
func (h *disputeRoutes) open(c *fiber.Ctx) error {
	key, err := requireKey(c)
	if err != nil {
		return err
	}
	var req disputeOpenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	out, err := h.disputes.Open(c.UserContext(), c.Params("id"), u.ID, req.Reason, key)
	if err != nil {
		return err
	}
	return stepped(c, out, true)
}

// answer is the seller's one answer.
func (h *disputeRoutes) answer(c *fiber.Ctx) error {
	key, err := requireKey(c)
	if err != nil {
		return err
	}
	var req disputeAnswerRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	out, err := h.disputes.Answer(c.UserContext(), c.Params("id"), u.ID, req.Response, key)
	if err != nil {
		return err
	}
	return stepped(c, out, false)
}

// withdraw is the buyer taking the dispute back.
func (h *disputeRoutes) withdraw(c *fiber.Ctx) error {
	key, err := requireKey(c)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	out, err := h.disputes.Withdraw(c.UserContext(), c.Params("id"), u.ID, key)
	if err != nil {
		return err
	}
	return stepped(c, out, false)
}

// resolve is an admin ending the dispute, refunding refund_minor (0…price).
func (h *disputeRoutes) resolve(c *fiber.Ctx) error {
	key, err := requireKey(c)
	if err != nil {
		return err
	}
	var req disputeResolveRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	ord, replayed, err := h.settlement.ResolveDispute(c.UserContext(), c.Params("id"), u, *req.RefundMinor, req.Note, key)
	if err != nil {
		return err
	}
	return settled(c, ord, replayed)
}

// show returns the order's latest dispute to its parties and admins.
func (h *disputeRoutes) show(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	d, err := h.disputes.Dispute(c.UserContext(), c.Params("id"), u)
	if err != nil {
		return err
	}
	return c.JSON(d)
}
