package market

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// OneTimeToken is a single-use, expiring secret sent by e-mail; only its hash is stored.
type OneTimeToken struct {
	Hash      []byte    `db:"token_hash"`
	UserID    string    `db:"user_id"`
	Purpose   string    `db:"purpose"`
	NewEmail  *string   `db:"new_email"`
	ExpiresAt time.Time `db:"expires_at"`
}

// The purposes of one-time tokens.
const (
	PurposeVerifyEmail   = "verify_email"
	PurposeResetPassword = "reset_password"
	PurposeChangeEmail   = "change_email"
)

// issueToken stores a new token for userID and returns the link that carries it.
func (a *Accounts) issueToken(ctx context.Context, userID, purpose, path string, ttl time.Duration, newEmail *string) (string, error) {
	secret, hash, err := NewSecret()
	if err != nil {
		return "", err
	}
	t := OneTimeToken{Hash: hash, UserID: userID, Purpose: purpose, NewEmail: newEmail, ExpiresAt: a.now().Add(ttl)}
	if err := a.store.CreateToken(ctx, t); err != nil {
		return "", fmt.Errorf("store %s token: %w", purpose, err)
	}
	return a.cfg.PublicURL + path + "?token=" + url.QueryEscape(secret), nil
}

// consumeToken uses up a token of purpose. A token that is unknown, used or expired
// is a gone Error, the same for all three so that nothing leaks.
func (a *Accounts) consumeToken(ctx context.Context, secret, purpose string) (OneTimeToken, error) {
	if secret == "" {
		return OneTimeToken{}, FieldError(CodeInvalid, "token", "is required")
	}
	t, err := a.store.ConsumeToken(ctx, HashSecret(secret), purpose, a.now())
	if ErrorCode(err) == CodeNotFound {
		return t, FieldError(CodeGone, "token", "is invalid, expired or already used")
	}
	return t, err
}
