package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gigstream/hub/market"
)

const sessionColumns = `id, user_id, token_hash, csrf_token, kind, user_agent, ip, created_at, last_seen_at, expires_at`

// CreateSession stores a new session and returns it with its id.
func (db *DB) CreateSession(ctx context.Context, s market.Session) (market.Session, error) {
	var out market.Session
	err := db.x.GetContext(ctx, &out, `
		INSERT INTO sessions (token_hash, user_id, csrf_token, kind, user_agent, ip, created_at, last_seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		RETURNING `+sessionColumns,
		s.TokenHash, s.UserID, s.CSRFToken, s.Kind, s.UserAgent, s.IP, s.CreatedAt, s.LastSeenAt, s.ExpiresAt)
	if err != nil {
		return out, fmt.Errorf("create session: %w", err)
	}
	return out, nil
}

var sessionWithUserQuery = `SELECT ` + prefixed("s.", sessionColumns) + `, ` + aliased("u.", "u.", userColumns) + `
	FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`

// SessionWithUser returns the session whose token hashes to hash together with its
// user, in one query (every authenticated request makes it, so it is prepared), or an
// error wrapping ErrNotFound.
func (db *DB) SessionWithUser(ctx context.Context, hash []byte) (market.Session, market.User, error) {
	var row struct {
		market.Session
		U market.User `db:"u"`
	}
	st, err := db.prepare(ctx, sessionWithUserQuery)
	if err != nil {
		return market.Session{}, market.User{}, err
	}
	err = db.x.stmtGet(ctx, st[0], &row, hash)
	if errors.Is(err, sql.ErrNoRows) {
		return market.Session{}, market.User{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return market.Session{}, market.User{}, fmt.Errorf("get session: %w", err)
	}
	return row.Session, row.U, nil
}

// TouchSession records that the session was used at at.
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	return db.execOne(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id = $1`, id, at)
}

// ListSessions returns the user's unexpired sessions used since seenSince, newest first.
func (db *DB) ListSessions(ctx context.Context, userID string, seenSince time.Time) ([]market.Session, error) {
	out := []market.Session{}
	err := db.x.SelectContext(ctx, &out, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = $1 AND expires_at > now() AND last_seen_at > $2 ORDER BY created_at DESC`, userID, seenSince)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// DeleteSession ends one session of userID. A session of another user is not found,
// exactly like an unknown one.
func (db *DB) DeleteSession(ctx context.Context, userID, sessionID string) error {
	if !isUUID(sessionID) {
		return fmt.Errorf("session %q: %w", sessionID, ErrNotFound)
	}
	return db.execOne(ctx, `DELETE FROM sessions WHERE id = $1 AND user_id = $2`, sessionID, userID)
}

// DeleteSessions ends every session of userID except exceptID ("" for none) and
// returns the ids of those that ended.
func (db *DB) DeleteSessions(ctx context.Context, userID, exceptID string) ([]string, error) {
	ended := []string{}
	err := db.x.SelectContext(ctx, &ended, `DELETE FROM sessions WHERE user_id = $1 AND id::text <> $2 RETURNING id`, userID, exceptID)
	if err != nil {
		return nil, fmt.Errorf("delete sessions: %w", err)
	}
	return ended, nil
}
