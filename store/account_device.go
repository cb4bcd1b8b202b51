package store

import (
	"context"
	"fmt"
	"time"
)

// KnownDevice reports whether the device secret hashing to hash completed a sign-in of
// the active account with this e-mail address at or after since.
func (db *DB) KnownDevice(ctx context.Context, email string, hash []byte, since time.Time) (bool, error) {
	var known bool
	err := db.x.GetContext(ctx, &known, `SELECT EXISTS (
		SELECT 1 FROM known_devices d JOIN users u ON u.id = d.user_id
		WHERE u.email = $1 AND u.deleted_at IS NULL AND d.token_hash = $2 AND d.last_used_at >= $3)`,
		email, hash, since)
	if err != nil {
		return false, fmt.Errorf("known device: %w", err)
	}
	return known, nil
}

// DeviceIssued reports whether the device secret hashing to hash was ever handed out
// (it is known to some account), so that a client cannot choose its own.
func (db *DB) DeviceIssued(ctx context.Context, hash []byte) (bool, error) {
	var issued bool
	err := db.x.GetContext(ctx, &issued, `SELECT EXISTS (SELECT 1 FROM known_devices WHERE token_hash = $1)`, hash)
	if err != nil {
		return false, fmt.Errorf("device issued: %w", err)
	}
	return issued, nil
}

// RememberDevice records that the device completed a sign-in of the user at at.
func (db *DB) RememberDevice(ctx context.Context, userID string, hash []byte, at time.Time) error {
	_, err := db.x.ExecContext(ctx, `INSERT INTO known_devices (user_id, token_hash, created_at, last_used_at)
		VALUES ($1, $2, $3, $3)
		ON CONFLICT (user_id, token_hash) DO UPDATE SET last_used_at = EXCLUDED.last_used_at`, userID, hash, at)
	if err != nil {
		return fmt.Errorf("remember device: %w", err)
	}
	return nil
}

// ForgetDevices removes every known device of the user.
func (db *DB) ForgetDevices(ctx context.Context, userID string) error {
	if _, err := db.x.ExecContext(ctx, `DELETE FROM known_devices WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("forget devices: %w", err)
	}
	return nil
}
