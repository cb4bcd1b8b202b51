package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

// AnonymizeUser deletes the user's account in one transaction and returns the ids of
// the sessions it ended. The user row stays, anonymized, so that money records
// (orders, the ledger, review ratings) keep their owner; published gigs are paused,
// sessions, one-time tokens, identities, device tokens and notifications removed, and
// so are the user's uploads that no order needs (see removeOwnUploads), whose objects
// an ObjectDeleteJob queued in the same transaction deletes after the commit. It
// returns market.DeletionBlockers' conflict Error while money is in flight, and an
// error wrapping ErrNotFound when the user does not exist or is already deleted.
func (db *DB) AnonymizeUser(ctx context.Context, userID string) ([]string, error) {
	var ended []string
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := lockLiveUser(ctx, tx, userID); err != nil {
			return err
		}
		// Pausing before the check takes the gigs' row locks, which order placement's
		// FOR SHARE waits on: no order can slip in between the check and the commit.
		if _, err := tx.ExecContext(ctx, `UPDATE gigs SET status = 'paused', updated_at = now()
			WHERE seller_id = $1 AND status = 'published'`, userID); err != nil {
			return fmt.Errorf("anonymize: pause gigs: %w", err)
		}
		if err := refuseWhileMoneyMoves(ctx, tx, userID); err != nil {
			return err
		}
		if err := tx.SelectContext(ctx, &ended, `DELETE FROM sessions WHERE user_id = $1 RETURNING id`, userID); err != nil {
			return fmt.Errorf("anonymize: sessions: %w", err)
		}
		if err := removeOwnUploads(ctx, tx, userID); err != nil {
			return err
		}
		return anonymizeRow(ctx, tx, userID)
	})
	return ended, err
}

// lockLiveUser locks the user's row for the deletion; a missing or deleted user wraps
// ErrNotFound. The lock also waits for in-flight inserts that reference the user.
func lockLiveUser(ctx context.Context, tx *sqlx.Tx, userID string) error {
	var id string
	err := tx.GetContext(ctx, &id, `SELECT id FROM users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, userID)
	if err != nil {
		return fmt.Errorf("anonymize: %w", noRowIsNotFound(err))
	}
	return nil
}

// refuseWhileMoneyMoves returns the conflict Error of market.DeletionBlockers.Refusal.
func refuseWhileMoneyMoves(ctx context.Context, tx *sqlx.Tx, userID string) error {
	var b market.DeletionBlockers
	err := tx.GetContext(ctx, &b, `SELECT
		(SELECT count(*) FROM orders WHERE (buyer_id = $1 OR seller_id = $1)
			AND status NOT IN ('completed', 'cancelled')) AS open_orders,
		(SELECT COALESCE(sum(abs(balance_minor)), 0)::bigint FROM ledger_balances
			WHERE account IN ('seller:' || $1::text || ':pending', 'seller:' || $1::text || ':available')) AS balance_minor,
		(SELECT count(*) FROM withdrawals WHERE user_id = $1 AND status IN ('pending', 'review', 'in_transit')) AS pending_withdrawals,
		(SELECT COALESCE(sum(abs(balance_minor)), 0)::bigint FROM ledger_balances
			WHERE account = 'seller:' || $1::text || ':debt') AS debt_minor,
		(SELECT count(*) FROM payment_reversals r JOIN orders o ON o.id = r.order_id
			WHERE r.status = 'open' AND (o.buyer_id = $1 OR o.seller_id = $1)) AS open_chargebacks`, userID)
	if err != nil {
		return fmt.Errorf("anonymize: blockers: %w", err)
	}
	return b.Refusal()
}

// anonymizeRow overwrites the user's personal fields and removes what hangs off them.
func anonymizeRow(ctx context.Context, tx *sqlx.Tx, userID string) error {
	res, err := tx.ExecContext(ctx, `
		UPDATE users SET
			email = 'deleted-' || id || '@deleted.invalid',
			username = 'deleted_' || substr(md5(id::text), 1, 20),
			display_name = 'Deleted user', bio = '', password_hash = NULL,
			is_admin = false, deleted_at = now(), updated_at = now()
		WHERE id = $1 AND deleted_at IS NULL`, userID)
	if err := oneRow(res, err); err != nil {
		return err
	}
	for _, q := range []string{
		`DELETE FROM one_time_tokens WHERE user_id = $1`,
		`DELETE FROM user_identities WHERE user_id = $1`,
		`DELETE FROM device_tokens WHERE user_id = $1`,
		`DELETE FROM known_devices WHERE user_id = $1`,
		`DELETE FROM notifications WHERE user_id = $1`,
		`DELETE FROM billing_profiles WHERE user_id = $1`,
		`DELETE FROM favorites WHERE user_id = $1`,
		`DELETE FROM saved_searches WHERE user_id = $1`,
	} {
		if _, err := tx.ExecContext(ctx, q, userID); err != nil {
			return fmt.Errorf("anonymize: %w", err)
		}
	}
	return nil
}

// removeOwnUploads deletes the rows of the user's finished uploads (clean or rejected)
// that no order needs, and queues an ObjectDeleteJob for their objects (originals,
// video posters and renditions) in tx: the job exists only once the deletion commits,
// so no object is deleted for a deletion that rolled back, and river retries a failed
// S3 delete. An order needs a deliverable attached to an order or to a delivery, and an
// attachment sent in an order's conversation (the record of the order, and its
// evidence in a dispute); those stay, served only as before (to the order's buyer and
// the conversation's members). Everything else goes: the avatar, gig images and videos
// (the gigs are paused and their seller gone), attachments of direct conversations,
// deliverables never delivered.
//
// Uploads still in flight go too (see removeUploadsInFlight).
func removeOwnUploads(ctx context.Context, tx *sqlx.Tx, userID string) error {
	var keys pq.StringArray
	err := tx.GetContext(ctx, &keys, `
		WITH gone AS (
			DELETE FROM uploads u WHERE u.owner_id = $1 AND u.status IN ('clean', 'rejected')
				AND u.order_id IS NULL
				AND NOT EXISTS (SELECT 1 FROM delivery_files f WHERE f.upload_id = u.id)
				AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = u.conversation_id AND c.kind = 'order')
			RETURNING u.object_key, u.poster_key, u.rendition_key, `+variantKeys("u")+` AS variant_keys)
		SELECT COALESCE(array_agg(k) FILTER (WHERE k IS NOT NULL), '{}')
		FROM gone, unnest(ARRAY[object_key, poster_key, rendition_key] || variant_keys) AS k`, userID)
	if err != nil {
		return fmt.Errorf("anonymize: uploads: %w", err)
	}
	if err := removeUploadsInFlight(ctx, tx, userID); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	return insertJob(ctx, tx, ObjectDeleteJob{Keys: keys})
}

// removeUploadsInFlight deletes the rows of the user's uploads that have no verdict
// yet (a body still streaming, a tus upload between PATCHes or being scanned) and
// makes their unfinished tus uploads expire now. Nothing of them can be kept: a body
// that finishes after the deletion finds no row to settle, and its object is deleted
// there and then (Uploads.Settle removes the object of an upload it cannot record); the
// tus expiry sweep (every five minutes on each node, see TUS_EXPIRY) terminates the
// expired tus uploads, removing their parts and tail, once no request holds them. A
// new request cannot start one: the user's sessions and tokens are gone.
func removeUploadsInFlight(ctx context.Context, tx *sqlx.Tx, userID string) error {
	_, err := tx.ExecContext(ctx, `
		WITH gone AS (
			DELETE FROM uploads WHERE owner_id = $1 AND status IN ('uploading', 'scanning') RETURNING tus_id)
		UPDATE tus_uploads SET expires_at = now(), updated_at = now()
		WHERE id IN (SELECT tus_id FROM gone WHERE tus_id IS NOT NULL) AND status = 'uploading'`, userID)
	if err != nil {
		return fmt.Errorf("anonymize: uploads in flight: %w", err)
	}
	return nil
}
