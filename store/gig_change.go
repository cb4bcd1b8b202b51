package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

// UpdateGig applies a checked change to sellerID's own gig in one transaction. Someone
// else's gig wraps ErrNotFound; an unknown category is an invalid Error on category,
// dropping the basic package of a published or paused gig an invalid Error on packages.
func (db *DB) UpdateGig(ctx context.Context, gigID, sellerID string, ch market.GigChange) (market.Gig, error) {
	var gig market.Gig
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		status, _, err := lockOwnGig(ctx, tx, gigID, sellerID)
		if err != nil {
			return err
		}
		if err := market.CheckPublishedPackages(status, ch.Packages); err != nil {
			return err
		}
		var category *string
		if ch.CategorySlug != nil {
			id, err := categoryID(ctx, tx, *ch.CategorySlug, gigID)
			if err != nil {
				return err
			}
			category = &id
		}
		var tags any // NULL keeps them
		if ch.Tags != nil {
			tags = pq.Array(*ch.Tags)
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE gigs SET title = COALESCE($2, title), description = COALESCE($3, description),
				category_id = COALESCE($4, category_id), tags = COALESCE($5::text[], tags), updated_at = now()
			WHERE id = $1`, gigID, ch.Title, ch.Description, category, tags)
		if err != nil {
			return fmt.Errorf("update gig %s: %w", gigID, err)
		}
		if ch.Packages != nil {
			if err := upsertPackages(ctx, tx, gigID, ch.Packages); err != nil {
				return err
			}
		}
		gig, err = db.gigWhere(ctx, tx, gigID)
		return err
	})
	return gig, err
}

// SetGigStatus moves sellerID's own gig to status to when market.GigTransition allows
// it (returning its conflict Error otherwise). The first publication sets
// published_at, which later ones keep, so pausing and publishing again does not move
// a gig to the top of the catalogue. A gig an admin took down cannot be published (a
// conflict Error with the admin's reason). Someone else's gig wraps ErrNotFound.
func (db *DB) SetGigStatus(ctx context.Context, gigID, sellerID string, to market.GigStatus) (market.Gig, error) {
	var gig market.Gig
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		from, hasBasic, err := lockOwnGig(ctx, tx, gigID, sellerID)
		if err != nil {
			return err
		}
		if err := market.GigTransition(from, hasBasic, to); err != nil {
			return err
		}
		if err := refuseTakenDown(ctx, tx, gigID, to); err != nil {
			return err
		}
		if from != to {
			_, err = tx.ExecContext(ctx, `
				UPDATE gigs SET status = $2, updated_at = now(),
					published_at = CASE WHEN $2 = 'published' THEN COALESCE(published_at, now()) ELSE published_at END
				WHERE id = $1`, gigID, to)
			if err != nil {
				return fmt.Errorf("gig %s to %s: %w", gigID, to, err)
			}
		}
		if from == market.GigDraft && to == market.GigPublished {
			// A new gig: the saved searches it matches are told, in the background.
			if err := queueSavedSearchMatch(ctx, tx, gigID); err != nil {
				return err
			}
		}
		gig, err = db.gigWhere(ctx, tx, gigID)
		return err
	})
	return gig, err
}

// DeleteDraftGig deletes sellerID's own draft with its packages and media rows, when
// market.CheckGigDeletable allows it (returning its conflict Error otherwise), and
// queues an ObjectDeleteJob for that media's objects (originals, posters, renditions)
// in the same transaction: the job exists only once the deletion commits, and river
// retries a failed S3 delete, so no object is deleted for a deletion that rolled back
// and none is left behind by a passing S3 failure. A draft something else points at (a
// conversation opened from it) is a conflict Error; someone else's gig wraps
// ErrNotFound.
func (db *DB) DeleteDraftGig(ctx context.Context, gigID, sellerID string) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		status, _, err := lockOwnGig(ctx, tx, gigID, sellerID)
		if err != nil {
			return err
		}
		if err := market.CheckGigDeletable(status); err != nil {
			return err
		}
		var keys pq.StringArray
		err = tx.GetContext(ctx, &keys, `
			SELECT COALESCE(array_agg(k) FILTER (WHERE k IS NOT NULL), '{}')
			FROM uploads, unnest(ARRAY[object_key, poster_key, rendition_key] || `+variantKeys("uploads")+`) AS k
			WHERE gig_id = $1`, gigID)
		if err != nil {
			return fmt.Errorf("media of gig %s: %w", gigID, err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM gigs WHERE id = $1`, gigID)
		if isForeignKeyViolation(err) {
			return market.Errorf(market.CodeConflict, "the gig is referenced elsewhere; pause it instead")
		}
		if err != nil {
			return fmt.Errorf("delete gig %s: %w", gigID, err)
		}
		if len(keys) == 0 {
			return nil
		}
		return insertJob(ctx, tx, ObjectDeleteJob{Keys: keys})
	})
}
