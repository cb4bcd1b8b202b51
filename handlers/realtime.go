package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"

	"github.com/gigstream/hub/market"
)

// SocketServer runs one authenticated WebSocket until it ends (the hub's ServeConn).
type SocketServer func(ctx context.Context, conn *fws.Conn, userID, sessionID string) error

const (
	ticketTTL       = 60 * time.Second
	localWSUser     = "ws_user_id"
	localWSSession  = "ws_session_id"
	ticketKeyPrefix = "gs:wsticket:"
	wsBufferSize    = 256
)

// sockets guards the WebSocket endpoint: Origin against the allow-list and
// authentication (cookie, bearer or a single-use ticket) both happen before the
// upgrade, so a refusal is a plain 403 or 401.
type sockets struct {
	serve   SocketServer
	rdb     redis.UniversalClient
	origins map[string]bool
	log     *slog.Logger
	faults  FaultReporter
	ctx     context.Context // ends when the node shuts down
	pool    fws.BufferPool

	tokens         SocketTokens   // nil: connection tokens are off
	upgrades       *addressBudget // token upgrades per address, this node
	caps           *socketCaps    // open sockets per user and per address, this node
	upgradeHandler fiber.Handler  // s.upgrade(), built once
}

// issueTicket gives a signed-in caller a single-use ticket, valid for 60 s, for
// clients that cannot send a cookie or header with the upgrade.
func (s *sockets) issueTicket(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	sess, _ := currentSession(c)
	ticket, _, err := market.NewSecret()
	if err != nil {
		return err
	}
	if err := s.rdb.Set(c.UserContext(), ticketKeyPrefix+ticket, u.ID+"|"+sess.ID, ticketTTL).Err(); err != nil {
		return fmt.Errorf("store ticket: %w", err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"ticket": ticket, "expires_in": int(ticketTTL.Seconds())})
}

// admit checks Origin and the caller before the upgrade.
func (s *sockets) admit(c *fiber.Ctx) error {
	if !websocket.IsWebSocketUpgrade(c) {
		return newProblem(fiber.StatusUpgradeRequired, "This endpoint speaks WebSocket only.")
	}
	if origin := c.Get(fiber.HeaderOrigin); origin != "" && !s.originAllowed(c, origin) {
		securityEvent(c, s.log, "ws_foreign_origin", slog.String("origin", truncated(origin, 100)))
		return newProblem(fiber.StatusForbidden, "This origin may not open a socket.")
	}
	userID, sessionID, err := s.identify(c)
	if err != nil {
		return err
	}
	c.Locals(localWSUser, userID)
	c.Locals(localWSSession, sessionID)
	return c.Next()
}

func (s *sockets) originAllowed(c *fiber.Ctx, origin string) bool {
	scheme := "http"
	if isHTTPS(c) {
		scheme = "https"
	}
	return s.origins[origin] || origin == scheme+"://"+string(c.Request().Host())
}

// identify finds the caller from the session (cookie or bearer, already resolved) or
// from a ticket in the query, which is used up at once.
func (s *sockets) identify(c *fiber.Ctx) (userID, sessionID string, err error) {
	if u, ok := currentUser(c); ok {
		sess, _ := currentSession(c)
		return u.ID, sess.ID, nil
	}
	ticket := c.Query("ticket")
	if ticket == "" || len(ticket) > 128 {
		return "", "", newProblem(fiber.StatusUnauthorized, "Sign in, or pass a ticket from POST /ws/ticket.")
	}
	val, err := s.rdb.GetDel(c.UserContext(), ticketKeyPrefix+ticket).Result()
	if errors.Is(err, redis.Nil) {
		securityEvent(c, s.log, "ws_bad_ticket")
		return "", "", newProblem(fiber.StatusUnauthorized, "The ticket is unknown, used or expired.")
	}
	if err != nil {
		return "", "", fmt.Errorf("read ticket: %w", err)
	}
	var ok bool
	userID, sessionID, ok = cutPair(val)
	if !ok {
		return "", "", fmt.Errorf("malformed ticket value")
	}
	return userID, sessionID, nil
}

func cutPair(v string) (string, string, bool) {
	for i := 0; i < len(v); i++ {
		if v[i] == '|' {
			return v[:i], v[i+1:], true
		}
	}
	return "", "", false
}

// upgrade hands the socket to the hub. It drives fasthttp/websocket's upgrader itself
// rather than contrib's websocket.New, whose Conn copies every header, cookie, query
// argument and Local into maps it keeps for the socket's whole life. Buffers are small
// and the write buffer pooled: an idle socket holds 256 bytes of read buffer and no
// write buffer.
func (s *sockets) upgrade() fiber.Handler {
	up := fws.FastHTTPUpgrader{
		Subprotocols:    []string{"gigstream.v1"},
		ReadBufferSize:  wsBufferSize,
		WriteBufferSize: wsBufferSize,
		WriteBufferPool: s.pool,
		// admit has checked Origin (403 for a foreign one) before we get here.
		CheckOrigin: func(*fasthttp.RequestCtx) bool { return true },
	}
	return func(c *fiber.Ctx) error {
		userID, _ := c.Locals(localWSUser).(string)
		sessionID, _ := c.Locals(localWSSession).(string)
		userID, sessionID, addr := strings.Clone(userID), strings.Clone(sessionID), strings.Clone(clientKey(c))
		if s.caps.full(userID, addr) {
			securityEvent(c, s.log, "ws_too_many_sockets")
			c.Set(fiber.HeaderRetryAfter, "10")
			return newProblem(fiber.StatusTooManyRequests, "Too many open sockets for this account or address on this node; close one, or retry later.")
		}
		fctx := c.Context()
		err := up.Upgrade(fctx, func(conn *fws.Conn) {
			if !s.caps.acquire(userID, addr) { // others passed the check above at the same time
				msg := fws.FormatCloseMessage(closeTooManySockets, "too many sockets")
				_ = conn.WriteControl(fws.CloseMessage, msg, time.Now().Add(time.Second))
				_ = conn.Close()
				return
			}
			defer s.caps.release(userID, addr)
			// fasthttp keeps the request's context until the socket ends: drop what the
			// request chain left in it (the signed-in user, the session, ...), and the
			// parsed request and the sent 101 with their buffers (2–3 KB a socket).
			// Nothing reads them any more: fasthttp hands the context back to its pool
			// only when this handler returns, resetting it then.
			fctx.ResetUserValues()
			fctx.Request = fasthttp.Request{}
			fctx.Response = fasthttp.Response{}
			defer func() {
				if r := recover(); r != nil {
					pcs := make([]uintptr, 64)
					pcs = pcs[:runtime.Callers(1, pcs)]
					s.log.Error("socket handler panicked", slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
					s.faults.ReportFault(s.ctx, Fault{Err: fmt.Errorf("socket panic: %v", r), Panic: true, Stack: pcs, Source: "socket", UserID: userID})
				}
			}()
			if err := s.serve(s.ctx, conn, userID, sessionID); err != nil {
				s.log.Debug("socket ended", "err", err)
			}
		})
		if err != nil { // the upgrader refused the handshake
			return fiber.ErrUpgradeRequired
		}
		return nil
	}
}
