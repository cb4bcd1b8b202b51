package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gigstream/hub/media/tus"
)

// TusState keeps the state of resumable uploads in Postgres (tus.StateStore). Each
// upload is one tus_uploads row: the engine's Upload as JSON plus the columns queries
// filter on.
type TusState struct{ db *DB }

// TusState returns the tus state store on db.
func (db *DB) TusState() *TusState { return &TusState{db: db} }

var _ tus.StateStore = (*TusState)(nil)

// Create records a new upload.
func (s *TusState) Create(ctx context.Context, u tus.Upload) error {
	raw, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encode tus upload: %w", err)
	}
	_, err = s.db.x.ExecContext(ctx, `
		INSERT INTO tus_uploads (id, owner_id, status, expires_at, state) VALUES ($1, $2, $3, $4, $5)`,
		u.ID, u.Owner, u.Status, u.ExpiresAt, raw)
	if err != nil {
		return fmt.Errorf("create tus upload: %w", err)
	}
	return nil
}

// Get returns an upload, or wraps tus.ErrNotFound.
func (s *TusState) Get(ctx context.Context, id string) (tus.Upload, error) {
	var raw []byte
	err := s.db.x.GetContext(ctx, &raw, `SELECT state FROM tus_uploads WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return tus.Upload{}, fmt.Errorf("%w: %s", tus.ErrNotFound, id)
	}
	if err != nil {
		return tus.Upload{}, fmt.Errorf("tus upload %s: %w", id, err)
	}
	var u tus.Upload
	if err := json.Unmarshal(raw, &u); err != nil {
		return tus.Upload{}, fmt.Errorf("decode tus upload %s: %w", id, err)
	}
	return u, nil
}

// Save replaces an upload's state.
func (s *TusState) Save(ctx context.Context, u tus.Upload) error {
	raw, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encode tus upload: %w", err)
	}
	res, err := s.db.x.ExecContext(ctx, `
		UPDATE tus_uploads SET status = $2, expires_at = $3, state = $4, updated_at = now() WHERE id = $1`,
		u.ID, u.Status, u.ExpiresAt, raw)
	if err != nil {
		return fmt.Errorf("save tus upload: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", tus.ErrNotFound, u.ID)
	}
	return nil
}

// Delete forgets an upload, and the uploads row it was filling unless that one became
// clean (a terminated or expired upload leaves nothing behind).
func (s *TusState) Delete(ctx context.Context, id string) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM uploads WHERE tus_id = $1 AND status <> 'clean'`, id); err != nil {
			return fmt.Errorf("delete upload of tus %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM tus_uploads WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete tus upload %s: %w", id, err)
		}
		return nil
	})
}

// Lock serializes requests on one upload across nodes with a session-level advisory
// lock held on a connection of its own until release. No transaction stays open while
// a PATCH streams (possibly for many minutes): an open transaction would hold back
// vacuum and the notification router, which reads only below the oldest running
// transaction. If the node dies mid-request its connection closes and the lock with
// it; if unlocking fails, the connection is discarded rather than pooled.
func (s *TusState) Lock(ctx context.Context, id string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("lock tus upload %s: %w", id, err)
	}
	conn, err := s.db.x.Conn(context.WithoutCancel(ctx))
	if err != nil {
		return nil, fmt.Errorf("lock tus upload %s: connection: %w", id, err)
	}
	const key = `hashtextextended('tus:' || $1, 0)`
	discard := func() {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		_ = conn.Close()
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+key+`)`, id); err != nil {
		discard() // a cancelled wait may still be granted server-side: never pool this one
		return nil, fmt.Errorf("lock tus upload %s: %w", id, err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var unlocked bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock(`+key+`)`, id).Scan(&unlocked); err != nil || !unlocked {
			discard()
			return
		}
		_ = conn.Close()
	}, nil
}

// Expired lists uploads still uploading whose expiry is before t.
func (s *TusState) Expired(ctx context.Context, t time.Time) ([]tus.Upload, error) {
	return s.list(ctx, "expired", `
		SELECT id FROM tus_uploads WHERE status = 'uploading' AND expires_at < $1 ORDER BY expires_at LIMIT 500`, t)
}

// Stalled lists uploads waiting for their verdict (status scanning) since before t.
func (s *TusState) Stalled(ctx context.Context, t time.Time) ([]tus.Upload, error) {
	return s.list(ctx, "stalled", `
		SELECT id FROM tus_uploads WHERE status = 'scanning' AND updated_at < $1 ORDER BY updated_at LIMIT 500`, t)
}

// list loads the uploads whose ids query selects; one deleted meanwhile is left out.
func (s *TusState) list(ctx context.Context, what, query string, t time.Time) ([]tus.Upload, error) {
	var ids []string
	if err := s.db.x.SelectContext(ctx, &ids, query, t); err != nil {
		return nil, fmt.Errorf("%s tus uploads: %w", what, err)
	}
	out := make([]tus.Upload, 0, len(ids))
	for _, id := range ids {
		u, err := s.Get(ctx, id)
		if err != nil && !errors.Is(err, tus.ErrNotFound) {
			return nil, err
		}
		if err == nil {
			out = append(out, u)
		}
	}
	return out, nil
}
