package hub

import (
	"context"
	"time"
)

// Presence tracks which users hold a socket on some node. Entries expire
// unless refreshed, so the users of a node that died fall offline on their
// own within the TTL.
type Presence interface {
	// Connect records socket connID of userID.
	Connect(ctx context.Context, userID, connID string) error
	// Disconnect removes a socket and starts the user's grace window.
	Disconnect(ctx context.Context, userID, connID string) error
	// Refresh extends the TTL of this node's sockets.
	Refresh(ctx context.Context, conns []PresenceConn) error
	// IsOnline reports whether the user has a live socket anywhere, or
	// closed the last one less than the grace window ago (a reconnecting
	// user still counts as online and is not pushed).
	IsOnline(ctx context.Context, userID string) (bool, error)
}

// PresenceLister is implemented by a Presence that can list everyone online at once
// (the catalogue's "online now" filter). An entry may outlive its user's last socket
// by up to the TTL.
type PresenceLister interface {
	OnlineUsers(ctx context.Context) ([]string, error)
}

// PresenceConn names one socket for Refresh.
type PresenceConn struct {
	UserID string
	ConnID string
}

// Defaults for presence implementations.
const (
	DefaultPresenceTTL   = 30 * time.Second
	DefaultPresenceGrace = 10 * time.Second
)
