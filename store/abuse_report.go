package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/gigstream/hub/market"
)

// abuseReportColumns are the columns of market.AbuseReport.
const abuseReportColumns = `id, reporter_id, target_kind, target_id, target_owner_id, excerpt, reason, details,
	status, resolution_note, resolved_by, resolved_at, created_at`

// abuseTargets read, for each kind, the owner and a copy of a target the reporter ($2)
// can see now: a published gig of an active seller, a message of a conversation they
// are in, an active user.
var abuseTargets = map[string]string{
	market.ReportGig: `SELECT g.seller_id AS owner, g.title AS excerpt FROM gigs g JOIN users u ON u.id = g.seller_id
		WHERE g.id = $1 AND g.status = 'published' AND u.deleted_at IS NULL AND u.disabled_at IS NULL AND $2::uuid IS NOT NULL`,
	market.ReportMessage: `SELECT m.sender_id AS owner, m.text AS excerpt FROM messages m
		JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = $2
		WHERE m.id = $1 AND m.deleted_at IS NULL`,
	market.ReportUser: `SELECT id AS owner, username AS excerpt FROM users
		WHERE id = $1 AND deleted_at IS NULL AND disabled_at IS NULL AND $2::uuid IS NOT NULL`,
}

// CreateAbuseReport stores a report with a copy of its target (see
// market.AbuseReportStore for the rules and errors). The target is read and the report
// written in one transaction; a report of the same target by the same user that is
// still open is returned instead of a second one, also when both race.
func (db *DB) CreateAbuseReport(ctx context.Context, in market.NewAbuseReport) (market.AbuseReport, bool, error) {
	var rep market.AbuseReport
	created := false
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var target struct {
			Owner   string `db:"owner"`
			Excerpt string `db:"excerpt"`
		}
		err := tx.GetContext(ctx, &target, abuseTargets[in.TargetKind], in.TargetID, in.ReporterID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s %s: %w", in.TargetKind, in.TargetID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read reported %s: %w", in.TargetKind, err)
		}
		if target.Owner == in.ReporterID {
			return market.FieldError(market.CodeInvalid, "target_id", "you cannot report your own "+in.TargetKind)
		}
		err = tx.GetContext(ctx, &rep, `
			INSERT INTO abuse_reports (reporter_id, target_kind, target_id, target_owner_id, excerpt, reason, details)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (reporter_id, target_kind, target_id) WHERE status = 'open' DO NOTHING
			RETURNING `+abuseReportColumns,
			in.ReporterID, in.TargetKind, in.TargetID, target.Owner, target.Excerpt, in.Reason, in.Details)
		if err == nil {
			created = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("insert report: %w", err)
		}
		// Reported before and still open (a concurrent twin waited for, then seen).
		return tx.GetContext(ctx, &rep, `
			SELECT `+abuseReportColumns+` FROM abuse_reports
			WHERE reporter_id = $1 AND target_kind = $2 AND target_id = $3 AND status = 'open'`,
			in.ReporterID, in.TargetKind, in.TargetID)
	})
	if err != nil {
		return market.AbuseReport{}, false, err
	}
	return rep, created, nil
}

// AbuseReports lists up to limit reports in status, oldest first, after the key
// (created_at, id).
func (db *DB) AbuseReports(ctx context.Context, status string, after *market.PageKey, limit int) ([]market.AbuseReport, error) {
	out := []market.AbuseReport{}
	query := `SELECT ` + abuseReportColumns + ` FROM abuse_reports WHERE status = $1`
	args := []any{status}
	if after != nil {
		query += ` AND (created_at, id) > ($2, $3)`
		args = append(args, after.At, after.ID)
	}
	query += fmt.Sprintf(` ORDER BY created_at, id LIMIT $%d`, len(args)+1)
	if err := db.x.SelectContext(ctx, &out, query, append(args, limit)...); err != nil {
		return nil, fmt.Errorf("abuse reports %s: %w", status, err)
	}
	return out, nil
}

// ResolveAbuseReport closes an open report with an admin's outcome and note and, in
// the same transaction, writes report.resolved on the reporter's user channel (see
// market.ReportOutcome: without the note or the admin), returned for publishing. A
// closed report is a conflict Error, a missing one wraps ErrNotFound.
func (db *DB) ResolveAbuseReport(ctx context.Context, id, adminID, outcome, note string) (market.AbuseReport, market.Event, error) {
	var rep market.AbuseReport
	var ev market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &rep, `
			UPDATE abuse_reports SET status = $2, resolution_note = $3, resolved_by = $4, resolved_at = now()
			WHERE id = $1 AND status = 'open' RETURNING `+abuseReportColumns, id, outcome, note, adminID)
		if errors.Is(err, sql.ErrNoRows) {
			return unresolvableReport(ctx, tx, id)
		}
		if err != nil {
			return fmt.Errorf("resolve report %s: %w", id, err)
		}
		ev, err = appendEvent(ctx, tx, market.UserChannel(rep.ReporterID), "report.resolved", market.ReportOutcomeOf(rep))
		return err
	})
	return rep, ev, err
}

// unresolvableReport says why no open report id was found: it is resolved already (a
// conflict Error) or does not exist (ErrNotFound).
func unresolvableReport(ctx context.Context, tx *sqlx.Tx, id string) error {
	var exists bool
	if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM abuse_reports WHERE id = $1)`, id); err != nil {
		return fmt.Errorf("find report %s: %w", id, err)
	}
	if !exists {
		return fmt.Errorf("report %s: %w", id, ErrNotFound)
	}
	return market.Errorf(market.CodeConflict, "the report is already resolved")
}
