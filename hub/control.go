package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
)

// controlMessage is what nodes tell each other on the broker's control
// channel.
type controlMessage struct {
	Op       string   `json:"op"`
	UserID   string   `json:"user"`
	Sessions []string `json:"sessions,omitempty"` // empty: every socket of the user
	Code     int      `json:"code"`
	Reason   string   `json:"reason"`
}

const controlDisconnectUser = "disconnect_user"

// DisconnectUser closes every socket of userID on every node with code
// (CloseSessionEnded when code is outside 4000–4999) and reason: call it on
// logout or when an account is disabled. It returns the broker's error.
func (n *Node) DisconnectUser(ctx context.Context, userID string, code int, reason string) error {
	return n.disconnect(ctx, controlMessage{Op: controlDisconnectUser, UserID: userID, Code: code, Reason: reason})
}

// DisconnectSessions closes, on every node, the sockets of userID that were opened
// by one of sessionIDs (ClientInfo.SessionID): call it when those sessions end while
// the user's other devices stay signed in. An empty list closes nothing. Code and the
// error are as for DisconnectUser.
func (n *Node) DisconnectSessions(ctx context.Context, userID string, sessionIDs []string, code int, reason string) error {
	if len(sessionIDs) == 0 {
		return nil
	}
	return n.disconnect(ctx, controlMessage{Op: controlDisconnectUser, UserID: userID, Sessions: sessionIDs, Code: code, Reason: reason})
}

func (n *Node) disconnect(ctx context.Context, m controlMessage) error {
	if m.Code < 4000 || m.Code > 4999 {
		m.Code = CloseSessionEnded
	}
	userID := m.UserID
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("hub: encode control message: %w", err)
	}
	if err := n.broker.PublishControl(ctx, b); err != nil {
		return fmt.Errorf("hub: disconnect user %q: %w", userID, err)
	}
	return nil
}

func (n *Node) handleControl(payload []byte) {
	var m controlMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		n.log.Warn("hub: bad control message", slog.Any("err", err))
		return
	}
	if m.Op != controlDisconnectUser {
		return // a newer node's message
	}
	for _, c := range n.users.user(m.UserID) {
		if len(m.Sessions) == 0 || slices.Contains(m.Sessions, c.info.SessionID) {
			c.close(m.Code, m.Reason, true)
		}
	}
}
