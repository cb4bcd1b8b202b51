package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/gigstream/hub/market"
)

const uploadColumns = `id, owner_id, kind, status, object_key, size, sha256, content_type, filename,
	rejection, signature, gig_id, conversation_id, order_id, created_at, updated_at,
	video_status, duration_ms, video_error, poster_key, rendition_key,
	image_status, image_width, image_height, placeholder, image_error`

// uploadEvent is the data of an upload.status event: the upload as its owner sees it.
type uploadEvent struct {
	market.Upload
	Status market.UploadStatus `json:"status"`
	Error  string              `json:"error,omitempty"`
}

// CreateUpload records a new upload as uploading, with its upload.status event.
func (db *DB) CreateUpload(ctx context.Context, in market.NewUpload) (market.Upload, market.Event, error) {
	var u market.Upload
	var ev market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &u, `
			INSERT INTO uploads (owner_id, kind, filename, gig_id, conversation_id, order_id)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+uploadColumns,
			in.OwnerID, in.Kind, in.Filename, in.GigID, in.ConversationID, in.OrderID)
		if err != nil {
			return fmt.Errorf("create upload: %w", err)
		}
		ev, err = appendUploadEvent(ctx, tx, u, "")
		return err
	})
	return u, ev, err
}

// MarkUploadScanning moves an uploading upload to scanning; it returns no event when
// the upload was not uploading. A missing upload wraps ErrNotFound.
func (db *DB) MarkUploadScanning(ctx context.Context, id string) (market.Upload, []market.Event, error) {
	var u market.Upload
	var events []market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &u, `
			UPDATE uploads SET status = 'scanning', updated_at = now()
			WHERE id = $1 AND status = 'uploading' RETURNING `+uploadColumns, id)
		if errors.Is(err, sql.ErrNoRows) {
			u, err = uploadIn(ctx, tx, id)
			return err
		}
		if err != nil {
			return fmt.Errorf("mark upload scanning: %w", err)
		}
		ev, err := appendUploadEvent(ctx, tx, u, "")
		events = append(events, ev)
		return err
	})
	return u, events, err
}

// SettleUpload makes an unfinished upload clean and points it to obj, with the event,
// in one transaction; a video is marked pending and its probe job queued in that same
// transaction, or failed at once when its owner has too many videos pending (see
// startVideo); a gig image or avatar is marked pending and its ImageJob queued (see
// startImage). A missing or already finished upload wraps ErrNotFound.
func (db *DB) SettleUpload(ctx context.Context, id string, obj market.StoredObject) (market.Upload, market.Event, error) {
	return db.finishUpload(ctx, id, db.startMedia, `
		UPDATE uploads SET status = 'clean', object_key = $2, size = $3, sha256 = $4,
			content_type = $5, filename = $6, updated_at = now()
		WHERE id = $1 AND status IN ('uploading', 'scanning') RETURNING `+uploadColumns,
		id, obj.Key, obj.Size, obj.SHA256, obj.ContentType, obj.Filename)
}

// RejectUpload makes an unfinished upload rejected with why, with the event. A missing
// or already finished upload wraps ErrNotFound.
func (db *DB) RejectUpload(ctx context.Context, id, reason, signature string) (market.Upload, market.Event, error) {
	return db.finishUpload(ctx, id, nil, `
		UPDATE uploads SET status = 'rejected', rejection = $2, signature = NULLIF($3, ''), updated_at = now()
		WHERE id = $1 AND status IN ('uploading', 'scanning') RETURNING `+uploadColumns,
		id, reason, signature)
}

// finishUpload runs query on the upload, then (when not nil) then on the row, then
// stores the event, all in one transaction.
func (db *DB) finishUpload(ctx context.Context, id string, then func(context.Context, *sqlx.Tx, *market.Upload) error,
	query string, args ...any) (market.Upload, market.Event, error) {
	var u market.Upload
	var ev market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &u, query, args...)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("unfinished upload %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("finish upload: %w", err)
		}
		if then != nil {
			if err := then(ctx, tx, &u); err != nil {
				return err
			}
		}
		ev, err = appendUploadEvent(ctx, tx, u, "")
		return err
	})
	return u, ev, err
}

// RemoveUpload deletes an upload that never became clean, with an upload.status event
// whose status is failed and whose error is reason. A clean or missing upload wraps
// ErrNotFound.
func (db *DB) RemoveUpload(ctx context.Context, id, reason string) (market.Event, error) {
	var ev market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var u market.Upload
		err := tx.GetContext(ctx, &u, `DELETE FROM uploads WHERE id = $1 AND status <> 'clean' RETURNING `+uploadColumns, id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("unfinished upload %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("remove upload: %w", err)
		}
		u.Status = market.UploadFailed
		ev, err = appendUploadEvent(ctx, tx, u, reason)
		return err
	})
	return ev, err
}

// LinkResumable records the tus upload that fills upload id.
func (db *DB) LinkResumable(ctx context.Context, id, tusID string) error {
	res, err := db.x.ExecContext(ctx, `UPDATE uploads SET tus_id = $2 WHERE id = $1`, id, tusID)
	if err != nil {
		return fmt.Errorf("link tus upload: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("upload %s: %w", id, ErrNotFound)
	}
	return nil
}

// UploadByResumable returns the upload a tus upload fills, or wraps ErrNotFound.
func (db *DB) UploadByResumable(ctx context.Context, tusID string) (market.Upload, error) {
	var u market.Upload
	err := db.x.GetContext(ctx, &u, `SELECT `+uploadColumns+` FROM uploads WHERE tus_id = $1`, tusID)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("upload of tus %s: %w", tusID, ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("upload of tus %s: %w", tusID, err)
	}
	return u, nil
}

// Upload returns one upload, or wraps ErrNotFound (also for a malformed id).
func (db *DB) Upload(ctx context.Context, id string) (market.Upload, error) {
	if !isUUID(id) {
		return market.Upload{}, fmt.Errorf("upload %q: %w", id, ErrNotFound)
	}
	return uploadIn(ctx, db.x, id)
}

func uploadIn(ctx context.Context, q querier, id string) (market.Upload, error) {
	var u market.Upload
	err := q.GetContext(ctx, &u, `SELECT `+uploadColumns+` FROM uploads WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("upload %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("upload %s: %w", id, err)
	}
	return u, nil
}

// GigForUpload returns a gig's seller and whether it is public: published, by a seller
// neither disabled nor deleted (so a disabled seller's media stop being served the
// moment the account is disabled). It wraps ErrNotFound (also for a malformed id).
func (db *DB) GigForUpload(ctx context.Context, gigID string) (string, bool, error) {
	if !isUUID(gigID) {
		return "", false, fmt.Errorf("gig %q: %w", gigID, ErrNotFound)
	}
	var row struct {
		SellerID string `db:"seller_id"`
		Status   string `db:"status"`
	}
	err := db.x.GetContext(ctx, &row, `SELECT g.seller_id,
		CASE WHEN u.disabled_at IS NULL AND u.deleted_at IS NULL THEN g.status ELSE 'seller_inactive' END AS status
		FROM gigs g JOIN users u ON u.id = g.seller_id WHERE g.id = $1`, gigID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, fmt.Errorf("gig %s: %w", gigID, ErrNotFound)
	}
	if err != nil {
		return "", false, fmt.Errorf("gig %s: %w", gigID, err)
	}
	return row.SellerID, row.Status == "published", nil
}

// OwnerActive reports whether userID is a user neither disabled nor deleted; an avatar
// is public only while its owner is. A missing user is false, not an error.
func (db *DB) OwnerActive(ctx context.Context, userID string) (bool, error) {
	var active bool
	err := db.x.GetContext(ctx, &active, `SELECT EXISTS (SELECT 1 FROM users
		WHERE id = $1 AND disabled_at IS NULL AND deleted_at IS NULL)`, userID)
	if err != nil {
		return false, fmt.Errorf("owner %s: %w", userID, err)
	}
	return active, nil
}

// appendUploadEvent stores the upload.status event of u on its owner's channel.
func appendUploadEvent(ctx context.Context, tx *sqlx.Tx, u market.Upload, reason string) (market.Event, error) {
	return appendEvent(ctx, tx, market.UserChannel(u.OwnerID), "upload.status", uploadEvent{Upload: u, Status: u.Status, Error: reason})
}

var _ market.UploadStore = (*DB)(nil)
