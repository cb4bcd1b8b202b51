package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

var _ market.TwoFactorStore = (*DB)(nil)

const twoFactorColumns = `user_id, secret_sealed, enabled_at, last_step, failures, locked_until,
	(SELECT count(*) FROM two_factor_recovery_codes r WHERE r.user_id = two_factor.user_id AND r.used_at IS NULL) AS recovery_left`

// TwoFactor returns the user's enrolment, or an error wrapping ErrNotFound.
func (db *DB) TwoFactor(ctx context.Context, userID string) (market.TwoFactorRecord, error) {
	var rec market.TwoFactorRecord
	err := db.x.GetContext(ctx, &rec, `SELECT `+twoFactorColumns+` FROM two_factor WHERE user_id = $1`, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, fmt.Errorf("two-factor of %s: %w", userID, market.ErrNotFound)
	}
	if err != nil {
		return rec, fmt.Errorf("two-factor of %s: %w", userID, err)
	}
	return rec, nil
}

// BeginTwoFactor stores a pending enrolment with a new sealed secret, replacing an
// earlier pending one. It returns a conflict naming two_factor when one is enabled.
func (db *DB) BeginTwoFactor(ctx context.Context, userID string, sealed []byte) error {
	res, err := db.x.ExecContext(ctx, `INSERT INTO two_factor (user_id, secret_sealed) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, last_step = 0, failures = 0,
			locked_until = NULL, updated_at = now()
		WHERE two_factor.enabled_at IS NULL`, userID, sealed)
	if err != nil {
		return fmt.Errorf("begin two-factor: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return market.FieldError(market.CodeConflict, "two_factor", "two-factor authentication is already on; disable it first")
	}
	return nil
}

// Attempt locks the user's enrolment (FOR UPDATE: attempts of one user serialize, so
// a code or recovery code passes once however many arrive together), asks check and
// writes its outcome in the same transaction: a pass consumes the TOTP step (last_step)
// or the recovery code, clears the failures and does the action; a failure counts, and
// the MaxFailures-th locks the enrolment for LockFor. A Locked verdict writes nothing.
// It returns an error wrapping ErrNotFound when the user has no enrolment.
func (db *DB) Attempt(ctx context.Context, in market.TwoFactorAttempt, check func(market.TwoFactorRecord) market.TwoFactorCheck) (market.TwoFactorCheck, error) {
	var chk market.TwoFactorCheck
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var rec market.TwoFactorRecord
		err := tx.GetContext(ctx, &rec, `SELECT `+twoFactorColumns+` FROM two_factor WHERE user_id = $1 FOR UPDATE`, in.UserID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("two-factor of %s: %w", in.UserID, market.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("lock two-factor: %w", err)
		}
		if err := tx.SelectContext(ctx, &rec.RecoveryCodes, `SELECT code_hash FROM two_factor_recovery_codes
			WHERE user_id = $1 AND used_at IS NULL`, in.UserID); err != nil {
			return fmt.Errorf("recovery codes: %w", err)
		}
		chk = check(rec)
		switch {
		case chk.Locked:
			return nil
		case !chk.Pass:
			return recordTwoFactorFailure(ctx, tx, in)
		}
		if err := consumeSecondFactor(ctx, tx, in.UserID, chk); err != nil {
			return err
		}
		return applyTwoFactorAction(ctx, tx, in)
	})
	return chk, err
}

// recordTwoFactorFailure counts a wrong code; the MaxFailures-th locks for LockFor and
// starts the count again.
func recordTwoFactorFailure(ctx context.Context, tx *sqlx.Tx, in market.TwoFactorAttempt) error {
	_, err := tx.ExecContext(ctx, `UPDATE two_factor SET
			locked_until = CASE WHEN failures + 1 >= $2 THEN $3::timestamptz ELSE locked_until END,
			failures = CASE WHEN failures + 1 >= $2 THEN 0 ELSE failures + 1 END, updated_at = now()
		WHERE user_id = $1`, in.UserID, in.MaxFailures, in.Now.Add(in.LockFor))
	if err != nil {
		return fmt.Errorf("record two-factor failure: %w", err)
	}
	return nil
}

// consumeSecondFactor makes a passed code unusable again: a TOTP step becomes the
// last one accepted, a recovery code is marked used.
func consumeSecondFactor(ctx context.Context, tx *sqlx.Tx, userID string, chk market.TwoFactorCheck) error {
	if chk.RecoveryCode != nil {
		res, err := tx.ExecContext(ctx, `UPDATE two_factor_recovery_codes SET used_at = now()
			WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`, userID, chk.RecoveryCode)
		if err != nil {
			return fmt.Errorf("use recovery code: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("recovery code of %s was not unused", userID)
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE two_factor SET failures = 0, locked_until = NULL,
		last_step = GREATEST(last_step, $2), updated_at = now() WHERE user_id = $1`, userID, chk.Step)
	if err != nil {
		return fmt.Errorf("consume two-factor step: %w", err)
	}
	return nil
}

// applyTwoFactorAction does what the passed second factor was for.
func applyTwoFactorAction(ctx context.Context, tx *sqlx.Tx, in market.TwoFactorAttempt) error {
	var stmts []string
	switch in.Action {
	case market.TwoFactorConfirm:
		stmts = []string{`UPDATE two_factor SET enabled_at = now() WHERE user_id = $1`}
	case market.TwoFactorDisable:
		stmts = []string{`DELETE FROM two_factor_sessions WHERE user_id = $1`, `DELETE FROM two_factor WHERE user_id = $1`}
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q, in.UserID); err != nil {
			return fmt.Errorf("two-factor %s: %w", in.Action, err)
		}
	}
	if in.Action == market.TwoFactorConfirm || in.Action == market.TwoFactorRegenerate {
		if err := replaceRecoveryCodes(ctx, tx, in.UserID, in.NewRecoveryCodes); err != nil {
			return err
		}
	}
	if in.Action == market.TwoFactorConfirm || in.Action == market.TwoFactorVerify {
		_, err := tx.ExecContext(ctx, `INSERT INTO two_factor_sessions (session_id, user_id, verified_at) VALUES ($1, $2, $3)
			ON CONFLICT (session_id) DO UPDATE SET verified_at = EXCLUDED.verified_at`, in.SessionID, in.UserID, in.Now)
		if err != nil {
			return fmt.Errorf("verify session: %w", err)
		}
	}
	return nil
}

// replaceRecoveryCodes drops every recovery code of the user and stores hashes.
func replaceRecoveryCodes(ctx context.Context, tx *sqlx.Tx, userID string, hashes [][]byte) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM two_factor_recovery_codes WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("drop recovery codes: %w", err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO two_factor_recovery_codes (user_id, code_hash) SELECT $1, unnest($2::bytea[])`,
		userID, pq.ByteaArray(hashes))
	if err != nil {
		return fmt.Errorf("store recovery codes: %w", err)
	}
	return nil
}

// SessionVerifiedAt returns when the session last passed a second factor, or an error
// wrapping ErrNotFound when it never did.
func (db *DB) SessionVerifiedAt(ctx context.Context, sessionID string) (time.Time, error) {
	var at time.Time
	err := db.x.GetContext(ctx, &at, `SELECT verified_at FROM two_factor_sessions WHERE session_id = $1`, sessionID)
	if errors.Is(err, sql.ErrNoRows) {
		return at, fmt.Errorf("session %s: %w", sessionID, market.ErrNotFound)
	}
	if err != nil {
		return at, fmt.Errorf("session verified at: %w", err)
	}
	return at, nil
}
