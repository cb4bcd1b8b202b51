package push

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"firebase.google.com/go/v4/messaging"
)

// Notification is one push to every device of a user. Market decides the
// content (sender and a short preview, or no preview when the user hides
// them); this package decides how it reaches each platform.
type Notification struct {
	UserID string
	// CollapseKey groups notifications that replace each other on the device,
	// e.g. "conversation:42": a burst of messages shows as one notification
	// that updates. Empty means every notification stands alone.
	CollapseKey string
	Title       string
	Body        string
	// Data reaches the app (e.g. conversation id, seq) for navigation on tap.
	Data map[string]string
}

// ErrInvalidNotification is returned by Notify and SendNow for a notification
// without a user, without any content, or with a data key FCM reserves.
var ErrInvalidNotification = errors.New("push: invalid notification")

func (n Notification) validate() error {
	if n.UserID == "" {
		return fmt.Errorf("%w: no user", ErrInvalidNotification)
	}
	if n.Title == "" && n.Body == "" && len(n.Data) == 0 {
		return fmt.Errorf("%w: no title, body or data", ErrInvalidNotification)
	}
	for k := range n.Data {
		if reservedDataKey(k) {
			return fmt.Errorf("%w: data key %q is reserved by FCM", ErrInvalidNotification, k)
		}
	}
	return nil
}

// reservedDataKey reports the keys FCM rejects in message.data.
func reservedDataKey(k string) bool {
	switch k {
	case "from", "notification", "message_type", "":
		return true
	}
	return strings.HasPrefix(k, "google") || strings.HasPrefix(k, "gcm")
}

// message builds the FCM v1 message for one device. Every platform block is
// filled whatever the device's recorded platform, so a mislabelled device
// still collapses correctly; FCM uses only the block of the platform it
// delivers to. Collapse is expressed as each platform wants it:
//   - Android: collapse_key (FCM keeps only the latest pending message) and
//     notification.tag (the shown notification is replaced);
//   - APNs: the apns-collapse-id header (≤64 bytes) and aps.thread-id
//     (grouping in Notification Center);
//   - Web push: the Topic header (RFC 8030: ≤32 URL-safe base64 characters)
//     and the notification tag.
func (n Notification) message(token string, ttl time.Duration) *messaging.Message {
	m := &messaging.Message{
		Token:        token,
		Data:         n.Data,
		Notification: &messaging.Notification{Title: n.Title, Body: n.Body},
		Android:      &messaging.AndroidConfig{Priority: "high"},
		APNS: &messaging.APNSConfig{
			Headers: map[string]string{"apns-push-type": "alert", "apns-priority": "10"},
			Payload: &messaging.APNSPayload{Aps: &messaging.Aps{Sound: "default"}},
		},
		Webpush: &messaging.WebpushConfig{Headers: map[string]string{"Urgency": "high"}},
	}
	if ttl > 0 {
		m.Android.TTL = &ttl
		m.APNS.Headers["apns-expiration"] = fmt.Sprint(time.Now().Add(ttl).Unix())
		m.Webpush.Headers["TTL"] = fmt.Sprint(int64(ttl.Seconds()))
	}
	if n.CollapseKey != "" {
		n.collapse(m)
	}
	return m
}

func (n Notification) collapse(m *messaging.Message) {
	m.Android.CollapseKey = n.CollapseKey
	m.Android.Notification = &messaging.AndroidNotification{Tag: n.CollapseKey}
	m.APNS.Headers["apns-collapse-id"] = boundedID(n.CollapseKey, 64, apnsCollapseID)
	m.APNS.Payload.Aps.ThreadID = n.CollapseKey
	m.Webpush.Headers["Topic"] = boundedID(n.CollapseKey, 32, webpushTopic)
	m.Webpush.Notification = &messaging.WebpushNotification{Tag: n.CollapseKey}
}

var (
	apnsCollapseID = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)
	webpushTopic   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// boundedID returns key when it fits the header's length and alphabet, and
// otherwise a stable hex digest of it (hex is valid in both alphabets), so
// the same conversation always maps to the same id.
func boundedID(key string, max int, allowed *regexp.Regexp) string {
	if len(key) <= max && allowed.MatchString(key) {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])[:max]
}
