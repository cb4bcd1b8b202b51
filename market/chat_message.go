package market

import (
	"encoding/json"
	"time"
)

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

// Device is a phone or browser that receives push notifications.
type Device struct {
	Token      string `json:"token" db:"token"`
	Platform   string `json:"platform" db:"platform"`
	AppVersion string `json:"app_version" db:"app_version"`
}

// ConversationChannel is the live channel of a conversation.
func ConversationChannel(id string) string { return "conversation:" + id }
