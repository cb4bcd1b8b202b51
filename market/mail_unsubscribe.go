package market

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// UnsubscribeTokens signs and checks the tokens of one-click unsubscribe links (RFC
// 8058): each names a user and a notification category and expires. A token is
// "v1.<payload>.<mac>", both base64url, the payload "user|category|expiry-unix" and the
// mac HMAC-SHA256 under the server's key, so nobody without the key can make or alter
// one. The zero value refuses every token and makes none.
type UnsubscribeTokens struct {
	key []byte
	ttl time.Duration
}

// NewUnsubscribeTokens returns tokens signed with key (at least 32 bytes; shorter
// keys make tokens that every check refuses) that live ttl (default 90 days).
func NewUnsubscribeTokens(key []byte, ttl time.Duration) UnsubscribeTokens {
	if ttl <= 0 {
		ttl = 90 * 24 * time.Hour
	}
	return UnsubscribeTokens{key: key, ttl: ttl}
}

// On reports whether the tokens can be made and checked: a key is configured.
func (t UnsubscribeTokens) On() bool { return len(t.key) >= 32 }

const unsubscribeVersion = "v1"

// Make returns the token that switches category off on e-mail for userID, valid
// until now plus the tokens' lifetime; "" when the tokens are off.
func (t UnsubscribeTokens) Make(userID string, category NotificationCategory, now time.Time) string {
	if !t.On() {
		return ""
	}
	payload := userID + "|" + string(category) + "|" + strconv.FormatInt(now.Add(t.ttl).Unix(), 10)
	enc := base64.RawURLEncoding
	return unsubscribeVersion + "." + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(t.mac(payload))
}

func (t UnsubscribeTokens) mac(payload string) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte("gigstream unsubscribe " + unsubscribeVersion + "\x00" + payload))
	return m.Sum(nil)
}

// Check returns the user and the category a token names. It returns a forbidden Error
// on field "token" for a token that is malformed or whose mac does not match (compared
// in constant time), a gone Error for one past its expiry, and an invalid Error for a
// category that cannot be switched off.
func (t UnsubscribeTokens) Check(token string, now time.Time) (string, NotificationCategory, error) {
	bad := FieldError(CodeForbidden, "token", "is not a valid unsubscribe token")
	version, rest, _ := strings.Cut(token, ".")
	payloadB64, macB64, ok := strings.Cut(rest, ".")
	if !t.On() || version != unsubscribeVersion || !ok {
		return "", "", bad
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(payloadB64)
	mac, err2 := enc.DecodeString(macB64)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, t.mac(string(payload))) {
		return "", "", bad
	}
	fields := strings.Split(string(payload), "|")
	if len(fields) != 3 {
		return "", "", bad
	}
	expiry, err := strconv.ParseInt(fields[2], 10, 64)
	if err != nil {
		return "", "", bad
	}
	if now.Unix() > expiry {
		return "", "", FieldError(CodeGone, "token", "has expired; change your e-mail settings in the app")
	}
	cat := NotificationCategory(fields[1])
	if !knownSwitch(Switch{cat, ChannelEmail}) || !Switchable(Switch{cat, ChannelEmail}) {
		return "", "", FieldError(CodeInvalid, "token", "names a category that cannot be switched off")
	}
	return fields[0], cat, nil
}

// UnsubscribeLink returns the one-click unsubscribe URL under publicURL for userID's
// mail of category, or "" when tokens are off or the category cannot be switched off
// (security mail carries no such link).
func (m *MailDelivery) UnsubscribeLink(publicURL, userID string, category NotificationCategory) string {
	if !Switchable(Switch{category, ChannelEmail}) || !knownSwitch(Switch{category, ChannelEmail}) {
		return ""
	}
	tok := m.tokens.Make(userID, category, m.now())
	if tok == "" {
		return ""
	}
	return publicURL + "/unsubscribe?token=" + tok
}

// CheckUnsubscribe tells what a token would switch off, changing nothing: the
// confirmation page of a GET shows it. Errors are those of UnsubscribeTokens.Check.
func (m *MailDelivery) CheckUnsubscribe(token string) (NotificationCategory, error) {
	_, cat, err := m.tokens.Check(token, m.now())
	return cat, err
}

// Unsubscribe switches the e-mail channel of the token's category off in its user's
// notification preferences and returns the category. Repeating it is harmless. Errors
// are those of UnsubscribeTokens.Check, a not-found Error for a user that no longer
// exists, or the store's.
func (m *MailDelivery) Unsubscribe(ctx context.Context, token string) (NotificationCategory, error) {
	userID, cat, err := m.tokens.Check(token, m.now())
	if err != nil {
		return "", err
	}
	_, err = m.store.SetNotificationPrefs(ctx, userID, NotificationPrefsUpdate{
		Switches: map[Switch]bool{{cat, ChannelEmail}: false},
	})
	if err != nil {
		return "", fmt.Errorf("unsubscribe %s from %s e-mail: %w", userID, cat, err)
	}
	m.log.InfoContext(ctx, "unsubscribed by one-click link", "user_id", userID, "category", string(cat))
	return cat, nil
}
