package handlers

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/gigstream/hub/market"
)

// OIDCConfig configures "Sign in with Google" (or any OpenID Connect provider). An
// empty ClientID turns the feature off.
type OIDCConfig struct {
	Issuer       string // default https://accounts.google.com
	ClientID     string
	ClientSecret string
	RedirectURL  string // our callback, e.g. https://gigstream.example/auth/google/callback
	Provider     string // name stored with linked identities; default "google"
}

func (c OIDCConfig) withDefaults() OIDCConfig {
	if c.Issuer == "" {
		c.Issuer = "https://accounts.google.com"
	}
	if c.Provider == "" {
		c.Provider = "google"
	}
	return c
}

const (
	oidcCookie   = "__Host-gs_oidc"
	oidcStateTTL = 10 * time.Minute
)

// oidcSignIn runs the authorization-code flow with PKCE (S256), state and nonce. The
// flow's secrets live in Redis under the state, and the state is also bound to the
// browser by a cookie, so a callback cannot be replayed or started by another site.
type oidcSignIn struct {
	cfg      OIDCConfig
	accounts *market.Accounts
	rdb      redis.UniversalClient
	log      *slog.Logger

	mu       sync.Mutex
	provider *oidc.Provider // discovered on first use, so start-up never waits on the provider
}

// pendingLogin is what start remembers for callback.
type pendingLogin struct {
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	ReturnTo string `json:"return_to"`
}

func (o *oidcSignIn) discover(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	p, err := oidc.NewProvider(ctx, o.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc discovery: %w", err)
	}
	o.provider = p
	return p, nil
}

func (o *oidcSignIn) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: o.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
	}
}

// start redirects the browser to the provider.
func (o *oidcSignIn) start(c *fiber.Ctx) error {
	if o.cfg.ClientID == "" {
		return newProblem(fiber.StatusNotFound, "Google sign-in is not configured.")
	}
	p, err := o.discover(c.UserContext())
	if err != nil {
		o.log.ErrorContext(c.UserContext(), "oidc provider unreachable", "err", err)
		return market.Errorf(market.CodeUnavailable, "Google sign-in is unavailable; try again soon")
	}
	state, _, err := market.NewSecret()
	if err != nil {
		return err
	}
	nonce, _, err := market.NewSecret()
	if err != nil {
		return err
	}
	pending := pendingLogin{Nonce: nonce, Verifier: oauth2.GenerateVerifier(), ReturnTo: safeReturnTo(c.Query("return_to"))}
	raw, _ := json.Marshal(pending)
	if err := o.rdb.Set(c.UserContext(), "gs:oidc:"+state, raw, oidcStateTTL).Err(); err != nil {
		return fmt.Errorf("store oidc state: %w", err)
	}
	c.Cookie(&fiber.Cookie{Name: oidcCookie, Value: state, Path: "/", MaxAge: int(oidcStateTTL.Seconds()),
		Secure: true, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode})
	url := o.oauth(p).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(pending.Verifier))
	return c.Redirect(url, fiber.StatusFound)
}

// callback finishes the flow: it checks state, exchanges the code with the PKCE
// verifier, verifies the ID token and its nonce, signs the user in with a cookie
// session and sends the browser back where it started.
func (o *oidcSignIn) callback(c *fiber.Ctx) error {
	if o.cfg.ClientID == "" {
		return newProblem(fiber.StatusNotFound, "Google sign-in is not configured.")
	}
	pending, err := o.takeState(c)
	if err != nil {
		securityEvent(c, o.log, "oidc_bad_state")
		return err
	}
	id, err := o.identity(c, pending)
	if err != nil {
		securityEvent(c, o.log, "oidc_rejected", slog.String("reason", err.Error()))
		return market.Errorf(market.CodeUnauthorized, "Google sign-in failed; start again")
	}
	in, err := o.accounts.SignInWithIdentity(c.UserContext(), id, market.SessionCookie, c.Get(fiber.HeaderUserAgent), clientIP(c))
	if err != nil {
		return err
	}
	setSessionCookie(c, in.Token, in.Session.ExpiresAt)
	return c.Redirect(pending.ReturnTo, fiber.StatusFound)
}

// takeState checks the state against the browser's cookie and uses it up.
func (o *oidcSignIn) takeState(c *fiber.Ctx) (pendingLogin, error) {
	var p pendingLogin
	state, cookie := c.Query("state"), c.Cookies(oidcCookie)
	c.Cookie(&fiber.Cookie{Name: oidcCookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(0, 0), Secure: true, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode})
	if state == "" || len(state) > 128 || subtle.ConstantTimeCompare([]byte(state), []byte(cookie)) != 1 {
		return p, badRequest("state", "does not match this browser's sign-in; start again")
	}
	raw, err := o.rdb.GetDel(c.UserContext(), "gs:oidc:"+state).Bytes()
	if errors.Is(err, redis.Nil) {
		return p, badRequest("state", "is unknown or expired; start again")
	}
	if err != nil {
		return p, fmt.Errorf("load oidc state: %w", err)
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, fmt.Errorf("decode oidc state: %w", err)
	}
	return p, nil
}

func (o *oidcSignIn) identity(c *fiber.Ctx, pending pendingLogin) (market.Identity, error) {
	ctx := c.UserContext()
	if e := c.Query("error"); e != "" {
		return market.Identity{}, fmt.Errorf("provider said %.80s", e)
	}
	p, err := o.discover(ctx)
	if err != nil {
		return market.Identity{}, err
	}
	tok, err := o.oauth(p).Exchange(ctx, c.Query("code"), oauth2.VerifierOption(pending.Verifier))
	if err != nil {
		return market.Identity{}, fmt.Errorf("code exchange: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return market.Identity{}, errors.New("no id_token in the token response")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return market.Identity{}, fmt.Errorf("id token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(pending.Nonce)) != 1 {
		return market.Identity{}, errors.New("id token nonce does not match")
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		Name          string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		return market.Identity{}, fmt.Errorf("id token claims: %w", err)
	}
	return market.Identity{Provider: o.cfg.Provider, Subject: idt.Subject, Email: claims.Email, EmailVerified: claims.EmailVerified, Name: claims.Name}, nil
}

// safeReturnTo returns p when it is a plain same-site path and "/" otherwise, so the
// sign-in flow can never become an open redirect. Browsers forgive a great deal before
// they resolve a Location ("/\t/evil.example" loses its tab and becomes
// "//evil.example", a host; "/\evil.example" is read as "//evil.example"), so the
// rule is strict rather than clever: one leading slash (never two), no
// backslash, no control, space or otherwise invisible character anywhere; the parse by
// net/url must find no scheme, host or user; and what is returned is the parsed path
// serialized again, never the caller's string.
func safeReturnTo(p string) string {
	if len(p) == 0 || len(p) > maxReturnTo || p[0] != '/' || strings.HasPrefix(p, "//") {
		return "/"
	}
	for _, r := range p {
		if r == '\\' || r == utf8.RuneError || !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return "/"
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	out := u.RequestURI()
	if u.Fragment != "" {
		out += "#" + u.EscapedFragment()
	}
	if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || strings.ContainsRune(out, '\\') {
		return "/"
	}
	return out
}

// maxReturnTo bounds the return path kept in the sign-in cookie.
const maxReturnTo = 1024
