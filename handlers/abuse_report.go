package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// abuseReportRoutes serve users' reports (POST /reports) and the admins' queue
// (/admin/reports).
type abuseReportRoutes struct {
	reports *market.AbuseReports
}

// abuseReportRequest is a user's report of a gig, message or profile.
type abuseReportRequest struct {
	TargetKind string `json:"target_kind" validate:"required,max=20"`
	TargetID   string `json:"target_id" validate:"required,max=64"`
	Reason     string `json:"reason" validate:"required,max=40"`
	Details    string `json:"details" validate:"max=2000"`
}

// resolveReportRequest is an admin's outcome of a report.
type resolveReportRequest struct {
	Outcome string `json:"outcome" validate:"required,max=20"`
	Note    string `json:"note" validate:"max=2000"`
}

// report files the caller's report: 201, or 200 with the same report when it is
// still open; 404 for a target the caller cannot see.
func (h *abuseReportRoutes) report(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	var req abuseReportRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	rep, created, err := h.reports.Report(c.UserContext(), market.NewAbuseReport{
		ReporterID: u.ID, TargetKind: req.TargetKind, TargetID: req.TargetID, Reason: req.Reason, Details: req.Details})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, cachePrivateNoStore)
	if created {
		c.Status(fiber.StatusCreated)
	}
	return c.JSON(rep)
}

// queue pages the reports of one status (open by default), oldest first; admins only.
func (h *abuseReportRoutes) queue(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if !u.IsAdmin {
		return market.ErrNotFound
	}
	limit, after, err := queryPage(c, market.DefaultAbuseReportPage, market.MaxAbuseReportPage)
	if err != nil {
		return err
	}
	list, err := h.reports.Queue(c.UserContext(), u, c.Query("status"), after, limit+1)
	if err != nil {
		return err
	}
	list, next := pageOf(list, limit, func(r market.AbuseReport) (time.Time, string) { return r.CreatedAt, r.ID })
	c.Set(fiber.HeaderCacheControl, cachePrivateNoStore)
	return c.JSON(fiber.Map{"reports": list, "next_cursor": next})
}

// resolve closes an open report as actioned or dismissed (409 when already closed).
func (h *abuseReportRoutes) resolve(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if !u.IsAdmin {
		return market.ErrNotFound // before reading the body: the route reveals nothing
	}
	var req resolveReportRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	rep, err := h.reports.Resolve(c.UserContext(), u, c.Params("id"), req.Outcome, req.Note)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, cachePrivateNoStore)
	return c.JSON(rep)
}
