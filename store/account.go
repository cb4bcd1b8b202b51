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

const userColumns = `id, email, username, display_name, bio, is_buyer, is_seller, is_admin,
	email_verified_at, disabled_at, deleted_at, created_at, password_hash`

// CreateUser inserts a user. It returns a conflict Error naming "email" or "username"
// when either is taken.
func (db *DB) CreateUser(ctx context.Context, u market.NewUser) (market.User, error) {
	return insertUser(ctx, db.x, u, false)
}

// insertUser inserts u through q (the pool or a transaction), an admin when admin is
// set; a taken email or username is a conflict Error naming the field.
func insertUser(ctx context.Context, q querier, u market.NewUser, admin bool) (market.User, error) {
	var hash *string
	if u.PasswordHash != "" {
		hash = &u.PasswordHash
	}
	var out market.User
	err := q.GetContext(ctx, &out, `
		INSERT INTO users (email, username, display_name, password_hash, is_buyer, is_seller, email_verified_at, is_admin)
		VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 THEN now() END, $8)
		RETURNING `+userColumns,
		u.Email, u.Username, u.DisplayName, hash, u.IsBuyer, u.IsSeller, u.EmailVerified, admin)
	if err != nil {
		return market.User{}, userConflict(err)
	}
	return out, nil
}

// userConflict turns a unique violation on users into a conflict Error on its field.
func userConflict(err error) error {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) || pqErr.Code != "23505" {
		return fmt.Errorf("write user: %w", err)
	}
	switch pqErr.Constraint {
	case "users_email_key":
		return market.FieldError(market.CodeConflict, "email", "is already registered")
	case "users_username_key":
		return market.FieldError(market.CodeConflict, "username", "is taken")
	}
	return fmt.Errorf("write user: %w", err)
}

// UserByID returns the user with id, or an error wrapping ErrNotFound.
func (db *DB) UserByID(ctx context.Context, id string) (market.User, error) {
	if !isUUID(id) {
		return market.User{}, fmt.Errorf("user %q: %w", id, ErrNotFound)
	}
	return db.getUser(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
}

// UserByEmail returns the user with this (normalized) address, or an error wrapping ErrNotFound.
func (db *DB) UserByEmail(ctx context.Context, email string) (market.User, error) {
	return db.getUser(ctx, `SELECT `+userColumns+` FROM users WHERE lower(email) = $1`, email)
}

func (db *DB) getUser(ctx context.Context, query string, args ...any) (market.User, error) {
	var u market.User
	err := db.x.GetContext(ctx, &u, query, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user: %w", ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// UpdateProfile applies the non-nil fields of p and returns the updated user.
func (db *DB) UpdateProfile(ctx context.Context, id string, p market.ProfileUpdate) (market.User, error) {
	return db.getUser(ctx, `
		UPDATE users SET
			display_name = COALESCE($2, display_name),
			bio          = COALESCE($3, bio),
			is_buyer     = COALESCE($4, is_buyer),
			is_seller    = COALESCE($5, is_seller),
			country      = CASE WHEN $6::text IS NULL THEN country ELSE NULLIF($6, '') END,
			languages    = COALESCE($7::text[], languages),
			skills       = COALESCE($8::text[], skills),
			updated_at   = now()
		WHERE id = $1 AND deleted_at IS NULL
		RETURNING `+userColumns, id, p.DisplayName, p.Bio, p.IsBuyer, p.IsSeller, p.Country, textArray(p.Languages), textArray(p.Skills))
}

// textArray is list as a Postgres text[] parameter, or NULL when list is nil.
func textArray(list *[]string) any {
	if list == nil {
		return nil
	}
	return pq.Array(*list)
}

// SetPasswordHash stores a new password hash.
func (db *DB) SetPasswordHash(ctx context.Context, userID, hash string) error {
	return db.execOne(ctx, `UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, userID, hash)
}

// MarkEmailVerified records that the user proved they own their address, which also
// lifts a suppression of it (a bounce or complaint). An unknown user wraps ErrNotFound.
func (db *DB) MarkEmailVerified(ctx context.Context, userID string) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET email_verified_at = COALESCE(email_verified_at, now()) WHERE id = $1`, userID)
		if err := oneRow(res, err); err != nil {
			return err
		}
		return clearMailSuppression(ctx, tx, userID)
	})
}

// SetEmail changes the address, as verified (which lifts a suppression of the new
// address: a link mailed to it was followed), and voids reset links mailed to the old
// one. It returns a conflict Error when the address is taken.
func (db *DB) SetEmail(ctx context.Context, userID, email string) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE users SET email = $2, email_verified_at = now(), updated_at = now() WHERE id = $1`, userID, email)
		if err != nil {
			return userConflict(err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM one_time_tokens WHERE user_id = $1 AND purpose = 'reset_password' AND used_at IS NULL`, userID)
		if err != nil {
			return fmt.Errorf("void reset tokens: %w", err)
		}
		return clearMailSuppression(ctx, tx, userID)
	})
}

// ReleaseUnverifiedEmail takes the address away from a user who never verified it,
// for a sign-in that proved ownership of that address: the row keeps its data under a
// placeholder address nobody can receive mail at, and every link mailed for it
// (verification, reset, e-mail change) is voided, so nothing of the earlier holder
// reaches the address's owner. It returns an error wrapping ErrNotFound when the user
// does not exist or verified the address in the meantime.
func (db *DB) ReleaseUnverifiedEmail(ctx context.Context, userID string) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET email = 'released-' || id || '@released.invalid', updated_at = now()
			WHERE id = $1 AND email_verified_at IS NULL AND deleted_at IS NULL`, userID)
		if err := oneRow(res, err); err != nil {
			return fmt.Errorf("release e-mail: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM one_time_tokens WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("release e-mail: void tokens: %w", err)
		}
		return nil
	})
}

// SetAdmin grants or revokes the admin role of the user with email.
func (db *DB) SetAdmin(ctx context.Context, email string, admin bool) (market.User, error) {
	return db.getUser(ctx, `UPDATE users SET is_admin = $2, updated_at = now() WHERE lower(email) = $1 RETURNING `+userColumns, email, admin)
}

// MakeFirstAdmin makes the deployment's first admin, in one transaction that holds
// the deployment-wide bootstrap lock (waiting for it at most the connection's
// lock_timeout, then a busy error), so two
// bootstraps with different addresses at once cannot both succeed: when an active
// admin other than email exists it returns a conflict Error and writes nothing.
// Otherwise, with create nil, the active account of email becomes an admin (none
// wraps ErrNotFound); with create set, that account is inserted as an admin (a taken
// email or username is a conflict Error naming the field, as CreateUser).
func (db *DB) MakeFirstAdmin(ctx context.Context, email string, create *market.NewUser) (market.User, error) {
	var out market.User
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('bootstrap-admin', 0))`); err != nil {
			return fmt.Errorf("bootstrap lock: %w", err)
		}
		var other string
		err := tx.GetContext(ctx, &other, `SELECT email FROM users
			WHERE is_admin AND disabled_at IS NULL AND deleted_at IS NULL AND lower(email) <> $1
			ORDER BY created_at, id LIMIT 1`, email)
		if err == nil {
			return market.Errorf(market.CodeConflict, "an admin exists already (%s): grant more with `gigstream admin grant EMAIL`", other)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find admin: %w", err)
		}
		if create == nil {
			err = tx.GetContext(ctx, &out, `UPDATE users SET is_admin = true, updated_at = now()
				WHERE lower(email) = $1 AND disabled_at IS NULL AND deleted_at IS NULL RETURNING `+userColumns, email)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("active user %s: %w", email, ErrNotFound)
			}
			if err != nil {
				return fmt.Errorf("grant admin: %w", err)
			}
			return nil
		}
		out, err = insertUser(ctx, tx, *create, true)
		return err
	})
	return out, err
}

// AnyAdmin returns the oldest admin that is neither disabled nor deleted; none wraps
// ErrNotFound.
func (db *DB) AnyAdmin(ctx context.Context) (market.User, error) {
	return db.getUser(ctx, `SELECT `+userColumns+` FROM users
		WHERE is_admin AND disabled_at IS NULL AND deleted_at IS NULL ORDER BY created_at, id LIMIT 1`)
}

// SetDisabled disables or re-enables the user with email.
func (db *DB) SetDisabled(ctx context.Context, email string, disabled bool) (market.User, error) {
	return db.getUser(ctx, `
		UPDATE users SET disabled_at = CASE WHEN $2 THEN COALESCE(disabled_at, now()) END, updated_at = now()
		WHERE lower(email) = $1 RETURNING `+userColumns, email, disabled)
}

// execOne runs a statement that must touch exactly one row; none is ErrNotFound.
func (db *DB) execOne(ctx context.Context, query string, args ...any) error {
	res, err := db.x.ExecContext(ctx, query, args...)
	return oneRow(res, err)
}

func oneRow(res sql.Result, err error) error {
	if err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("row: %w", ErrNotFound)
	}
	return nil
}

var _ market.AccountStore = (*DB)(nil)
