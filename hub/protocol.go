package hub

// The wire protocol (version 1) is described in docs/protocol.md; the constants in
// this file are its source of truth.

// ProtocolVersion is the version of the wire protocol this package speaks.
const ProtocolVersion = 1

// Subprotocol is the WebSocket subprotocol name a client may request to pin
// the protocol version.
const Subprotocol = "gigstream.v1"

// Operations of client frames.
const (
	OpSubscribe   = "subscribe"
	OpUnsubscribe = "unsubscribe"
	OpPublish     = "publish"
	OpAck         = "ack"
	OpPing        = "ping"
)

// Operations of server frames.
const (
	OpHello = "hello"
	OpEvent = "event"
	OpReply = "reply"
	OpError = "error"
)

// Error codes carried by error frames. A client must treat an unknown code
// like CodeInternal.
const (
	CodeBadFrame          = "bad_frame"          // not a JSON object, a field of the wrong type, a missing field
	CodeUnknownOp         = "unknown_op"         // op is not one of the v1 operations
	CodeBadChannel        = "bad_channel"        // channel name outside the allowed syntax
	CodeForbidden         = "forbidden"          // refused; says nothing about whether the channel exists
	CodeAlreadySubscribed = "already_subscribed" // subscribe to a channel this socket already has
	CodeNotSubscribed     = "not_subscribed"     // unsubscribe from a channel this socket does not have
	CodeTooManyChannels   = "too_many_channels"  // per-socket subscription cap reached
	CodeUnavailable       = "unavailable"        // broker or history temporarily down; retry with backoff
	CodeRateLimited       = "rate_limited"       // the socket's budget of subscribe authorizations is spent; retry with backoff
	CodeRecoveryFailed    = "recovery_failed"    // the server dropped the subscription; subscribe again with since
	CodeInternal          = "internal"           // anything else
)

// WebSocket close codes the server uses. Codes below 4000 are the standard
// RFC 6455 ones; 4000–4099 are GigStream's private codes.
const (
	CloseNormal        = 1000 // orderly close by either side
	CloseGoingAway     = 1001 // node shutting down: reconnect (to any node) and recover with since
	CloseUnsupported   = 1003 // binary frame received
	CloseAbnormal      = 1006 // never sent: recorded when the connection broke without a close frame
	ClosePolicy        = 1008 // frame-rate budget exceeded
	CloseTooBig        = 1009 // frame larger than the advertised max_frame
	CloseInternal      = 1011 // server error
	CloseSlowConsumer  = 4000 // the socket could not keep up; reconnect with backoff and recover with since
	CloseSessionEnded  = 4001 // logout or account disabled; do not reconnect without signing in again
	CloseHeartbeatMiss = 4002 // no pong within the deadline (rarely seen: the peer is usually gone)
	// CloseTooManySockets: the user or address has the most sockets a node allows. The
	// handlers package counts sockets and sends it (usually it answers 429 before the upgrade).
	CloseTooManySockets = 4003
)

// Event is one payload on a channel. Seq is zero for ephemeral events (never
// stored, no ordering promise) and the per-channel sequence number for
// durable ones. Type is a short name chosen by the domain ("message.created",
// "typing") and Data is a JSON value the hub does not look into.
type Event struct {
	Seq  uint64
	Type string
	Data []byte
	// Trace is the W3C traceparent of the request that caused the event; when
	// set, its publish, fan-out and socket writes are spans of that trace (see
	// tracing.go). It travels between nodes in the broker envelope and is never
	// written to clients.
	Trace string

	frame []byte // the encoded event frame, when a broker kept it ready
}

// ClientFrame is one decoded client frame. Fields that an operation does not
// use are zero. Data aliases the buffer it was decoded from.
type ClientFrame struct {
	Op       string
	ID       uint64
	Channel  string
	Since    uint64
	HasSince bool
	Seq      uint64
	Type     string
	Data     []byte
}

// Error is a protocol-level failure: Code is one of the Code* constants and
// Message a human-readable hint. Callbacks may return an *Error to choose
// the code and message sent to the client.
type Error struct {
	Code    string
	Message string
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

func newError(code, message string) *Error { return &Error{Code: code, Message: message} }
