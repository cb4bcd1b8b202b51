package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/gigstream/hub/market"
)

// TakeDownGig pauses a published or paused gig and records an admin's reason, under
// the gig's row lock, so a seller's publish racing it either happens before (and is
// undone) or sees the takedown. A draft is a conflict Error (it is shown to nobody);
// a missing gig or malformed id wraps ErrNotFound. Taking down a gig already taken
// down replaces the reason. The same transaction writes the seller's gig.taken_down
// event and resolves every open report of the gig as actioned (the note says it was
// taken down, and why), with a report.resolved event for each reporter; the events
// are returned for publishing, the seller's first.
func (db *DB) TakeDownGig(ctx context.Context, gigID, adminID, reason string) (market.Gig, []market.Event, error) {
	var gig market.Gig
	var events []market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		status, _, err := lockGig(ctx, tx, gigID)
		if err != nil {
			return err
		}
		if status == market.GigDraft {
			return market.Errorf(market.CodeConflict, "a draft is shown to nobody; there is nothing to take down")
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE gigs SET status = 'paused', updated_at = now(),
				takedown_reason = $2, taken_down_at = now(), taken_down_by = $3
			WHERE id = $1`, gigID, reason, adminID)
		if err != nil {
			return fmt.Errorf("take down gig %s: %w", gigID, err)
		}
		var ev market.Event
		gig, ev, err = db.moderatedGig(ctx, tx, gigID, "gig.taken_down", &reason)
		if err != nil {
			return err
		}
		resolved, err := resolveReportsOfTakenDownGig(ctx, tx, gigID, adminID, reason)
		events = append([]market.Event{ev}, resolved...)
		return err
	})
	return gig, events, err
}

// resolveReportsOfTakenDownGig closes the open reports of a gig an admin took down as
// actioned, noting the takedown and its reason, and writes report.resolved on each
// reporter's channel (see ResolveAbuseReport); it returns those events.
func resolveReportsOfTakenDownGig(ctx context.Context, tx *sqlx.Tx, gigID, adminID, reason string) ([]market.Event, error) {
	var reps []market.AbuseReport
	err := tx.SelectContext(ctx, &reps, `
		UPDATE abuse_reports SET status = 'actioned', resolution_note = $3, resolved_by = $4, resolved_at = now()
		WHERE target_kind = $1 AND target_id = $2 AND status = 'open' RETURNING `+abuseReportColumns,
		market.ReportGig, gigID, "gig taken down: "+reason, adminID)
	if err != nil {
		return nil, fmt.Errorf("resolve reports of gig %s: %w", gigID, err)
	}
	events := make([]market.Event, 0, len(reps))
	for _, rep := range reps {
		ev, err := appendEvent(ctx, tx, market.UserChannel(rep.ReporterID), "report.resolved", market.ReportOutcomeOf(rep))
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return events, nil
}

// RestoreGig clears a gig's takedown; it stays paused. A gig that is not taken down is
// a conflict Error; a missing one wraps ErrNotFound. The seller's gig.restored event
// is written in the same transaction and returned for publishing.
func (db *DB) RestoreGig(ctx context.Context, gigID string) (market.Gig, market.Event, error) {
	var gig market.Gig
	var ev market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, takenDown, err := lockGig(ctx, tx, gigID); err != nil {
			return err
		} else if !takenDown {
			return market.Errorf(market.CodeConflict, "the gig is not taken down")
		}
		_, err := tx.ExecContext(ctx, `
			UPDATE gigs SET updated_at = now(), takedown_reason = NULL, taken_down_at = NULL, taken_down_by = NULL
			WHERE id = $1`, gigID)
		if err != nil {
			return fmt.Errorf("restore gig %s: %w", gigID, err)
		}
		gig, ev, err = db.moderatedGig(ctx, tx, gigID, "gig.restored", nil)
		return err
	})
	return gig, ev, err
}

// moderatedGig reads the gig an admin just took down or restored and writes the
// event that tells its seller, on their user channel (see market.GigModeration).
func (db *DB) moderatedGig(ctx context.Context, tx *sqlx.Tx, gigID, eventType string, reason *string) (market.Gig, market.Event, error) {
	gig, err := db.gigWhere(ctx, tx, gigID)
	if err != nil {
		return gig, market.Event{}, err
	}
	ev, err := appendEvent(ctx, tx, market.UserChannel(gig.Seller.ID), eventType,
		market.GigModeration{GigID: gig.ID, Slug: gig.Slug, Title: gig.Title, Reason: reason})
	return gig, ev, err
}

// lockGig locks any seller's gig for an admin and returns its status and whether it
// is taken down.
func lockGig(ctx context.Context, tx *sqlx.Tx, gigID string) (market.GigStatus, bool, error) {
	if !isUUID(gigID) {
		return "", false, fmt.Errorf("gig %q: %w", gigID, ErrNotFound)
	}
	var row struct {
		Status    market.GigStatus `db:"status"`
		TakenDown bool             `db:"taken_down"`
	}
	err := tx.GetContext(ctx, &row, `SELECT status, taken_down_at IS NOT NULL AS taken_down FROM gigs WHERE id = $1 FOR UPDATE`, gigID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, fmt.Errorf("gig %s: %w", gigID, ErrNotFound)
	}
	if err != nil {
		return "", false, fmt.Errorf("lock gig %s: %w", gigID, err)
	}
	return row.Status, row.TakenDown, nil
}

// refuseTakenDown is the conflict Error, with the admin's reason, of publishing a gig
// an admin took down (the row is locked by the caller).
func refuseTakenDown(ctx context.Context, tx *sqlx.Tx, gigID string, to market.GigStatus) error {
	if to != market.GigPublished {
		return nil
	}
	var reason sql.NullString
	if err := tx.GetContext(ctx, &reason, `SELECT takedown_reason FROM gigs WHERE id = $1`, gigID); err != nil {
		return fmt.Errorf("takedown of gig %s: %w", gigID, err)
	}
	if reason.Valid {
		return market.Errorf(market.CodeConflict, "an admin took this gig down: %s", reason.String)
	}
	return nil
}
