package handlers

import (
	"cmp"
	"crypto/subtle"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

const (
	// sessionCookie holds a browser's session token. The __Host- prefix makes browsers
	// insist on Secure, Path=/ and no Domain, so no subdomain can set or read it.
	sessionCookie = "__Host-gs_session"
	// deviceCookie holds a browser's known-device secret (market/account_device.go):
	// long-lived, it outlives sessions so the browser stays known after a sign-out.
	deviceCookie = "__Host-gs_device"
	// deviceHeader carries an app's known-device secret on sign-in.
	deviceHeader = "X-Device-Key"
	// csrfHeader carries the session's CSRF token on cookie-authenticated writes.
	csrfHeader = "X-CSRF-Token"

	localUser      = "user"
	localSession   = "session"
	localViaCookie = "via_cookie"
)

// sessions resolves who is calling and guards cookie sessions against CSRF.
type sessions struct {
	accounts *market.Accounts
	log      *slog.Logger
	origins  map[string]bool
}

// authenticate reads a bearer token or the session cookie, and when it names a live
// session, puts the user and session in the request's locals. A missing or dead token
// leaves the request anonymous; routes that need a user say so with requireUser.
func (s *sessions) authenticate(c *fiber.Ctx) error {
	token, viaCookie := bearerToken(c), false
	if token == "" {
		token, viaCookie = c.Cookies(sessionCookie), true
	}
	if token == "" {
		return c.Next()
	}
	u, sess, err := s.accounts.Authenticate(c.UserContext(), token)
	if market.ErrorCode(err) == market.CodeUnauthorized {
		if viaCookie {
			clearSessionCookie(c)
		}
		return c.Next()
	}
	if err != nil {
		return err
	}
	c.Locals(localUser, u)
	c.Locals(localSession, sess)
	c.Locals(localViaCookie, viaCookie)
	return c.Next()
}

func bearerToken(c *fiber.Ctx) string {
	h := c.Get(fiber.HeaderAuthorization)
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// csrf refuses state-changing requests that a foreign page could have made: a write
// authenticated by cookie must carry the session's CSRF token, and any write whose
// Origin is neither this site nor an allowed origin is refused. Bearer requests are
// exempt: a browser never adds that header on its own.
func (s *sessions) csrf(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if origin := c.Get(fiber.HeaderOrigin); origin != "" && !s.originAllowed(c, origin) {
		securityEvent(c, s.log, "csrf_foreign_origin", slog.String("origin", truncated(origin, 100)))
		return newProblem(fiber.StatusForbidden, "Cross-site request refused.")
	}
	if via, _ := c.Locals(localViaCookie).(bool); via {
		sess, _ := currentSession(c)
		got := c.Get(csrfHeader)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) != 1 {
			securityEvent(c, s.log, "csrf_token_missing_or_wrong")
			return newProblem(fiber.StatusForbidden, "A valid "+csrfHeader+" header is required.")
		}
	}
	return c.Next()
}

func (s *sessions) originAllowed(c *fiber.Ctx, origin string) bool {
	if s.origins[origin] {
		return true
	}
	scheme := "http"
	if isHTTPS(c) {
		scheme = "https"
	}
	return origin == scheme+"://"+string(c.Request().Host())
}

// requireUser answers 401 unless the request is signed in.
func requireUser(c *fiber.Ctx) error {
	if _, ok := currentUser(c); !ok {
		return newProblem(fiber.StatusUnauthorized, "Sign in first.")
	}
	return c.Next()
}

func currentUser(c *fiber.Ctx) (market.User, bool) {
	u, ok := c.Locals(localUser).(market.User)
	return u, ok
}

func currentSession(c *fiber.Ctx) (market.Session, bool) {
	s, ok := c.Locals(localSession).(market.Session)
	return s, ok
}

// setSessionCookie hands a browser its session token: HttpOnly (no script reads it),
// Secure, SameSite=Lax, for the session's absolute lifetime.
func setSessionCookie(c *fiber.Ctx, token string, expires time.Time) {
	c.Cookie(&fiber.Cookie{
		Name: sessionCookie, Value: token, Path: "/", Expires: expires,
		Secure: true, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// setDeviceCookie keeps the browser's known-device secret for market.DeviceMemory.
func setDeviceCookie(c *fiber.Ctx, secret string) {
	c.Cookie(&fiber.Cookie{
		Name: deviceCookie, Value: secret, Path: "/", MaxAge: int(market.DeviceMemory.Seconds()),
		Secure: true, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// deviceKey is the known-device secret the client presents: an app's header, else
// the browser's cookie.
func deviceKey(c *fiber.Ctx) string {
	return cmp.Or(c.Get(deviceHeader), c.Cookies(deviceCookie))
}

func clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name: sessionCookie, Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		Secure: true, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

func truncated(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
