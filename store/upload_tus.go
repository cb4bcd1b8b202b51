package store

import (
	"context"
	"database/sql"
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

// Save replaces an upload's state while lease holds it; tus.ErrLeaseLost (wrapped)
// when the upload is leased to someone else or gone.
func (s *TusState) Save(ctx context.Context, u tus.Upload, lease tus.Lease) error {
	raw, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encode tus upload: %w", err)
	}
	res, err := s.db.x.ExecContext(ctx, `
		UPDATE tus_uploads SET status = $2, expires_at = $3, state = $4, updated_at = now()
		WHERE id = $1 AND lease_token = $5`,
		u.ID, u.Status, u.ExpiresAt, raw, lease.Token)
	if err != nil {
		return fmt.Errorf("save tus upload: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: save %s", tus.ErrLeaseLost, u.ID)
	}
	return nil
}

// Delete forgets an upload held under lease, and the uploads row it was filling unless
// that one became clean (a terminated or expired upload leaves nothing behind).
func (s *TusState) Delete(ctx context.Context, id string, lease tus.Lease) error {
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM tus_uploads WHERE id = $1 AND lease_token = $2`, id, lease.Token)
		if err != nil {
			return fmt.Errorf("delete tus upload %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM uploads WHERE tus_id = $1 AND status <> 'clean'`, id); err != nil {
			return fmt.Errorf("delete upload of tus %s: %w", id, err)
		}
		return nil
	})
}

// Acquire leases an upload to lease for lease.TTL from the database's now, unless an
// unexpired lease of someone else holds it (tus.ErrLocked) or it does not exist
// (tus.ErrNotFound). One short statement: no connection, transaction or lock is held
// while the holder works.
func (s *TusState) Acquire(ctx context.Context, id string, lease tus.Lease) error {
	var got string
	err := s.db.x.GetContext(ctx, &got, `
		WITH claimed AS (
			UPDATE tus_uploads SET lease_token = $2, lease_until = now() + $3 * interval '1 millisecond'
			WHERE id = $1 AND (lease_token IS NULL OR lease_until <= now())
			RETURNING 'claimed'::text AS outcome)
		SELECT outcome FROM claimed
		UNION ALL SELECT 'busy' FROM tus_uploads WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM claimed)`,
		id, lease.Token, lease.TTL.Milliseconds())
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: %s", tus.ErrNotFound, id)
	case err != nil:
		return fmt.Errorf("lease tus upload %s: %w", id, err)
	case got != "claimed":
		return fmt.Errorf("%w: %s", tus.ErrLocked, id)
	}
	return nil
}

// Renew extends lease by its TTL from the database's now; tus.ErrLeaseLost when the
// upload is leased to someone else or gone.
func (s *TusState) Renew(ctx context.Context, id string, lease tus.Lease) error {
	res, err := s.db.x.ExecContext(ctx, `
		UPDATE tus_uploads SET lease_until = now() + $3 * interval '1 millisecond'
		WHERE id = $1 AND lease_token = $2`, id, lease.Token, lease.TTL.Milliseconds())
	if err != nil {
		return fmt.Errorf("renew tus lease %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: renew %s", tus.ErrLeaseLost, id)
	}
	return nil
}

// Release ends lease; a lease no longer held is left alone.
func (s *TusState) Release(ctx context.Context, id string, lease tus.Lease) error {
	_, err := s.db.x.ExecContext(ctx, `
		UPDATE tus_uploads SET lease_token = NULL, lease_until = NULL WHERE id = $1 AND lease_token = $2`, id, lease.Token)
	if err != nil {
		return fmt.Errorf("release tus lease %s: %w", id, err)
	}
	return nil
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
