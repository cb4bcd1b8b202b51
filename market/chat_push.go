package market

import (
	"context"
	"errors"
	"strconv"
	"strings"
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

// Pusher delivers notices to phones and browsers (FCM). An error may be temporary: the
// caller that holds a durable job returns it so the job is retried.
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

// PushBurst sends the push of a burst of messages in a conversation to a member, if
// they are still offline and still have unread messages there: one notice with the
// latest message and the unread count, under the conversation's collapse key so it
// replaces the previous one on the device (and a repeat of this one is harmless). The
// chat reach router queues it as a job (see ChatReachRouter) PushDelay after the first
// message of the burst, which also lets a user who is only reconnecting come back
// first. A member who left the conversation gets nothing; the pusher's error is
// returned so that the job is retried.
func (m *Chat) PushBurst(ctx context.Context, userID, conversationID string) error {
	if m.pusher == nil {
		return nil
	}
	if m.presence != nil {
		online, err := m.presence.IsOnline(ctx, userID)
		if err != nil || online {
			return err
		}
	}
	prefs, err := m.store.MessagePrefs(ctx, userID, conversationID)
	if err != nil {
		return err
	}
	// Allowed: not muted, message pushes on; during quiet hours held until they end.
	allowed, until := Allowed(prefs, KindMessage, ChannelPush, time.Now())
	if !allowed {
		return nil
	}
	if !until.IsZero() {
		return m.store.HoldPush(ctx, userID, "conversation:"+conversationID, until)
	}
	c, err := m.store.Conversation(ctx, conversationID, userID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.UnreadCount == 0 || c.LastMessage == nil {
		return nil
	}
	hide := prefs.HidePreviews
	sender := senderName(c, c.LastMessage.SenderID)
	body := strconv.Itoa(c.UnreadCount) + " new messages"
	if !hide {
		body = preview(c.LastMessage.Text)
		if body == "" {
			body = "Sent an attachment"
		}
		if c.UnreadCount > 1 {
			body += " (+" + strconv.Itoa(c.UnreadCount-1) + " more)"
		}
	}
	return m.pusher.Push(ctx, PushNotice{
		UserID: userID, CollapseKey: "conversation:" + conversationID, Title: sender, Body: body,
		Data: map[string]string{"conversation_id": conversationID, "unread": strconv.Itoa(c.UnreadCount)},
	})
}

// PushHeld sends the push held for userID under collapseKey "conversation:ID" by their
// quiet hours (see PushBurst), if they are still offline with unread messages there.
func (m *Chat) PushHeld(ctx context.Context, userID, collapseKey string) error {
	id, ok := strings.CutPrefix(collapseKey, "conversation:")
	if !ok {
		return nil
	}
	return m.PushBurst(ctx, userID, id)
}

// Mute stops (muted) or restarts pushes and e-mails of a conversation for the caller;
// a conversation they are not in is not found.
func (m *Chat) Mute(ctx context.Context, userID, conversationID string, muted bool) error {
	return m.store.SetConversationMuted(ctx, userID, conversationID, muted)
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
