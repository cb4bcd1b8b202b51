package handlers

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// UploadStreams bounds the upload bodies a node takes in at once and how slowly they
// may arrive. Its zero value means the defaults below.
type UploadStreams struct {
	PerNode int           // concurrent upload bodies on this node; default 64 (503 past it)
	PerUser int           // concurrent upload bodies of one user on this node; default 4 (429 past it)
	MinRate int           // bytes per second a body must average over each Window; default 2 KiB/s
	Window  time.Duration // default 20 s
}

func (s UploadStreams) withDefaults() UploadStreams {
	if s.PerNode <= 0 {
		s.PerNode = 64
	}
	if s.PerUser <= 0 {
		s.PerUser = 4
	}
	if s.MinRate <= 0 {
		s.MinRate = 2 << 10
	}
	if s.Window <= 0 {
		s.Window = 20 * time.Second
	}
	return s
}

// errBodyTooSlow cuts an upload body that arrived slower than the minimum rate.
var errBodyTooSlow = errors.New("upload body too slow")

// uploadSlots counts the upload bodies in flight, on the node and per user, for the
// three upload paths (multipart, raw PUT, tus PATCH). Waiting for a slot would hold a
// connection and a goroutine for nothing, so a request over a cap is refused at once.
type uploadSlots struct {
	cfg   UploadStreams
	mu    sync.Mutex
	total int
	users map[string]int
}

func newUploadSlots(cfg UploadStreams) *uploadSlots {
	return &uploadSlots{cfg: cfg.withDefaults(), users: map[string]int{}}
}

// admit takes a slot for the caller's upload body for the rest of the request: 503
// with Retry-After when the node has PerNode bodies in flight, 429 when the caller
// has PerUser. The connection is closed on refusal: its body is never read.
func (s *uploadSlots) admit(c *fiber.Ctx) error {
	user := viewerID(c)
	if err := s.take(user); err != nil {
		c.Context().SetConnectionClose()
		c.Set(fiber.HeaderRetryAfter, "5")
		return err
	}
	defer s.release(user)
	return c.Next()
}

func (s *uploadSlots) take(user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.total >= s.cfg.PerNode:
		return newProblem(fiber.StatusServiceUnavailable, "This node takes in "+strconv.Itoa(s.cfg.PerNode)+" uploads at once; retry shortly.")
	case s.users[user] >= s.cfg.PerUser:
		return newProblem(fiber.StatusTooManyRequests, "At most "+strconv.Itoa(s.cfg.PerUser)+" uploads of yours at once; wait for one to finish.")
	}
	s.total++
	s.users[user]++
	return nil
}

func (s *uploadSlots) release(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total--
	if s.users[user]--; s.users[user] <= 0 {
		delete(s.users, user)
	}
}

// body returns the request body as a stream that enforces the idle timeout and the
// minimum rate (see rateReader).
func (s *uploadSlots) body(c *fiber.Ctx, idle time.Duration) io.Reader {
	return &rateReader{r: c.Context().RequestBodyStream(), conn: c.Context().Conn(), idle: idle,
		need: int64(float64(s.cfg.MinRate) * s.cfg.Window.Seconds()), window: s.cfg.Window}
}

// rateReader is an upload body with two rules: no pause between bytes longer than
// idle, and at least need bytes in every window (counted from the first read). While
// the current window still lacks bytes, the connection's read deadline is the window's
// end, so a trickling client is cut there, within two windows of slowing down, rather
// than at the idle timeout after each byte it dribbles.
type rateReader struct {
	r      io.Reader
	conn   net.Conn
	idle   time.Duration
	need   int64
	window time.Duration
	end    time.Time // of the current window
	got    int64     // bytes in the current window
}

func (r *rateReader) Read(p []byte) (int, error) {
	now := time.Now()
	if r.end.IsZero() {
		r.end = now.Add(r.window)
	}
	if !now.Before(r.end) {
		if r.got < r.need {
			return 0, r.tooSlow()
		}
		r.end, r.got = now.Add(r.window), 0
	}
	deadline := now.Add(r.idle)
	if r.got < r.need && r.end.Before(deadline) {
		deadline = r.end
	}
	if r.conn != nil {
		_ = r.conn.SetReadDeadline(deadline)
	}
	n, err := r.r.Read(p)
	r.got += int64(n)
	if err != nil && err != io.EOF && !time.Now().Before(r.end) && r.got < r.need {
		return n, r.tooSlow()
	}
	return n, err
}

func (r *rateReader) tooSlow() error {
	return fmt.Errorf("%w: fewer than %d bytes in %s", errBodyTooSlow, r.need, r.window)
}
