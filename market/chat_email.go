package market

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// ChatDigest is what a digest e-mail of one conversation to one member holds: the
// messages from others that the member has read on no device and was not e-mailed yet.
type ChatDigest struct {
	UserID         string // the member mailed; set by EmailDigest
	ConversationID string
	Email          string
	DisplayName    string
	EmailVerified  bool
	Gone           bool              // the account is deleted or disabled
	From           []string          // display names of the other members
	Names          map[string]string // display name by user id, of the other members
	Messages       []Message
	More           int    // unread messages after the last one listed
	LastSeq        uint64 // the seq of the last message listed
	Language       string // the member's mail language (MailLanguage)
	TimeZone       string // the member's time zone, for the times of the messages
}

// ChatDigestMailer sends a digest; link opens the conversation in the app, at the
// first message listed.
type ChatDigestMailer interface {
	SendChatDigest(ctx context.Context, d ChatDigest, link string) error
}

// digestLimit is how many messages one digest quotes; the rest are counted.
const digestLimit = 20

// EmailDigest e-mails userID one digest of what is still unread in conversationID
// through mailer, with a reply-in-app link under publicURL. The chat reach router
// queues it as a job EmailDelay after the first message of a burst, so the messages
// of the burst that are still unread then go out together, in one mail. It sends
// nothing, and returns nil, when the member switched message e-mails off or muted the
// conversation (Allowed; what is unread stays unmailed and may join a later digest
// once they switch it back on), when nothing is unread and unmailed (the member read
// the conversation on some device), the member has no verified address, is deleted or
// disabled, or left the conversation. After sending it records the last seq mailed, so
// no message is mailed twice; a crash between the two mails the same digest again. A
// mailer error is returned so that the job is retried.
func (m *Chat) EmailDigest(ctx context.Context, mailer ChatDigestMailer, publicURL, userID, conversationID string) error {
	prefs, err := m.store.MessagePrefs(ctx, userID, conversationID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if allowed, _ := Allowed(prefs, KindMessage, ChannelEmail, time.Now()); !allowed {
		return nil
	}
	d, err := m.store.ChatDigest(ctx, userID, conversationID, digestLimit)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	d.Language, d.TimeZone = MailLanguage(prefs), prefs.TimeZone
	if len(d.Messages) == 0 || !d.EmailVerified || d.Gone || d.Email == "" {
		return nil
	}
	d.UserID = userID
	link := publicURL + "/conversations/" + conversationID + "?seq=" + strconv.FormatUint(d.Messages[0].Seq, 10)
	if err := mailer.SendChatDigest(ctx, d, link); err != nil {
		return err
	}
	return m.store.MarkDigested(ctx, userID, conversationID, d.LastSeq)
}
