package hub

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
)

// ErrHistoryGone is what a History callback returns (wrapped or not) when
// since is older than the retention window: the client is told
// "recovered": false and must reload its state some other way.
var ErrHistoryGone = errors.New("hub: history no longer available")

// ClientInfo identifies the owner of a socket. The handlers package fills it
// in after its own origin and authentication checks.
type ClientInfo struct {
	UserID    string
	SessionID string
}

// Callbacks are the domain's decisions, installed at wiring time. Each nil
// field has the documented default. Callbacks run on the socket's reader
// goroutine (History also on recovery goroutines) and must be safe for
// concurrent use; the ctx they get is cancelled when the socket ends.
type Callbacks struct {
	// Authorize decides a subscribe. Any error refuses it with
	// CodeForbidden and a generic message; the error itself is only logged.
	// Nil refuses every subscribe.
	Authorize func(ctx context.Context, info ClientInfo, channel string) error

	// History returns durable events of channel with seq > since, ascending,
	// at most limit of them. Seqs must be dense per channel (1, 2, 3, ...)
	// and an event must be visible here before it is published. Return
	// ErrHistoryGone when since is outside the retention window. Nil means
	// no recovery: a subscribe with since is answered "recovered": false.
	History func(ctx context.Context, channel string, since uint64, limit int) ([]Event, error)

	// HistoryMany is History for many channels in one call (one database
	// query for the product). The node uses it, when set, for every History
	// read, sending the reads that queued while its RecoveryConcurrency
	// calls were busy together, so a reconnect storm over thousands of
	// channels costs a few queries instead of one per channel. pages[i]
	// answers reads[i] with History's contract, ErrHistoryGone included; a
	// returned error fails every read of the call. Nil: History per read.
	HistoryMany func(ctx context.Context, reads []HistoryRead, limit int) (pages []HistoryPage, err error)

	// ClientEvent handles a client "publish" (typing, ...). Returning nil
	// answers ok; an *Error chooses the code; other errors answer
	// CodeForbidden. The callback decides whether to Publish anything.
	// data aliases the frame and is valid only during the call.
	// Nil refuses every client event.
	ClientEvent func(ctx context.Context, info ClientInfo, channel, eventType string, data []byte) error

	// Ack records that the client has seen channel up to seq (read
	// receipts). Errors are answered like ClientEvent's. Nil accepts and
	// ignores acks.
	Ack func(ctx context.Context, info ClientInfo, channel string, seq uint64) error

	// OnConnect runs after a socket is registered. Nil does nothing.
	OnConnect func(ctx context.Context, info ClientInfo)

	// OnDisconnect runs after a socket is gone, with the close code the
	// server sent or observed. Nil does nothing.
	OnDisconnect func(ctx context.Context, info ClientInfo, code int, reason string)
}

// Config configures a Node. The zero value of each field means the
// documented default.
type Config struct {
	// Broker carries events between nodes. Nil: a new MemoryBroker
	// (single node).
	Broker Broker
	// Presence tracks who is online. Nil: a new MemoryPresence.
	Presence Presence
	// Revocations remembers revoked sessions and users for nodes that
	// (re)join. Nil: a new MemoryRevocations (single node).
	Revocations RevocationStore
	// TokenSecret signs and verifies connection tokens (IssueToken,
	// VerifyToken); every node of a cluster needs the same one. Empty:
	// tokens are off.
	TokenSecret []byte
	// TokenTTL is how long a connection token is valid. Zero: 10 minutes.
	TokenTTL time.Duration
	// Callbacks are the domain's decisions.
	Callbacks Callbacks
	// Logger receives the hub's logs. Nil: slog.Default().
	Logger *slog.Logger
	// Tracer records the publish, fan-out and socket writes of events that
	// carry a trace (Event.Trace). Nil: no spans, envelopes stay v1 for
	// events published here.
	Tracer trace.TracerProvider
	// Registerer receives the hub's metrics. Nil: metrics are kept but not
	// registered.
	Registerer prometheus.Registerer
	// NodeID names this node in logs and hello frames. Empty: random.
	NodeID string

	// MaxFrameBytes is the largest client frame; bigger closes with 1009.
	// Zero: 64 KiB.
	MaxFrameBytes int64
	// SendQueueBytes caps the bytes queued for one socket; past it the
	// socket is closed with CloseSlowConsumer. Zero: 1 MiB.
	SendQueueBytes int
	// FrameRate is the sustained client frames per second allowed;
	// FrameBurst the bucket size. Past it the socket is closed with 1008.
	// Zero: 20/s and 50.
	FrameRate  float64
	FrameBurst int
	// PingInterval is how often the server pings; a socket silent for
	// PingInterval+PongTimeout is dead. Zero: 25 s and 10 s.
	PingInterval time.Duration
	PongTimeout  time.Duration
	// WriteTimeout bounds one socket write. Zero: 10 s.
	WriteTimeout time.Duration
	// CloseTimeout is how long a closing socket waits for the peer's close
	// frame (and a slow consumer's last write) before the TCP connection is
	// cut. Zero: 3 s.
	CloseTimeout time.Duration
	// MaxSubscriptions caps channels per socket. Zero: 256.
	MaxSubscriptions int
	// AuthorizeCacheTTL is how long a socket remembers that Authorize allowed
	// a channel, so subscribing to it again does not ask. Zero: 1 minute.
	AuthorizeCacheTTL time.Duration
	// AuthorizeRate and AuthorizeBurst budget one socket's calls of Authorize
	// (each a database query for the product): a token bucket of
	// AuthorizeBurst refilled at AuthorizeRate per second. A subscribe past it
	// is refused with CodeRateLimited. Zero: 2/s and 64.
	AuthorizeRate  float64
	AuthorizeBurst int

	// HistoryPageSize is the limit passed to History. Zero: 500.
	HistoryPageSize int
	// HistoryTimeout bounds one History call. Zero: 5 s.
	HistoryTimeout time.Duration
	// RecoveryAttempts is how often a catch-up retries History before the
	// subscription is dropped with CodeRecoveryFailed. Zero: 5.
	RecoveryAttempts int
	// RecoveryConcurrency caps History calls in flight on this node.
	// Zero: 16.
	RecoveryConcurrency int
	// GapWait is how long an out-of-order durable event waits for the
	// missing ones to arrive live before History is asked. Zero: 50 ms;
	// negative: ask at once.
	GapWait time.Duration
	// MaxPendingEvents caps the durable events held for one subscription
	// while it catches up; past it the subscription is dropped with
	// CodeRecoveryFailed. Zero: 10,000.
	MaxPendingEvents int

	// PresenceRefresh is how often local sockets are re-announced to
	// Presence. Zero: a third of DefaultPresenceTTL.
	PresenceRefresh time.Duration
	// CallbackTimeout bounds Authorize, ClientEvent and Ack. Zero: 5 s.
	CallbackTimeout time.Duration
}

func (c Config) withDefaults() Config {
	c.Logger = cmp.Or(c.Logger, slog.Default())
	if c.NodeID == "" {
		c.NodeID = randomID()
	}
	c.MaxFrameBytes = cmp.Or(c.MaxFrameBytes, 64<<10)
	c.SendQueueBytes = cmp.Or(c.SendQueueBytes, 1<<20)
	c.FrameRate = cmp.Or(c.FrameRate, 20)
	c.FrameBurst = cmp.Or(c.FrameBurst, 50)
	c.PingInterval = cmp.Or(c.PingInterval, 25*time.Second)
	c.PongTimeout = cmp.Or(c.PongTimeout, 10*time.Second)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, 10*time.Second)
	c.CloseTimeout = cmp.Or(c.CloseTimeout, 3*time.Second)
	c.MaxSubscriptions = cmp.Or(c.MaxSubscriptions, 256)
	c.AuthorizeCacheTTL = cmp.Or(c.AuthorizeCacheTTL, time.Minute)
	c.AuthorizeRate = cmp.Or(c.AuthorizeRate, 2)
	c.AuthorizeBurst = cmp.Or(c.AuthorizeBurst, 64)
	c.HistoryPageSize = cmp.Or(c.HistoryPageSize, 500)
	c.HistoryTimeout = cmp.Or(c.HistoryTimeout, 5*time.Second)
	c.RecoveryAttempts = cmp.Or(c.RecoveryAttempts, 5)
	c.RecoveryConcurrency = cmp.Or(c.RecoveryConcurrency, 16)
	c.GapWait = cmp.Or(c.GapWait, 50*time.Millisecond)
	c.MaxPendingEvents = cmp.Or(c.MaxPendingEvents, 10000)
	c.PresenceRefresh = cmp.Or(c.PresenceRefresh, DefaultPresenceTTL/3)
	c.CallbackTimeout = cmp.Or(c.CallbackTimeout, 5*time.Second)
	c.TokenTTL = cmp.Or(c.TokenTTL, 10*time.Minute)
	if c.Revocations == nil {
		c.Revocations = NewMemoryRevocations()
	}
	return c
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
