package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

const (
	notificationColumns = `id, user_id, kind, title, body, link, order_id, created_at, read_at`
)

// Notifications returns up to limit of userID's notifications, newest first, older
// than before when it is set, with the number still unread.
func (db *DB) Notifications(ctx context.Context, userID string, before *market.PageKey, limit int) (market.NotificationPage, error) {
	page := market.NotificationPage{Notifications: []market.Notification{}}
	var err error
	if before == nil {
		err = db.x.SelectContext(ctx, &page.Notifications, `SELECT `+notificationColumns+` FROM notifications
			WHERE user_id = $1 AND in_app ORDER BY created_at DESC, id DESC LIMIT $2`, userID, limit)
	} else {
		err = db.x.SelectContext(ctx, &page.Notifications, `SELECT `+notificationColumns+` FROM notifications
			WHERE user_id = $1 AND in_app AND (created_at, id) < ($2, $3) ORDER BY created_at DESC, id DESC LIMIT $4`,
			userID, before.At, before.ID, limit)
	}
	if err != nil {
		return page, fmt.Errorf("notifications: %w", err)
	}
	page.UnreadCount, err = unreadCount(ctx, db.x, userID)
	return page, err
}

func unreadCount(ctx context.Context, q querier, userID string) (int, error) {
	var n int
	if err := q.GetContext(ctx, &n, `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL AND in_app`, userID); err != nil {
		return 0, fmt.Errorf("unread notifications: %w", err)
	}
	return n, nil
}

// readEvent is the data of notifications.read on the user's channel.
type readEvent struct {
	IDs         []string `json:"ids,omitempty"`
	All         bool     `json:"all,omitempty"`
	UnreadCount int      `json:"unread_count"`
}

// MarkNotificationsRead marks ids of userID read, or all of them, and stores
// notifications.read with the new unread count on the user's channel. An id that is
// not one of userID's notifications wraps ErrNotFound, and nothing is marked.
func (db *DB) MarkNotificationsRead(ctx context.Context, userID string, ids []string, all bool) (int, market.Event, error) {
	var unread int
	var ev market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		// Markers of one user serialize on their channel, so announced counts come in order.
		if err := lockChannel(ctx, tx, market.UserChannel(userID)); err != nil {
			return err
		}
		if !all {
			var mine int
			if err := tx.GetContext(ctx, &mine, `SELECT count(*) FROM notifications WHERE user_id = $1 AND id = ANY($2::uuid[])`,
				userID, pq.Array(ids)); err != nil {
				return fmt.Errorf("own notifications: %w", err)
			}
			if mine != len(uniqueStrings(ids)) {
				return fmt.Errorf("notification of another user: %w", ErrNotFound)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE notifications SET read_at = now()
			WHERE user_id = $1 AND read_at IS NULL AND ($2 OR id = ANY($3::uuid[]))`, userID, all, pq.Array(ids)); err != nil {
			return fmt.Errorf("mark notifications read: %w", err)
		}
		var err error
		if unread, err = unreadCount(ctx, tx, userID); err != nil {
			return err
		}
		ev, err = appendEvent(ctx, tx, market.UserChannel(userID), "notifications.read", readEvent{IDs: ids, All: all, UnreadCount: unread})
		return err
	})
	return unread, ev, err
}

// noRowIsNotFound turns "no row" into ErrNotFound.
func noRowIsNotFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

func uniqueStrings(list []string) map[string]bool {
	set := make(map[string]bool, len(list))
	for _, s := range list {
		set[s] = true
	}
	return set
}

// NotificationEmail returns what the e-mail of notification id needs: the notification,
// its recipient's address and preferences, and the order's gig title. An unknown
// notification wraps ErrNotFound.
func (db *DB) NotificationEmail(ctx context.Context, id string) (market.NotificationEmail, error) {
	var m market.NotificationEmail
	if !isUUID(id) {
		return m, fmt.Errorf("notification %q: %w", id, ErrNotFound)
	}
	err := db.x.GetContext(ctx, &m, `SELECT n.id, n.user_id, n.kind, n.title, n.body, n.link, n.order_id, n.created_at, n.read_at, n.facts,
			u.email, u.display_name, u.email_verified_at IS NOT NULL AS email_verified,
			u.deleted_at IS NOT NULL OR u.disabled_at IS NOT NULL AS gone,
			COALESCE(o.gig_title, '') AS gig_title
		FROM notifications n JOIN users u ON u.id = n.user_id LEFT JOIN orders o ON o.id = n.order_id
		WHERE n.id = $1`, id)
	if err != nil {
		return m, fmt.Errorf("notification e-mail %s: %w", id, noRowIsNotFound(err))
	}
	m.Prefs, err = loadPrefs(ctx, db.x, m.UserID)
	return m, err
}

var _ market.NotificationStore = (*DB)(nil)
