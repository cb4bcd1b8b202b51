package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
)

// controlMessage is what nodes tell each other on the broker's control
// channel.
type controlMessage struct {
	Op     string `json:"op"`
	UserID string `json:"user"`
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

const controlDisconnectUser = "disconnect_user"

// DisconnectUser closes every socket of userID on every node with code
// (CloseSessionEnded when code is outside 4000–4999) and reason: call it on
// logout or when an account is disabled. It returns the broker's error.
func (n *Node) DisconnectUser(ctx context.Context, userID string, code int, reason string) error {
	if code < 4000 || code > 4999 {
		code = CloseSessionEnded
	}
	b, err := json.Marshal(controlMessage{Op: controlDisconnectUser, UserID: userID, Code: code, Reason: reason})
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
		c.close(m.Code, m.Reason, true)
	}
}
