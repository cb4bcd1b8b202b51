package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// authRoutes serves registration, sign-in and account recovery.
type authRoutes struct {
	accounts *market.Accounts
	limiter  *rateLimiter
	log      *slog.Logger
}

type registerRequest struct {
	Email       string `json:"email" validate:"required,max=254"`
	Username    string `json:"username" validate:"required,max=30"`
	DisplayName string `json:"display_name" validate:"required,max=80"`
	Password    string `json:"password" validate:"required,max=256"`
	IsBuyer     bool   `json:"is_buyer"`
	IsSeller    bool   `json:"is_seller"`
}

// register creates an account; the verification link goes out by e-mail.
func (h *authRoutes) register(c *fiber.Ctx) error {
	var req registerRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := h.accounts.Register(c.UserContext(), market.RegisterInput{
		Email: req.Email, Username: req.Username, DisplayName: req.DisplayName,
		Password: req.Password, IsBuyer: req.IsBuyer, IsSeller: req.IsSeller,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(u)
}

type loginRequest struct {
	Email    string `json:"email" validate:"required,max=254"`
	Password string `json:"password" validate:"required,max=256"`
}

// sessionResponse is what a sign-in returns: the user, the session, and either the
// CSRF token (browsers; the session token is in the cookie) or the bearer token (apps).
type sessionResponse struct {
	User      market.User    `json:"user"`
	Session   market.Session `json:"session"`
	CSRFToken string         `json:"csrf_token,omitempty"`
	Token     string         `json:"token,omitempty"`
}

// login signs a browser in: the session token goes into an HttpOnly cookie.
func (h *authRoutes) login(c *fiber.Ctx) error { return h.signIn(c, market.SessionCookie) }

// createToken signs an app in: the session token comes back as a bearer token.
func (h *authRoutes) createToken(c *fiber.Ctx) error { return h.signIn(c, market.SessionBearer) }

func (h *authRoutes) signIn(c *fiber.Ctx, kind string) error {
	var req loginRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	email := market.NormalizeEmail(req.Email)
	if wait, err := h.limiter.accountLocked(c.UserContext(), email); err != nil {
		return market.Errorf(market.CodeUnavailable, "sign-in is unavailable; try again soon")
	} else if wait > 0 {
		securityEvent(c, h.log, "login_locked")
		return tooManyRequests(c, wait)
	}
	in, err := h.accounts.Login(c.UserContext(), market.LoginInput{
		Email: email, Password: req.Password, Kind: kind, UserAgent: c.Get(fiber.HeaderUserAgent), IP: clientIP(c),
	})
	if market.ErrorCode(err) == market.CodeUnauthorized {
		h.limiter.loginFailed(c.UserContext(), email)
		securityEvent(c, h.log, "login_failed")
	}
	if err != nil {
		return err
	}
	return respondSignedIn(c, in)
}

func respondSignedIn(c *fiber.Ctx, in market.SignedIn) error {
	resp := sessionResponse{User: in.User, Session: in.Session}
	if in.Session.Kind == market.SessionBearer {
		resp.Token = in.Token
	} else {
		setSessionCookie(c, in.Token, in.Session.ExpiresAt)
		resp.CSRFToken = in.Session.CSRFToken
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(resp)
}

// currentSessionInfo returns the caller's user, session and CSRF token, so that a
// reloaded page can learn its CSRF token again.
func (h *authRoutes) currentSessionInfo(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	s, _ := currentSession(c)
	c.Set(fiber.HeaderCacheControl, "no-store")
	resp := sessionResponse{User: u, Session: s}
	if s.Kind == market.SessionCookie {
		resp.CSRFToken = s.CSRFToken
	}
	return c.JSON(resp)
}

// logout ends the caller's session.
func (h *authRoutes) logout(c *fiber.Ctx) error {
	s, _ := currentSession(c)
	if err := h.accounts.Logout(c.UserContext(), s); err != nil {
		return err
	}
	clearSessionCookie(c)
	return c.SendStatus(fiber.StatusNoContent)
}

// logoutAll ends every session of the caller.
func (h *authRoutes) logoutAll(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	n, err := h.accounts.LogoutEverywhere(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	clearSessionCookie(c)
	return c.JSON(fiber.Map{"ended_sessions": n})
}

type tokenRequest struct {
	Token string `json:"token" validate:"required,max=128"`
}

// verifyEmail uses a verification token from the e-mail link.
func (h *authRoutes) verifyEmail(c *fiber.Ctx) error {
	var req tokenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := h.accounts.VerifyEmail(c.UserContext(), req.Token); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// resendVerification mails a new verification link to the caller.
func (h *authRoutes) resendVerification(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if err := h.accounts.ResendVerification(c.UserContext(), u); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusAccepted)
}

type resetRequest struct {
	Email string `json:"email" validate:"required,max=254"`
}

// requestPasswordReset mails a reset link; it answers 202 whether or not the account
// exists, so it reveals nothing.
func (h *authRoutes) requestPasswordReset(c *fiber.Ctx) error {
	var req resetRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	// The work runs after the answer, so the answer's timing cannot tell whether the
	// account exists.
	ctx, email := context.WithoutCancel(c.UserContext()), req.Email
	go func() {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := h.accounts.RequestPasswordReset(ctx, email); err != nil {
			h.log.ErrorContext(ctx, "password reset not sent", "err", err)
		}
	}()
	return c.SendStatus(fiber.StatusAccepted)
}

type resetConfirmRequest struct {
	Token       string `json:"token" validate:"required,max=128"`
	NewPassword string `json:"new_password" validate:"required,max=256"`
}

// confirmPasswordReset sets a new password with a reset token; every session ends.
func (h *authRoutes) confirmPasswordReset(c *fiber.Ctx) error {
	var req resetConfirmRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := h.accounts.ResetPassword(c.UserContext(), req.Token, req.NewPassword); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// confirmEmailChange switches the caller's account to the address the link went to.
func (h *authRoutes) confirmEmailChange(c *fiber.Ctx) error {
	var req tokenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := h.accounts.ConfirmEmailChange(c.UserContext(), req.Token); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
