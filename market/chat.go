package market

import (
	"context"
	"log/slog"
	"time"
)

// Chat holds the chat use cases: conversations, messages, read receipts,
// typing, blocks, and push for members who are offline.
type Chat struct {
	store    ChatStore
	realtime *Realtime
	presence Presence
	pusher   Pusher
	gate     Gate
	cfg      ChatConfig
	log      *slog.Logger
	now      func() time.Time
}

// NewChat returns the chat use cases over their collaborators.
func NewChat(s ChatStore, rt *Realtime, p Presence, push Pusher, gate Gate, cfg ChatConfig, log *slog.Logger) *Chat {
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
	return &Chat{store: s, realtime: rt, presence: p, pusher: push, gate: gate, cfg: cfg, log: log, now: time.Now}
}

// ChatConfig tunes the chat. The zero value means the defaults.
type ChatConfig struct {
	MaxTextLength  int           // characters per message; default 4000
	EditWindow     time.Duration // how long a sender may edit or delete; default 15 min
	PushDelay      time.Duration // a burst within this window gives one push; default 3 s (see ChatReachRouter)
	TypingInterval time.Duration // at most one typing event per user and conversation; default 2 s

	// SendLimit spends one message of the sender's budget; nil sets no budget.
	SendLimit SendLimiter
}

// SendLimiter spends one message of a sender's budget, shared by REST and WebSocket
// sends, and returns a rate-limited Error when it is used up.
type SendLimiter interface {
	SpendMessage(ctx context.Context, userID string) error
}

// messageBudgetSpentKey marks a context whose send already spent the sender's message
// budget (WithMessageBudgetSpent).
type messageBudgetSpentKey struct{}

// WithMessageBudgetSpent returns ctx marked as carrying a send whose message budget
// the caller has already spent, so that Send does not spend it a second time: the HTTP
// front door spends it beside the request's per-user budget in one Redis round trip.
// The caller must spend it with the same key and rate as ChatConfig.SendLimit would.
func WithMessageBudgetSpent(ctx context.Context) context.Context {
	return context.WithValue(ctx, messageBudgetSpentKey{}, true)
}

// MessageBudgetSpent reports whether ctx is marked by WithMessageBudgetSpent.
func MessageBudgetSpent(ctx context.Context) bool {
	spent, _ := ctx.Value(messageBudgetSpentKey{}).(bool)
	return spent
}

// ChatStore is the storage of conversations and messages; store/ implements it.
// Conversations a user is not a member of are not found (wrapping ErrNotFound).
// SendMessage refuses, with an invalid Error naming attachments, any attachment that is
// not a clean upload of kind attachment made by the sender for that conversation.
type ChatStore interface {
	OpenDirectConversation(ctx context.Context, userID, otherID string, gigID *string) (Conversation, bool, error)
	EnsureOrderConversation(ctx context.Context, orderID, buyerID, sellerID string) (string, error)
	IsMember(ctx context.Context, conversationID, userID string) (bool, error)
	BlockedIn(ctx context.Context, conversationID, userID string) (bool, error)
	Conversation(ctx context.Context, conversationID, userID string) (Conversation, error)
	// Conversations lists up to limit conversations by last activity, after the key
	// (last_activity_at, id) of the last one seen (nil: from the most recent).
	Conversations(ctx context.Context, userID string, after *PageKey, limit int) ([]Conversation, int, error)
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
	HidePreviews(ctx context.Context, userID string) (bool, error)
	// ChatDigest reads what a digest e-mail of conversationID to userID holds: up to
	// limit messages from others, not deleted, after both the member's read pointer and
	// the last seq already e-mailed, oldest first. A non-member is not found.
	ChatDigest(ctx context.Context, userID, conversationID string, limit int) (ChatDigest, error)
	// MarkDigested records that the member was e-mailed the messages up to seq (never
	// moving back).
	MarkDigested(ctx context.Context, userID, conversationID string, seq uint64) error
	UserByID(ctx context.Context, id string) (User, error)
	// MessagePrefs returns userID's notification prefs for a message in conversationID
	// (ConversationMuted set when they muted it).
	MessagePrefs(ctx context.Context, userID, conversationID string) (NotificationPrefs, error)
	// SetConversationMuted mutes or unmutes a conversation for its member; a non-member
	// wraps ErrNotFound.
	SetConversationMuted(ctx context.Context, userID, conversationID string, muted bool) error
	PushHolder
}

// Gate says whether an action keyed by key may go ahead now, at most once per period
// across all nodes (Redis SET NX PX): typing throttles and push debouncing use it.
type Gate func(ctx context.Context, key string, period time.Duration) (bool, error)

// Conversation is a thread between users: direct (opened from a gig or a profile) or
// the thread of one order. Counts and read pointers are as seen by one member.
type Conversation struct {
	ID           string        `json:"id" db:"id"`
	Kind         string        `json:"kind" db:"kind"`
	GigID        *string       `json:"gig_id" db:"gig_id"`
	OrderID      *string       `json:"order_id" db:"order_id"`
	Participants []Participant `json:"participants" db:"-"`
	LastMessage  *Message      `json:"last_message" db:"-"`
	UnreadCount  int           `json:"unread_count" db:"unread_count"`
	LastReadSeq  uint64        `json:"last_read_seq" db:"last_read_seq"`
	OtherReadSeq uint64        `json:"other_read_seq" db:"other_read_seq"`
	UpdatedAt    time.Time     `json:"updated_at" db:"last_activity_at"`
}

// Participant is a member of a conversation as other members see them.
type Participant struct {
	ID          string `json:"id" db:"id"`
	Username    string `json:"username" db:"username"`
	DisplayName string `json:"display_name" db:"display_name"`
}

// ConversationChannel is the live channel of a conversation.
func ConversationChannel(id string) string { return "conversation:" + id }

// OpenConversation returns the direct conversation between userID and otherID,
// creating it when new (created reports which).
func (m *Chat) OpenConversation(ctx context.Context, userID, otherID string, gigID *string) (Conversation, bool, error) {
	if otherID == userID {
		return Conversation{}, false, FieldError(CodeInvalid, "participant_id", "must be someone else")
	}
	return m.store.OpenDirectConversation(ctx, userID, otherID, gigID)
}

// OpenOrderThread returns the id of an order's own conversation, creating it with the
// buyer and seller as members: the hook the orders feature calls when an order is placed.
func (m *Chat) OpenOrderThread(ctx context.Context, orderID, buyerID, sellerID string) (string, error) {
	if !uuidText.MatchString(orderID) || buyerID == sellerID {
		return "", FieldError(CodeInvalid, "order_id", "an order thread needs an order id and two different members")
	}
	return m.store.EnsureOrderConversation(ctx, orderID, buyerID, sellerID)
}

// Conversation returns one of userID's conversations.
func (m *Chat) Conversation(ctx context.Context, conversationID, userID string) (Conversation, error) {
	return m.store.Conversation(ctx, conversationID, userID)
}

// Conversations lists up to limit of userID's conversations by last activity, most
// recent first, after the key of the last one seen (nil: from the top), and the total
// unread over all of them.
func (m *Chat) Conversations(ctx context.Context, userID string, after *PageKey, limit int) ([]Conversation, int, error) {
	return m.store.Conversations(ctx, userID, after, limit)
}

// Block stops all messages between the two users, both ways.
func (m *Chat) Block(ctx context.Context, blockerID, blockedID string) error {
	return m.store.Block(ctx, blockerID, blockedID)
}

// Unblock lifts the caller's block.
func (m *Chat) Unblock(ctx context.Context, blockerID, blockedID string) error {
	return m.store.Unblock(ctx, blockerID, blockedID)
}
