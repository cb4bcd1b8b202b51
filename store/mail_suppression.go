package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/gigstream/hub/market"
)

// SuppressMail adds each recipient to the suppression list under reason, or counts
// the report again for an address already on it (keeping the newest status), in one
// transaction.
func (db *DB) SuppressMail(ctx context.Context, reason market.SuppressionReason, recipients []market.ReportedRecipient) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, r := range recipients {
			_, err := tx.ExecContext(ctx, `INSERT INTO mail_suppressions (email, reason, status, diagnostic)
				VALUES (lower($1), $2, $3, $4)
				ON CONFLICT (email) DO UPDATE SET reason = EXCLUDED.reason, status = EXCLUDED.status,
					diagnostic = EXCLUDED.diagnostic, reports = mail_suppressions.reports + 1, updated_at = now()`,
				r.Email, reason, r.Status, r.Diagnostic)
			if err != nil {
				return fmt.Errorf("suppress mail address: %w", err)
			}
		}
		return nil
	})
}

// MailSuppression returns the suppression of a (lower-cased) address, or an error
// wrapping ErrNotFound when it has none.
func (db *DB) MailSuppression(ctx context.Context, email string) (market.MailSuppression, error) {
	var s market.MailSuppression
	err := db.x.GetContext(ctx, &s, `SELECT reason, status, created_at FROM mail_suppressions WHERE email = lower($1)`, email)
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("mail suppression: %w", ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("mail suppression: %w", err)
	}
	return s, nil
}

// clearMailSuppression lifts the suppression of userID's current address: its owner
// just proved, by following a link mailed to it, that it receives mail again.
func clearMailSuppression(ctx context.Context, tx *sqlx.Tx, userID string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM mail_suppressions WHERE email = (SELECT lower(email) FROM users WHERE id = $1)`, userID)
	if err != nil {
		return fmt.Errorf("clear mail suppression: %w", err)
	}
	return nil
}
