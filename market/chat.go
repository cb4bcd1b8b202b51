package market

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MessagingStore is the storage of conversations and messages; store/ implements it.
// Conversations a user is not a member of are not found (wrapping ErrNotFound).
type MessagingStore interface {
	OpenDirectConversation(ctx context.Context, userID, otherID string, gigID *string) (Conversation, bool, error)
	EnsureOrderConversation(ctx context.Context, orderID, buyerID, sellerID string) (string, error)
	IsMember(ctx context.Context, conversationID, userID string) (bool, error)
	BlockedIn(ctx context.Context, conversationID, userID string) (bool, error)
	Conversation(ctx context.Context, conversationID, userID string) (Conversation, error)
	Conversations(ctx context.Context, userID string, limit int) ([]Conversation, int, error)
	Messages(ctx context.Context, conversationID, userID string, before uint64, limit int) ([]Message, error)
	SendMessage(ctx context.Context, in NewMessage) (SentMessage, error)
	EditMessage(ctx context.Context, conversationID, messageID, userID, text string, since time.Time) (Message, Event, error)
	DeleteMessage(ctx context.Context, conversationID, messageID, userID string, since time.Time) (Message, Event, error)
	MarkRead(ctx context.Context, conversationID, userID string, seq uint64) (ReadState, []Event, error)
	Block(ctx context.Context, blockerID, blockedID string) error
	Unblock(ctx context.Context, blockerID, blockedID string) error
	UpsertDevice(ctx context.Context, userID string, d Device) error
	DeleteDevice(ctx context.Context, userID, token string) error
	Devices(ctx context.Context, userID string) ([]Device, error)
	SetHidePreviews(ctx context.Context, userID string, hide bool) error
	UserByID(ctx context.Context, id string) (User, error)
}

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

// Gate says whether an action keyed by key may go ahead now, at most once per period
// across all nodes (Redis SET NX PX): typing throttles and push debouncing use it.
type Gate func(ctx context.Context, key string, period time.Duration) (bool, error)

// MessagingConfig tunes messaging. The zero value means the defaults.
type MessagingConfig struct {
	MaxTextLength  int           // characters per message; default 4000
	EditWindow     time.Duration // how long a sender may edit or delete; default 15 min
	PushDelay      time.Duration // a burst within this window gives one push; default 3 s
	TypingInterval time.Duration // at most one typing event per user and conversation; default 2 s
}

// Messaging holds the chat use cases: conversations, messages, read receipts,
// typing, blocks, and push for members who are offline.
type Messaging struct {
	store    MessagingStore
	realtime *Realtime
	presence Presence
	pusher   Pusher
	gate     Gate
	cfg      MessagingConfig
	log      *slog.Logger
	now      func() time.Time
	// SendLimit, when set, spends one of the sender's message budget and returns a
	// rate-limited Error when it is used up.
	SendLimit func(ctx context.Context, userID string) error
}

// NewMessaging returns the chat use cases over their collaborators.
func NewMessaging(s MessagingStore, rt *Realtime, p Presence, push Pusher, gate Gate, cfg MessagingConfig, log *slog.Logger) *Messaging {
	if cfg.MaxTextLength <= 0 {
		cfg.MaxTextLength = 4000
	}
	if cfg.EditWindow <= 0 {
		cfg.EditWindow = 15 * time.Minute
	}
	if cfg.PushDelay <= 0 {
		cfg.PushDelay = 3 * time.Second
	}
	if cfg.TypingInterval <= 0 {
		cfg.TypingInterval = 2 * time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	return &Messaging{store: s, realtime: rt, presence: p, pusher: push, gate: gate, cfg: cfg, log: log, now: time.Now}
}

// OpenConversation returns the direct conversation between userID and otherID,
// creating it when new (created reports which).
func (m *Messaging) OpenConversation(ctx context.Context, userID, otherID string, gigID *string) (Conversation, bool, error) {
	if otherID == userID {
		return Conversation{}, false, FieldError(CodeInvalid, "participant_id", "must be someone else")
	}
	return m.store.OpenDirectConversation(ctx, userID, otherID, gigID)
}

// OpenOrderThread returns the id of an order's own conversation, creating it with the
// buyer and seller as members: the hook the orders feature calls when an order is placed.
func (m *Messaging) OpenOrderThread(ctx context.Context, orderID, buyerID, sellerID string) (string, error) {
	if !uuidText.MatchString(orderID) || buyerID == sellerID {
		return "", FieldError(CodeInvalid, "order_id", "an order thread needs an order id and two different members")
	}
	return m.store.EnsureOrderConversation(ctx, orderID, buyerID, sellerID)
}

// Conversation returns one of userID's conversations.
func (m *Messaging) Conversation(ctx context.Context, conversationID, userID string) (Conversation, error) {
	return m.store.Conversation(ctx, conversationID, userID)
}

// Conversations lists userID's conversations by last activity and the total unread.
func (m *Messaging) Conversations(ctx context.Context, userID string, limit int) ([]Conversation, int, error) {
	return m.store.Conversations(ctx, userID, limit)
}

// Messages pages the history newest first, before a seq (0: from the newest).
func (m *Messaging) Messages(ctx context.Context, conversationID, userID string, before uint64, limit int) ([]Message, error) {
	return m.store.Messages(ctx, conversationID, userID, before, limit)
}

var uuidText = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// checkText applies the message rules: plain text, not blank, within the length limit.
func (m *Messaging) checkText(text string) error {
	if strings.TrimSpace(text) == "" {
		return FieldError(CodeInvalid, "text", "must not be empty")
	}
	if !utf8.ValidString(text) || strings.ContainsRune(text, 0) {
		return FieldError(CodeInvalid, "text", "must be valid UTF-8 text")
	}
	if utf8.RuneCountInString(text) > m.cfg.MaxTextLength {
		return FieldError(CodeInvalid, "text", "must be at most "+strconv.Itoa(m.cfg.MaxTextLength)+" characters")
	}
	return nil
}

// Send stores a message and its event in one transaction, publishes after commit, and
// schedules a push for members who are offline. Sending the same ClientID again
// returns the first message with created false and changes nothing. It returns a
// not-found Error for a conversation the sender is not in, a forbidden Error when
// either side blocked the other, and a rate-limited Error past the budget.
func (m *Messaging) Send(ctx context.Context, in NewMessage) (Message, bool, error) {
	if !uuidText.MatchString(in.ClientID) {
		return Message{}, false, FieldError(CodeInvalid, "client_id", "must be a UUID the client chose")
	}
	in.ClientID = strings.ToLower(in.ClientID)
	if err := m.checkText(in.Text); err != nil {
		return Message{}, false, err
	}
	if m.SendLimit != nil {
		if err := m.SendLimit(ctx, in.SenderID); err != nil {
			return Message{}, false, err
		}
	}
	sent, err := m.store.SendMessage(ctx, in)
	if err != nil {
		return Message{}, false, err
	}
	m.realtime.PublishCommitted(ctx, sent.Events...)
	for _, r := range sent.Recipients {
		m.schedulePush(ctx, r, sent.Message)
	}
	return sent.Message, sent.Created, nil
}

// Edit changes the text of the caller's own recent message.
func (m *Messaging) Edit(ctx context.Context, conversationID, messageID, userID, text string) (Message, error) {
	if err := m.checkText(text); err != nil {
		return Message{}, err
	}
	msg, ev, err := m.store.EditMessage(ctx, conversationID, messageID, userID, text, m.now().Add(-m.cfg.EditWindow))
	if err != nil {
		return Message{}, err
	}
	m.realtime.PublishCommitted(ctx, ev)
	return msg, nil
}

// Delete removes the caller's own recent message.
func (m *Messaging) Delete(ctx context.Context, conversationID, messageID, userID string) error {
	_, ev, err := m.store.DeleteMessage(ctx, conversationID, messageID, userID, m.now().Add(-m.cfg.EditWindow))
	if err != nil {
		return err
	}
	m.realtime.PublishCommitted(ctx, ev)
	return nil
}

// MarkRead moves the caller's read pointer forward to seq; the other members get a
// read event, and the caller's other devices their new unread counts.
func (m *Messaging) MarkRead(ctx context.Context, conversationID, userID string, seq uint64) (ReadState, error) {
	st, events, err := m.store.MarkRead(ctx, conversationID, userID, seq)
	if err != nil {
		return ReadState{}, err
	}
	m.realtime.PublishCommitted(ctx, events...)
	return st, nil
}

// Typing tells the other members that userID is typing, at most once per
// TypingInterval per user and conversation; extra calls are dropped silently. Typing
// is ephemeral: never stored. Outsiders get a not-found Error.
func (m *Messaging) Typing(ctx context.Context, conversationID, userID string) error {
	ok, err := m.gate(ctx, "typing:"+conversationID+":"+userID, m.cfg.TypingInterval)
	if err != nil || !ok {
		return err
	}
	member, err := m.store.IsMember(ctx, conversationID, userID)
	if err != nil {
		return err
	}
	if !member {
		return ErrNotFound
	}
	// Someone blocked either way sees no typing, as they get no messages.
	if blocked, err := m.store.BlockedIn(ctx, conversationID, userID); err != nil || blocked {
		return err
	}
	u, err := m.store.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	data := fmt.Appendf(nil, `{"user_id":%q,"display_name":%q}`, userID, u.DisplayName)
	return m.realtime.pub.Publish(ctx, Event{Channel: ConversationChannel(conversationID), Type: "typing", Data: data})
}

// Block stops all messages between the two users, both ways.
func (m *Messaging) Block(ctx context.Context, blockerID, blockedID string) error {
	return m.store.Block(ctx, blockerID, blockedID)
}

// Unblock lifts the caller's block.
func (m *Messaging) Unblock(ctx context.Context, blockerID, blockedID string) error {
	return m.store.Unblock(ctx, blockerID, blockedID)
}
