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

// payoutMethodRow is a payout_methods row as scanned.
type payoutMethodRow struct {
	Method           sql.NullString `db:"method"`
	StripeAccountID  sql.NullString `db:"stripe_account_id"`
	DetailsSubmitted bool           `db:"stripe_details_submitted"`
	PayoutsEnabled   bool           `db:"stripe_payouts_enabled"`
	Requirements     pq.StringArray `db:"stripe_requirements"`
	DisabledReason   sql.NullString `db:"stripe_disabled_reason"`
	PayPalEmail      sql.NullString `db:"paypal_email"`
	ChangedAt        time.Time      `db:"changed_at"`
}

const payoutMethodColumns = `method, stripe_account_id, stripe_details_submitted, stripe_payouts_enabled,
	stripe_requirements, stripe_disabled_reason, paypal_email, changed_at`

func (r payoutMethodRow) method() market.PayoutMethod {
	m := market.PayoutMethod{
		Method: r.Method.String, StripeAccountID: r.StripeAccountID.String, StripeDetailsSubmitted: r.DetailsSubmitted,
		StripePayoutsEnabled: r.PayoutsEnabled, StripeRequirements: []string(r.Requirements),
		StripeDisabledReason: r.DisabledReason.String, PayPalEmail: r.PayPalEmail.String,
	}
	if r.Method.Valid {
		at := r.ChangedAt
		m.ChangedAt = &at
	}
	_, _, m.Ready = m.Destination()
	return m
}

// payoutMethod reads the user's payout method in q (a transaction or the pool); the
// zero PayoutMethod when they have none.
func payoutMethod(ctx context.Context, q querier, userID string) (market.PayoutMethod, error) {
	var r payoutMethodRow
	err := q.GetContext(ctx, &r, `SELECT `+payoutMethodColumns+` FROM payout_methods WHERE user_id = $1`, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return market.PayoutMethod{}, nil
	}
	if err != nil {
		return market.PayoutMethod{}, fmt.Errorf("payout method: %w", err)
	}
	return r.method(), nil
}

// PayoutMethod returns the user's payout method; the zero PayoutMethod when none.
func (db *DB) PayoutMethod(ctx context.Context, userID string) (market.PayoutMethod, error) {
	return payoutMethod(ctx, db.x, userID)
}

// SetPayoutMethod chooses a method under the user's lock (the same lock withdrawals
// take, so a withdrawal sees the method before or after, never half): a connected
// account already stored is kept; changed_at moves to now when the method, the
// account or the PayPal e-mail differs. It stores payout_method.updated on the
// user's channel.
func (db *DB) SetPayoutMethod(ctx context.Context, in market.PayoutMethodChange) (market.PayoutMethod, []market.Event, error) {
	var r payoutMethodRow
	var events []market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, in.UserID); err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		err := tx.GetContext(ctx, &r, `INSERT INTO payout_methods AS p (user_id, method, stripe_account_id, paypal_email)
			VALUES ($1, $2, NULLIF($3, ''), NULLIF($4, ''))
			ON CONFLICT (user_id) DO UPDATE SET
				method = EXCLUDED.method,
				stripe_account_id = COALESCE(p.stripe_account_id, EXCLUDED.stripe_account_id),
				paypal_email = COALESCE(EXCLUDED.paypal_email, p.paypal_email),
				changed_at = CASE WHEN p.method IS DISTINCT FROM EXCLUDED.method
					OR (EXCLUDED.method = 'paypal' AND p.paypal_email IS DISTINCT FROM EXCLUDED.paypal_email)
					OR (EXCLUDED.method = 'stripe' AND p.stripe_account_id IS NULL)
					THEN now() ELSE p.changed_at END,
				updated_at = now()
			RETURNING `+payoutMethodColumns, in.UserID, in.Method, in.StripeAccountID, in.PayPalEmail)
		if err != nil {
			return fmt.Errorf("set payout method: %w", err)
		}
		ev, err := appendEvent(ctx, tx, market.UserChannel(in.UserID), "payout_method.updated", r.method())
		events = []market.Event{ev}
		return err
	})
	if err != nil {
		return market.PayoutMethod{}, nil, err
	}
	return r.method(), events, nil
}

// UpdateStripeAccount applies an account.updated once: the event is recorded (a
// duplicate changes nothing) and, unless a newer event was applied already, the
// account's eligibility is stored and payout_method.updated announced to its owner.
// It returns the owner's id, "" when no seller has the account.
func (db *DB) UpdateStripeAccount(ctx context.Context, eventID string, st market.StripeAccountState) (string, []market.Event, error) {
	var userID string
	var events []market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		fresh, err := recordProviderEvent(ctx, tx, "stripe", eventID, market.StripeAccountUpdated, market.OutcomeApplied)
		if err != nil || !fresh {
			return err
		}
		var r payoutMethodRow
		err = tx.QueryRowxContext(ctx, `UPDATE payout_methods SET stripe_details_submitted = $2, stripe_payouts_enabled = $3,
			stripe_requirements = $4, stripe_disabled_reason = NULLIF($5, ''), stripe_event_at = $6, updated_at = now()
			WHERE stripe_account_id = $1 AND (stripe_event_at IS NULL OR stripe_event_at <= $6)
			RETURNING user_id, `+payoutMethodColumns, st.AccountID, st.DetailsSubmitted, st.PayoutsEnabled,
			pq.StringArray(append([]string{}, st.Requirements...)), st.DisabledReason, st.At).
			Scan(&userID, &r.Method, &r.StripeAccountID, &r.DetailsSubmitted, &r.PayoutsEnabled, &r.Requirements,
				&r.DisabledReason, &r.PayPalEmail, &r.ChangedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return tx.GetContext(ctx, &userID, `SELECT COALESCE((SELECT user_id::text FROM payout_methods WHERE stripe_account_id = $1), '')`, st.AccountID)
		}
		if err != nil {
			return fmt.Errorf("update connected account: %w", err)
		}
		ev, err := appendEvent(ctx, tx, market.UserChannel(userID), "payout_method.updated", r.method())
		events = []market.Event{ev}
		return err
	})
	return userID, events, err
}

// recordProviderEvent inserts a provider event once; false when it was there.
func recordProviderEvent(ctx context.Context, tx *sqlx.Tx, provider, eventID, eventType, outcome string) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO provider_events (provider, event_id, type, outcome) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, provider, eventID, eventType, outcome)
	if err != nil {
		return false, fmt.Errorf("record provider event: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RecordProviderEvent stores a verified event once; false when it was seen before.
func (db *DB) RecordProviderEvent(ctx context.Context, provider, eventID, eventType, outcome string) (bool, error) {
	var fresh bool
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		fresh, err = recordProviderEvent(ctx, tx, provider, eventID, eventType, outcome)
		return err
	})
	return fresh, err
}

// FinishPayout applies a payout's outcome once under the withdrawal's row lock: the
// event is recorded (a duplicate changes nothing); an in_transit withdrawal becomes
// paid (transit → external:{provider}) or failed (transit → available, with the
// reason), announced as withdrawal.updated and balance.updated. Any other status is
// left alone (outcome ignored).
func (db *DB) FinishPayout(ctx context.Context, out market.PayoutOutcome) (market.Withdrawal, string, []market.Event, error) {
	var w market.Withdrawal
	var events []market.Event
	outcome := market.OutcomeApplied
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if w, err = lockWithdrawal(ctx, tx, out.WithdrawalID); err != nil {
			return err
		}
		fresh, err := recordProviderEvent(ctx, tx, out.Provider, out.EventID, out.EventType, market.OutcomeApplied)
		switch {
		case err != nil:
			return err
		case !fresh:
			outcome = market.OutcomeDuplicate
			return nil
		case w.Status == market.WithdrawalPaid && out.Reversed && !out.Paid:
			return reversePaidPayout(ctx, tx, &w, out, &events)
		case w.Status != market.WithdrawalInTransit:
			outcome = market.OutcomeIgnored
			_, err = tx.ExecContext(ctx, `UPDATE provider_events SET outcome = $3 WHERE provider = $1 AND event_id = $2`,
				out.Provider, out.EventID, outcome)
			return err
		}
		t, status, reason := market.WithdrawalPaidOut(w.ID, out.Provider, w.AmountMinor, w.Currency), market.WithdrawalPaid, "withdrawal"
		if !out.Paid {
			t, status, reason = market.WithdrawalReturned(w.ID, w.UserID, w.AmountMinor, w.Currency), market.WithdrawalFailed, "withdrawal_returned"
		}
		if err := postLedger(ctx, tx, t); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &w, `UPDATE withdrawals SET status = $2, failure = NULLIF($3, ''),
			provider_ref = COALESCE(NULLIF($4, ''), provider_ref), updated_at = now() WHERE id = $1 RETURNING `+withdrawalColumns,
			w.ID, status, out.Failure, out.PayoutRef); err != nil {
			return fmt.Errorf("finish withdrawal: %w", err)
		}
		events, err = withdrawalEvents(ctx, tx, w, reason)
		return err
	})
	if err != nil {
		return market.Withdrawal{}, "", nil, err
	}
	return w, outcome, events, nil
}

// reversePaidPayout gives a paid withdrawal's money back to the seller's available
// balance after the provider took the payout back (market.WithdrawalReversed): the
// locked withdrawal becomes failed with the provider's reason, announced as
// withdrawal.updated and balance.updated (withdrawal_reversed).
func reversePaidPayout(ctx context.Context, tx *sqlx.Tx, w *market.Withdrawal, out market.PayoutOutcome, events *[]market.Event) error {
	if err := postLedger(ctx, tx, market.WithdrawalReversed(w.ID, out.Provider, w.UserID, w.AmountMinor, w.Currency)); err != nil {
		return err
	}
	if err := tx.GetContext(ctx, w, `UPDATE withdrawals SET status = 'failed', failure = $2, updated_at = now()
		WHERE id = $1 RETURNING `+withdrawalColumns, w.ID, truncate(out.Failure, 255)); err != nil {
		return fmt.Errorf("reverse withdrawal %s: %w", w.ID, err)
	}
	var err error
	*events, err = withdrawalEvents(ctx, tx, *w, "withdrawal_reversed")
	return err
}

// WithdrawalsInTransit lists up to limit of provider's withdrawals in transit last
// changed before before, oldest first.
func (db *DB) WithdrawalsInTransit(ctx context.Context, provider string, before time.Time, limit int) ([]market.Withdrawal, error) {
	list := []market.Withdrawal{}
	err := db.x.SelectContext(ctx, &list, `SELECT `+withdrawalColumns+` FROM withdrawals
		WHERE status = 'in_transit' AND provider = $1 AND updated_at < $2 ORDER BY updated_at LIMIT $3`, provider, before, limit)
	if err != nil {
		return nil, fmt.Errorf("withdrawals in transit: %w", err)
	}
	return list, nil
}
