package market

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is one chat message. Text is plain text: clients render it as text, never
// as markup. A deleted message keeps its place (seq) but loses its text.
type Message struct {
	ID             string          `json:"id" db:"id"`
	ConversationID string          `json:"conversation_id" db:"conversation_id"`
	Seq            uint64          `json:"seq" db:"seq"`
	SenderID       string          `json:"sender_id" db:"sender_id"`
	ClientID       string          `json:"client_id" db:"client_id"`
	Text           string          `json:"text" db:"text"`
	Attachments    json.RawMessage `json:"attachments" db:"attachments"`
	CreatedAt      time.Time       `json:"created_at" db:"created_at"`
	EditedAt       *time.Time      `json:"edited_at" db:"edited_at"`
	Deleted        bool            `json:"deleted" db:"deleted"`
}

// NewMessage is what a sender sends; ClientID, chosen by the client, makes a retried
// send idempotent.
type NewMessage struct {
	ConversationID, SenderID, ClientID, Text string
	Attachments                              []string
}

// SentMessage is the outcome of a send: the message, whether this call created it
// (false for a retry), the events to publish after commit, and who should hear.
type SentMessage struct {
	Message    Message
	Created    bool
	Events     []Event
	Recipients []Recipient
}

// Recipient is another member of the conversation, with what a notification needs.
type Recipient struct {
	UserID       string
	Unread       int
	HidePreviews bool
}

// ReadState is a member's read pointer and unread counts after a read receipt.
type ReadState struct {
	LastReadSeq uint64 `json:"last_read_seq"`
	UnreadCount int    `json:"unread_count"`
	TotalUnread int    `json:"total_unread"`
}

// Messages pages the history newest first, before a seq (0: from the newest).
func (m *Chat) Messages(ctx context.Context, conversationID, userID string, before uint64, limit int) ([]Message, error) {
	return m.store.Messages(ctx, conversationID, userID, before, limit)
}

var uuidText = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// checkText applies the text rules: plain text, not blank, within the length limit.
func (m *Chat) checkText(text string) error {
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

// MaxAttachments is how many uploads one message may carry.
const MaxAttachments = 10

// checkMessage applies the rules of a new message: text, or attachments only (then the
// text is empty), at most MaxAttachments distinct upload ids. Whether each id is a clean
// attachment the sender uploaded to this conversation is checked where the message is
// stored (see ChatStore.SendMessage), in the same transaction.
func (m *Chat) checkMessage(in NewMessage) error {
	if len(in.Attachments) > MaxAttachments {
		return FieldError(CodeInvalid, "attachments", "must be at most "+strconv.Itoa(MaxAttachments)+" uploads")
	}
	seen := map[string]bool{}
	for _, id := range in.Attachments {
		if !uuidText.MatchString(id) || seen[id] {
			return FieldError(CodeInvalid, "attachments", "must be distinct upload ids")
		}
		seen[id] = true
	}
	if in.Text == "" && len(in.Attachments) > 0 {
		return nil
	}
	return m.checkText(in.Text)
}

// Send stores a message and its event in one transaction and publishes after commit;
// members who are away are pushed and e-mailed from the stored event (ChatReachRouter),
// so nothing more happens here. Sending the same ClientID again
// returns the first message with created false and changes nothing. A message has text,
// attachments or both; each attachment must be a clean upload of kind attachment that the
// sender made for this conversation. It returns an invalid Error naming text or
// attachments (an upload of someone else's, for another conversation, still scanning,
// rejected or unknown), a not-found Error for a conversation the sender is not in, a
// forbidden Error when either side blocked the other, and a rate-limited Error past the
// budget (not spent here when ctx is marked by WithMessageBudgetSpent).
func (m *Chat) Send(ctx context.Context, in NewMessage) (Message, bool, error) {
	if !uuidText.MatchString(in.ClientID) {
		return Message{}, false, FieldError(CodeInvalid, "client_id", "must be a UUID the client chose")
	}
	in.ClientID = strings.ToLower(in.ClientID)
	in.Attachments = lowered(in.Attachments)
	if err := m.checkMessage(in); err != nil {
		return Message{}, false, err
	}
	if m.cfg.SendLimit != nil && !MessageBudgetSpent(ctx) {
		if err := m.cfg.SendLimit.SpendMessage(ctx, in.SenderID); err != nil {
			return Message{}, false, err
		}
	}
	sent, err := m.store.SendMessage(ctx, in)
	if err != nil {
		return Message{}, false, err
	}
	m.realtime.PublishCommitted(ctx, sent.Events...)
	return sent.Message, sent.Created, nil
}

// lowered returns ids in lower case, so that each upload id is stored one way.
func lowered(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strings.ToLower(id)
	}
	return out
}

// Edit changes the text of the caller's own recent message.
func (m *Chat) Edit(ctx context.Context, conversationID, messageID, userID, text string) (Message, error) {
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
func (m *Chat) Delete(ctx context.Context, conversationID, messageID, userID string) error {
	_, ev, err := m.store.DeleteMessage(ctx, conversationID, messageID, userID, m.now().Add(-m.cfg.EditWindow))
	if err != nil {
		return err
	}
	m.realtime.PublishCommitted(ctx, ev)
	return nil
}

// MarkRead moves the caller's read pointer forward to seq; the other members get a
// read event, and the caller's other devices their new unread counts.
func (m *Chat) MarkRead(ctx context.Context, conversationID, userID string, seq uint64) (ReadState, error) {
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
func (m *Chat) Typing(ctx context.Context, conversationID, userID string) error {
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
