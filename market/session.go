package market

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"
)

// Session is one signed-in device. Its bearer secret is never stored: only a SHA-256
// hash of it, so a database leak does not leak sessions.
type Session struct {
	ID         string    `json:"id" db:"id"`
	UserID     string    `json:"-" db:"user_id"`
	TokenHash  []byte    `json:"-" db:"token_hash"`
	CSRFToken  string    `json:"-" db:"csrf_token"`
	Kind       string    `json:"kind" db:"kind"` // SessionCookie or SessionBearer
	UserAgent  string    `json:"user_agent" db:"user_agent"`
	IP         string    `json:"ip" db:"ip"`
	CreatedAt  time.Time `json:"created_at" db:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at" db:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at" db:"expires_at"`
}

// The kinds of session: browsers hold the token in a cookie, apps send it as a bearer.
const (
	SessionCookie = "cookie"
	SessionBearer = "bearer"
)

// touchEvery is how stale last_seen_at may get before a request refreshes it; it
// spares the database a write per request.
const touchEvery = time.Minute

// live reports whether s is within both its idle and its absolute timeout at now.
func (s Session) live(now time.Time, idle time.Duration) bool {
	return now.Before(s.ExpiresAt) && now.Sub(s.LastSeenAt) < idle
}

// NewSecret returns a random URL-safe secret (256 bits) and its SHA-256 hash.
func NewSecret() (secret string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("random secret: %w", err)
	}
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, HashSecret(secret), nil
}

// HashSecret is the SHA-256 of a session token or one-time token, as stored.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
