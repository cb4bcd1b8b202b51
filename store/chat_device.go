package store

import (
	"context"
	"fmt"

	"github.com/gigstream/hub/market"
)

// UpsertDevice registers a push token for userID; registering the same token again
// updates it (and moves it to userID, since a phone changes hands on sign-in).
func (db *DB) UpsertDevice(ctx context.Context, userID string, d market.Device) error {
	_, err := db.x.ExecContext(ctx, `
		INSERT INTO device_tokens (token, user_id, platform, app_version) VALUES ($1, $2, $3, $4)
		ON CONFLICT (token) DO UPDATE SET user_id = $2, platform = $3, app_version = $4, updated_at = now()`,
		d.Token, userID, d.Platform, d.AppVersion)
	if err != nil {
		return fmt.Errorf("register device: %w", err)
	}
	return nil
}

// DeleteDevice removes one of userID's tokens; another user's token is not found.
func (db *DB) DeleteDevice(ctx context.Context, userID, token string) error {
	return db.execOne(ctx, `DELETE FROM device_tokens WHERE token = $1 AND user_id = $2`, token, userID)
}

// Devices lists userID's push tokens.
func (db *DB) Devices(ctx context.Context, userID string) ([]market.Device, error) {
	out := []market.Device{}
	err := db.x.SelectContext(ctx, &out, `SELECT token, platform, app_version FROM device_tokens WHERE user_id = $1`, userID)
	if err != nil {
		return nil, fmt.Errorf("devices: %w", err)
	}
	return out, nil
}

// DeleteDeviceToken removes a token the push service reported dead; a token already
// gone is not an error.
func (db *DB) DeleteDeviceToken(ctx context.Context, token string) error {
	if _, err := db.x.ExecContext(ctx, `DELETE FROM device_tokens WHERE token = $1`, token); err != nil {
		return fmt.Errorf("delete device token: %w", err)
	}
	return nil
}

// SetHidePreviews sets whether pushes to userID show message text.
func (db *DB) SetHidePreviews(ctx context.Context, userID string, hide bool) error {
	return db.execOne(ctx, `UPDATE users SET hide_push_previews = $2 WHERE id = $1`, userID, hide)
}
