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
	throttle *loginThrottle
	log      *slog.Logger
	// conversions hears of each sign-up (analytics)
	conversions Conversions
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
	h.conversions.SignedUp(u.ID)
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
	// DeviceKey (apps only) marks the app as a known device of the account: sent
	// back as X-Device-Key on later sign-ins, it keeps other people's failed guesses
	// from slowing this app down.
	DeviceKey string `json:"device_key,omitempty"`
}

// login signs a browser in: the session token goes into an HttpOnly cookie.
func (h *authRoutes) login(c *fiber.Ctx) error { return h.signIn(c, market.SessionCookie) }

// createToken signs an app in: the session token comes back as a bearer token.
func (h *authRoutes) createToken(c *fiber.Ctx) error { return h.signIn(c, market.SessionBearer) }

// signIn checks a password under the sign-in throttle (ratelimit_login.go): a device
// that signed in to this account before is judged by its own failures only, anyone
// else by their address's and by all unknown clients' failures on the account. A
// success makes the device known to the account.
func (h *authRoutes) signIn(c *fiber.Ctx, kind string) error {
	var req loginRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx, email, presented := c.UserContext(), market.NormalizeEmail(req.Email), deviceKey(c)
	known, err := h.accounts.KnownDevice(ctx, email, presented)
	if err != nil {
		return err
	}
	attempt := newLoginAttempt(email, knownOrNone(known, presented), clientKey(c))
	if wait, err := h.throttle.wait(ctx, attempt); err != nil {
		h.log.ErrorContext(ctx, "sign-in refused: throttle unavailable", "err", err)
		c.Set(fiber.HeaderRetryAfter, "5")
		return market.Errorf(market.CodeUnavailable, "sign-in is unavailable; try again soon")
	} else if wait > 0 {
		securityEvent(c, h.log, "login_throttled", slog.Bool("known_device", known))
		return tooManyRequests(c, wait)
	}
	in, err := h.accounts.Login(ctx, market.LoginInput{
		Email: email, Password: req.Password, Kind: kind, UserAgent: c.Get(fiber.HeaderUserAgent), IP: clientIP(c),
	})
	if market.ErrorCode(err) == market.CodeUnauthorized {
		h.throttle.failed(ctx, attempt)
		securityEvent(c, h.log, "login_failed", slog.Bool("known_device", known))
	}
	if err != nil {
		return err
	}
	h.throttle.succeeded(ctx, attempt)
	device, err := h.accounts.RememberDevice(ctx, in.User.ID, presented)
	if err != nil {
		// The sign-in stands; the device is simply not known next time.
		h.log.ErrorContext(ctx, "device not remembered", "err", err)
	}
	return respondSignedIn(c, in, device)
}

func knownOrNone(known bool, device string) string {
	if known {
		return device
	}
	return ""
}

// respondSignedIn answers a sign-in. device, when set, is the secret that makes this
// browser or app a known device of the account: a cookie for browsers, the
// device_key field for apps.
func respondSignedIn(c *fiber.Ctx, in market.SignedIn, device string) error {
	resp := sessionResponse{User: in.User, Session: in.Session}
	if in.Session.Kind == market.SessionBearer {
		resp.Token, resp.DeviceKey = in.Token, device
	} else {
		setSessionCookie(c, in.Token, in.Session.ExpiresAt)
		resp.CSRFToken = in.Session.CSRFToken
		if device != "" {
			setDeviceCookie(c, device)
		}
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
