package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/gigstream/hub/market"
)

// prefsRow is the part of the preferences kept on the user's row.
type prefsRow struct {
	HidePreviews bool          `db:"hide_push_previews"`
	QuietStart   sql.NullInt16 `db:"quiet_hours_start"`
	QuietEnd     sql.NullInt16 `db:"quiet_hours_end"`
	TimeZone     string        `db:"time_zone"`
	Language     string        `db:"language"`
}

// NotificationPrefs returns userID's notification preferences; an unknown user wraps
// ErrNotFound.
func (db *DB) NotificationPrefs(ctx context.Context, userID string) (market.NotificationPrefs, error) {
	return loadPrefs(ctx, db.x, userID)
}

// MessagePrefs returns userID's notification preferences for a message in
// conversationID, with ConversationMuted set when they muted it.
func (db *DB) MessagePrefs(ctx context.Context, userID, conversationID string) (market.NotificationPrefs, error) {
	p, err := loadPrefs(ctx, db.x, userID)
	if err != nil {
		return p, err
	}
	err = db.x.GetContext(ctx, &p.ConversationMuted, `SELECT COALESCE((SELECT muted_at IS NOT NULL FROM conversation_members
		WHERE conversation_id = $1 AND user_id = $2), false)`, conversationID, userID)
	if err != nil {
		return p, fmt.Errorf("conversation muted: %w", err)
	}
	return p, nil
}

func loadPrefs(ctx context.Context, q querier, userID string) (market.NotificationPrefs, error) {
	p := market.NotificationPrefs{Off: map[market.Switch]bool{}}
	if !isUUID(userID) {
		return p, fmt.Errorf("notification prefs: %w", ErrNotFound)
	}
	var r prefsRow
	err := q.GetContext(ctx, &r, `SELECT hide_push_previews, quiet_hours_start, quiet_hours_end, time_zone, language
		FROM users WHERE id = $1`, userID)
	if err != nil {
		return p, fmt.Errorf("notification prefs: %w", noRowIsNotFound(err))
	}
	p.HidePreviews, p.Language, p.TimeZone = r.HidePreviews, r.Language, r.TimeZone
	if r.QuietStart.Valid && r.QuietEnd.Valid {
		p.QuietHours = &market.QuietHours{Start: int(r.QuietStart.Int16), End: int(r.QuietEnd.Int16), TimeZone: r.TimeZone}
	}
	var off []struct {
		Category market.NotificationCategory `db:"category"`
		Channel  market.Channel              `db:"channel"`
	}
	if err := q.SelectContext(ctx, &off, `SELECT category, channel FROM notification_preferences
		WHERE user_id = $1 AND NOT enabled`, userID); err != nil {
		return p, fmt.Errorf("notification switches: %w", err)
	}
	for _, s := range off {
		p.Off[market.Switch{Category: s.Category, Channel: s.Channel}] = true
	}
	return p, nil
}

// SetNotificationPrefs applies u to userID's preferences in one transaction and returns
// them all; an unknown user wraps ErrNotFound.
func (db *DB) SetNotificationPrefs(ctx context.Context, userID string, u market.NotificationPrefsUpdate) (market.NotificationPrefs, error) {
	var p market.NotificationPrefs
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := updatePrefsRow(ctx, tx, userID, u); err != nil {
			return err
		}
		for s, on := range u.Switches {
			if _, err := tx.ExecContext(ctx, `INSERT INTO notification_preferences (user_id, category, channel, enabled)
				VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, category, channel) DO UPDATE SET enabled = EXCLUDED.enabled`,
				userID, s.Category, s.Channel, on); err != nil {
				return fmt.Errorf("set notification switch: %w", err)
			}
		}
		var err error
		p, err = loadPrefs(ctx, tx, userID)
		return err
	})
	return p, err
}

func updatePrefsRow(ctx context.Context, tx *sqlx.Tx, userID string, u market.NotificationPrefsUpdate) error {
	setQuiet := u.QuietHours != nil
	var start, end sql.NullInt16
	var zone sql.NullString
	if setQuiet && *u.QuietHours != nil {
		q := *u.QuietHours
		start, end = sql.NullInt16{Int16: int16(q.Start), Valid: true}, sql.NullInt16{Int16: int16(q.End), Valid: true}
		zone = sql.NullString{String: q.TimeZone, Valid: true}
	}
	res, err := tx.ExecContext(ctx, `UPDATE users SET hide_push_previews = COALESCE($2, hide_push_previews),
			language = COALESCE($3, language),
			quiet_hours_start = CASE WHEN $4 THEN $5 ELSE quiet_hours_start END,
			quiet_hours_end = CASE WHEN $4 THEN $6 ELSE quiet_hours_end END,
			time_zone = COALESCE($7, time_zone)
		WHERE id = $1`, userID, u.HidePreviews, u.Language, setQuiet, start, end, zone)
	if err != nil {
		return fmt.Errorf("set notification prefs: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("set notification prefs: %w", ErrNotFound)
	}
	return nil
}

// SetConversationMuted mutes (or unmutes) conversationID for its member userID; a
// conversation userID is not a member of wraps ErrNotFound.
func (db *DB) SetConversationMuted(ctx context.Context, userID, conversationID string, muted bool) error {
	if !isUUID(conversationID) {
		return fmt.Errorf("conversation: %w", ErrNotFound)
	}
	res, err := db.x.ExecContext(ctx, `UPDATE conversation_members SET muted_at = CASE WHEN $3 THEN COALESCE(muted_at, now()) END
		WHERE conversation_id = $1 AND user_id = $2`, conversationID, userID, muted)
	if err != nil {
		return fmt.Errorf("mute conversation: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("conversation: %w", ErrNotFound)
	}
	return nil
}
