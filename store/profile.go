package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/gigstream/hub/market"
)

// profileDetailsColumns read a user's (alias u) country, lists and avatar upload: their
// latest clean avatar (uploads_avatar_idx).
var profileDetailsColumns = `u.country, to_json(u.languages) AS languages, to_json(u.skills) AS skills,
	(SELECT a.id FROM uploads a WHERE a.owner_id = u.id AND a.kind = 'avatar' AND a.status = 'clean'
	 ORDER BY a.created_at DESC LIMIT 1) AS avatar_id,
	(SELECT ` + pictureColumn("a") + ` FROM uploads a WHERE a.owner_id = u.id AND a.kind = 'avatar' AND a.status = 'clean'
	 ORDER BY a.created_at DESC LIMIT 1) AS avatar_picture`

// profileUserQuery reads the active user with username ($1), the time of their
// latest session activity and their seller record (sellerStats on the user found), in
// one statement: a cold profile's first round trip.
var profileUserQuery = `
	WITH pu AS MATERIALIZED (
		SELECT u.id, u.username, u.display_name, u.bio, u.is_seller, u.created_at,
			(SELECT max(s.last_seen_at) FROM sessions s WHERE s.user_id = u.id) AS last_active_at,
			` + profileDetailsColumns + `
		FROM users u WHERE u.username = $1 AND u.disabled_at IS NULL AND u.deleted_at IS NULL
	), ` + strings.ReplaceAll(sellerStatsCTEs, "$1", "(SELECT id FROM pu)") + `
	SELECT pu.*, ` + strings.ReplaceAll(sellerStatsColumns, "$1", "pu.id") + ` FROM pu`

// ProfileUser returns the active user with username, the time of their latest
// session activity and, for a seller, their record (SellerStats), in one statement; a
// disabled, deleted or unknown user wraps ErrNotFound. The statement is prepared
// (DB.prepare): PostgreSQL plans it once per connection instead of on every cold
// profile, where planning took longer than running it.
func (db *DB) ProfileUser(ctx context.Context, username string) (market.ProfileUser, error) {
	var u market.ProfileUser
	st, err := db.prepare(ctx, profileUserQuery)
	if err != nil {
		return u, fmt.Errorf("profile %s: %w", username, err)
	}
	err = st[0].GetContext(ctx, &u, username)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("profile %s: %w", username, ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("profile %s: %w", username, err)
	}
	return u, nil
}

// ProfileDetails returns the country, lists and avatar upload of userID.
func (db *DB) ProfileDetails(ctx context.Context, userID string) (market.ProfileDetails, error) {
	var d market.ProfileDetails
	err := db.x.GetContext(ctx, &d, `SELECT `+profileDetailsColumns+` FROM users u WHERE u.id = $1`, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("profile details: %w", ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("profile details: %w", err)
	}
	return d, nil
}

// sellerStatsQuery computes a seller's record in one round trip. On time: each order
// that was paid (so has a due time) and whose due time passed or that was delivered,
// judged by its first delivery; cancelled orders without a delivery do not count.
// Response: per conversation of the last 90 days (the 100 latest), the first message
// of someone else and the seller's first message after it.
const sellerStatsQuery = `WITH ` + sellerStatsCTEs + ` SELECT ` + sellerStatsColumns

// sellerStatsCTEs and sellerStatsColumns are sellerStatsQuery's parts, for the seller
// $1; profileUserQuery puts them after its own.
const sellerStatsCTEs = `
	due AS (
		SELECT o.due_at, (SELECT min(d.created_at) FROM deliveries d WHERE d.order_id = o.id) AS delivered
		FROM orders o
		WHERE o.seller_id = $1 AND o.due_at IS NOT NULL
	), judged AS (
		SELECT delivered IS NOT NULL AND delivered <= due_at AS on_time FROM due
		WHERE delivered IS NOT NULL OR due_at < now()
	), asked AS (
		SELECT c.id, (SELECT min(m.created_at) FROM messages m
			WHERE m.conversation_id = c.id AND m.sender_id <> $1) AS at
		FROM conversation_members cm JOIN conversations c ON c.id = cm.conversation_id
		WHERE cm.user_id = $1 AND c.last_activity_at > now() - interval '90 days'
		ORDER BY c.last_activity_at DESC LIMIT 100
	), answered AS (
		SELECT a.at AS asked_at, (SELECT min(m.created_at) FROM messages m
			WHERE m.conversation_id = a.id AND m.sender_id = $1 AND m.created_at >= a.at) AS at
		FROM asked a WHERE a.at IS NOT NULL
	)`

const sellerStatsColumns = `
		(SELECT count(*) FROM orders WHERE seller_id = $1 AND status = 'completed') AS completed_orders,
		(SELECT count(*) FROM reviews WHERE seller_id = $1) AS rating_count,
		(SELECT count(*) FROM gigs WHERE seller_id = $1 AND status = 'published') AS published_gigs,
		(SELECT round(avg(rating), 2)::float8 FROM reviews WHERE seller_id = $1) AS rating_mean,
		(SELECT round(avg(on_time::int), 3)::float8 FROM judged) AS on_time_rate,
		(SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM at - asked_at)))::int8
			FROM answered WHERE at IS NOT NULL) AS response_seconds,
		(SELECT round(avg((at IS NOT NULL)::int), 3)::float8 FROM answered) AS response_rate`

// SellerStats computes the record of sellerID from their orders, reviews and chats.
func (db *DB) SellerStats(ctx context.Context, sellerID string) (market.SellerStats, error) {
	var s market.SellerStats
	if err := db.x.GetContext(ctx, &s, sellerStatsQuery, sellerID); err != nil {
		return s, fmt.Errorf("seller stats: %w", err)
	}
	return s, nil
}

// SellerReviews returns the latest reviews sellerID received on gigs shown now
// (published), newest first, at most limit; the statement is prepared, as
// profileUserQuery is.
func (db *DB) SellerReviews(ctx context.Context, sellerID string, limit int) ([]market.Review, error) {
	list := []market.Review{}
	st, err := db.prepare(ctx, sellerReviewsQuery)
	if err == nil {
		err = st[0].SelectContext(ctx, &list, sellerID, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("seller reviews: %w", err)
	}
	return list, nil
}

// sellerReviewsQuery reads the latest reviews of seller $1 on published gigs, $2 at most.
var sellerReviewsQuery = reviewSelect + `
		JOIN gigs g ON g.id = r.gig_id
		WHERE r.seller_id = $1 AND g.status = 'published'
		ORDER BY r.created_at DESC, r.id DESC LIMIT $2`
