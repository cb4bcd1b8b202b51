package handlers

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// twoFactorRoutes serve the caller's two-factor authentication: status, enrolment and
// its confirmation, the step-up that money-moving requests need, disable and new
// recovery codes. Every code check is bounded by the enrolment's own lock (five wrong
// codes lock it for fifteen minutes).
type twoFactorRoutes struct {
	twoFactor *market.TwoFactor
}

// sessionIDs returns the caller's user and session ids.
func sessionIDs(c *fiber.Ctx) (string, string) {
	u, _ := currentUser(c)
	s, _ := currentSession(c)
	return u.ID, s.ID
}

// status shows whether two-factor authentication is on and until when this session
// may move money.
func (h *twoFactorRoutes) status(c *fiber.Ctx) error {
	userID, sessionID := sessionIDs(c)
	st, err := h.twoFactor.Status(c.UserContext(), userID, sessionID)
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// enrol starts an enrolment: a new secret and its otpauth URI (201).
func (h *twoFactorRoutes) enrol(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	en, err := h.twoFactor.Enrol(c.UserContext(), u)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(en)
}

type codeRequest struct {
	Code string `json:"code" validate:"required,max=16"`
}

// confirm enables the enrolment with its first code and returns the recovery codes.
func (h *twoFactorRoutes) confirm(c *fiber.Ctx) error {
	var req codeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	userID, sessionID := sessionIDs(c)
	codes, err := h.twoFactor.Confirm(c.UserContext(), userID, sessionID, req.Code)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"recovery_codes": codes})
}

type secondFactorRequest struct {
	Code         string `json:"code" validate:"max=16"`
	RecoveryCode string `json:"recovery_code" validate:"max=32"`
}

func (r secondFactorRequest) factor() market.SecondFactor {
	return market.SecondFactor{Code: r.Code, RecoveryCode: r.RecoveryCode}
}

// verify is the step-up: a code or recovery code lets this session move money for a
// few minutes.
func (h *twoFactorRoutes) verify(c *fiber.Ctx) error {
	var req secondFactorRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	userID, sessionID := sessionIDs(c)
	until, err := h.twoFactor.Verify(c.UserContext(), userID, sessionID, req.factor())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"verified_until": until})
}

// disable turns two-factor authentication off with a code or a recovery code (204).
func (h *twoFactorRoutes) disable(c *fiber.Ctx) error {
	var req secondFactorRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	userID, sessionID := sessionIDs(c)
	if err := h.twoFactor.Disable(c.UserContext(), userID, sessionID, req.factor()); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// recoveryCodes replaces the recovery codes after a code check.
func (h *twoFactorRoutes) recoveryCodes(c *fiber.Ctx) error {
	var req secondFactorRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	userID, sessionID := sessionIDs(c)
	codes, err := h.twoFactor.RegenerateRecoveryCodes(c.UserContext(), userID, sessionID, req.factor())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"recovery_codes": codes})
}

// stepUp is the gate of money-moving routes (withdrawals, payout methods): the caller
// has two-factor authentication on and passed it in this session within the step-up
// window; otherwise 403 naming two_factor with rule two_factor.
func (h *twoFactorRoutes) stepUp(c *fiber.Ctx) error {
	userID, sessionID := sessionIDs(c)
	if err := h.twoFactor.RequireRecent(c.UserContext(), userID, sessionID); err != nil {
		var e *market.Error
		if errors.As(err, &e) && e.Code == market.CodeForbidden {
			return market.RuleError(e.Code, "two_factor", e.Field, e.Message)
		}
		return err
	}
	return c.Next()
}
