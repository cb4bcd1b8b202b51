package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// controlMessage is what nodes tell each other on the broker's control
// channel.
type controlMessage struct {
	Op       string   `json:"op"`
	UserID   string   `json:"user"`
	Sessions []string `json:"sessions,omitempty"` // empty: every socket of the user
	Code     int      `json:"code"`
	Reason   string   `json:"reason"`
	At       int64    `json:"at,omitempty"` // when the credentials were revoked, unix ms
}

const controlDisconnectUser = "disconnect_user"

// DisconnectUser closes every socket of userID on every node with code
// (CloseSessionEnded when code is outside 4000–4999) and reason, and
// revokes every connection token of the user issued until now: call it when
// an account is disabled. It returns the revocation store's or the broker's
// error.
func (n *Node) DisconnectUser(ctx context.Context, userID string, code int, reason string) error {
	return n.disconnect(ctx, controlMessage{Op: controlDisconnectUser, UserID: userID, Code: code, Reason: reason})
}

// DisconnectSessions closes, on every node, the sockets of userID that were opened
// by one of sessionIDs (ClientInfo.SessionID) and revokes those sessions'
// connection tokens: call it when those sessions end (logout, revocation) while
// the user's other devices stay signed in. An empty list closes nothing. Code and
// the error are as for DisconnectUser.
func (n *Node) DisconnectSessions(ctx context.Context, userID string, sessionIDs []string, code int, reason string) error {
	if len(sessionIDs) == 0 {
		return nil
	}
	return n.disconnect(ctx, controlMessage{Op: controlDisconnectUser, UserID: userID, Sessions: sessionIDs, Code: code, Reason: reason})
}

// disconnect records the revocation first, so a node that is reconnecting
// and reads the store after missing the message still learns it, then
// tells every node. The message goes out even when the store failed.
func (n *Node) disconnect(ctx context.Context, m controlMessage) error {
	if m.Code < 4000 || m.Code > 4999 {
		m.Code = CloseSessionEnded
	}
	at := time.Now()
	m.At = at.UnixMilli()
	var errs []error
	if err := n.cfg.Revocations.Revoke(ctx, m.revokedKeys(), at); err != nil {
		errs = append(errs, err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("hub: encode control message: %w", err)
	}
	if err := n.broker.PublishControl(ctx, b); err != nil {
		errs = append(errs, fmt.Errorf("hub: disconnect user %q: %w", m.UserID, err))
	}
	return errors.Join(errs...)
}

// revokedKeys are the revocation keys a disconnect stands for: its
// sessions, or the whole user.
func (m controlMessage) revokedKeys() []string {
	if len(m.Sessions) == 0 {
		return []string{userKey(m.UserID)}
	}
	keys := make([]string, len(m.Sessions))
	for i, s := range m.Sessions {
		keys[i] = sessionKey(s)
	}
	return keys
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
	at := time.Now()
	if m.At > 0 {
		at = time.UnixMilli(m.At)
	}
	n.revoked.add(m.revokedKeys(), at)
	for _, c := range n.users.user(m.UserID) {
		if len(m.Sessions) == 0 || slices.Contains(m.Sessions, c.info.SessionID) {
			c.close(m.Code, m.Reason, true)
		}
	}
}
