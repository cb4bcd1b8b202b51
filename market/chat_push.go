package market

import (
	"context"
	"strconv"
	"time"
	"unicode/utf8"
)

// Presence answers whether a user has a live socket anywhere (or had one within the
// grace window, while reconnecting).
type Presence interface {
	IsOnline(ctx context.Context, userID string) (bool, error)
}

// PushNotice is one notification for a user's devices. Notices with one CollapseKey
// replace each other on the device.
type PushNotice struct {
	UserID, CollapseKey, Title, Body string
	Data                             map[string]string
}

// Pusher delivers notices to phones and browsers (FCM), without blocking the caller.
type Pusher interface {
	Push(ctx context.Context, n PushNotice) error
}

// Device is a phone or browser that receives push notifications.
type Device struct {
	Token      string `json:"token" db:"token"`
	Platform   string `json:"platform" db:"platform"`
	AppVersion string `json:"app_version" db:"app_version"`
}

// previewLength is how much of a message a push shows.
const previewLength = 100

// schedulePush arranges one notification per burst: the first message of a burst to
// an offline member opens a PushDelay window (across all nodes, through the gate);
// when it ends, one notice with the latest message and the unread count is sent,
// under the conversation's collapse key so it replaces the previous one on the
// device. The delay also lets a user who is only reconnecting come back first.
func (m *Chat) schedulePush(ctx context.Context, r Recipient, msg Message) {
	if m.pusher == nil {
		return
	}
	first, err := m.gate(ctx, "push:"+r.UserID+":"+msg.ConversationID, m.cfg.PushDelay)
	if err != nil {
		m.log.WarnContext(ctx, "push gate", "err", err)
		return
	}
	if !first {
		return
	}
	bg := context.WithoutCancel(ctx)
	time.AfterFunc(m.cfg.PushDelay, func() {
		ctx, cancel := context.WithTimeout(bg, 30*time.Second)
		defer cancel()
		if err := m.pushNow(ctx, r, msg.ConversationID); err != nil {
			m.log.WarnContext(ctx, "push not sent", "user_id", r.UserID, "err", err)
		}
	})
}

// pushNow sends the notice for a burst if the member is still offline and still has
// unread messages.
func (m *Chat) pushNow(ctx context.Context, r Recipient, conversationID string) error {
	online, err := m.presence.IsOnline(ctx, r.UserID)
	if err != nil || online {
		return err
	}
	c, err := m.store.Conversation(ctx, conversationID, r.UserID)
	if err != nil {
		return err
	}
	if c.UnreadCount == 0 || c.LastMessage == nil {
		return nil
	}
	sender := senderName(c, c.LastMessage.SenderID)
	body := strconv.Itoa(c.UnreadCount) + " new messages"
	if !r.HidePreviews {
		body = preview(c.LastMessage.Text)
		if body == "" {
			body = "Sent an attachment"
		}
		if c.UnreadCount > 1 {
			body += " (+" + strconv.Itoa(c.UnreadCount-1) + " more)"
		}
	}
	return m.pusher.Push(ctx, PushNotice{
		UserID: r.UserID, CollapseKey: "conversation:" + conversationID, Title: sender, Body: body,
		Data: map[string]string{"conversation_id": conversationID, "unread": strconv.Itoa(c.UnreadCount)},
	})
}

func senderName(c Conversation, senderID string) string {
	for _, p := range c.Participants {
		if p.ID == senderID {
			return p.DisplayName
		}
	}
	return "New message"
}

func preview(text string) string {
	if utf8.RuneCountInString(text) <= previewLength {
		return text
	}
	r := []rune(text)
	return string(r[:previewLength]) + "…"
}

// RegisterDevice stores a push token of the caller; the same token again updates it.
func (m *Chat) RegisterDevice(ctx context.Context, userID string, d Device) error {
	if d.Platform != "android" && d.Platform != "ios" && d.Platform != "web" {
		return FieldError(CodeInvalid, "platform", "must be android, ios or web")
	}
	if d.Token == "" || len(d.Token) > 4096 {
		return FieldError(CodeInvalid, "token", "must be 1 to 4096 bytes")
	}
	return m.store.UpsertDevice(ctx, userID, d)
}

// Devices lists the caller's push tokens.
func (m *Chat) Devices(ctx context.Context, userID string) ([]Device, error) {
	return m.store.Devices(ctx, userID)
}

// RemoveDevice deletes one of the caller's push tokens.
func (m *Chat) RemoveDevice(ctx context.Context, userID, token string) error {
	return m.store.DeleteDevice(ctx, userID, token)
}

// SetHidePreviews chooses whether the caller's pushes show message text.
func (m *Chat) SetHidePreviews(ctx context.Context, userID string, hide bool) error {
	return m.store.SetHidePreviews(ctx, userID, hide)
}
