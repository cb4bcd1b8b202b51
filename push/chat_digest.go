package push

import (
	"fmt"
	"strings"
	"time"
)

// DigestLine is one message quoted in a chat digest. Text is user-written plain text:
// html/template escapes it in the HTML part.
type DigestLine struct {
	Sender string
	Text   string // empty for a message with attachments only
	At     time.Time
	When   string // At written for the reader (market's FormatDateIn); "" writes At in UTC
}

// ChatDigestMail is the content of a digest of unread chat messages in one
// conversation.
type ChatDigestMail struct {
	From  []string     // the other members' display names
	Lines []DigestLine // oldest first; at least one
	More  int          // unread messages after the quoted ones
	Link  string       // absolute http(s) URL that opens the conversation to reply
	// Language is "de" for German; anything else is English.
	Language string
}

// ChatDigestEmail builds the digest mail of unread messages in one conversation. It
// returns an error wrapping ErrInvalidEmail for a digest without lines, a bad
// recipient or a link that is not an absolute http(s) URL.
func ChatDigestEmail(to, displayName string, m ChatDigestMail) (Email, error) {
	if len(m.Lines) == 0 {
		return Email{}, fmt.Errorf("%w: a chat digest without messages", ErrInvalidEmail)
	}
	if err := checkLink(m.Link); err != nil {
		return Email{}, err
	}
	from := strings.Join(m.From, ", ")
	if from == "" {
		from = "GigStream"
	}
	n := len(m.Lines) + m.More
	subject := fmt.Sprintf("%d unread messages from %s", n, from)
	switch {
	case m.Language == "de" && n == 1:
		subject = "Eine ungelesene Nachricht von " + from
	case m.Language == "de":
		subject = fmt.Sprintf("%d ungelesene Nachrichten von %s", n, from)
	case n == 1:
		subject = "An unread message from " + from
	}
	return renderIn(m.Language, "chat_digest", to, subject, templateData{
		DisplayName: displayName, Link: m.Link, From: from, Lines: m.Lines, More: m.More,
	})
}
