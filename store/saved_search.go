package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"

	"github.com/gigstream/hub/market"
)

const savedSearchColumns = `id, user_id, name, filter, created_at`

// CreateSavedSearch stores a saved search of s.UserID unless they already keep max
// (market.SavedSearchStore), which is a conflict Error. A transaction-scoped advisory
// lock per user makes the count and the insert one step, so two concurrent creates
// cannot both pass the cap.
func (db *DB) CreateSavedSearch(ctx context.Context, s market.SavedSearch, max int) (market.SavedSearch, error) {
	filter, err := json.Marshal(s.Filter)
	if err != nil {
		return s, fmt.Errorf("saved search filter: %w", err)
	}
	var out market.SavedSearch
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('saved_searches:' || $1, 0))`, s.UserID); err != nil {
			return fmt.Errorf("lock saved searches: %w", err)
		}
		var n int
		if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM saved_searches WHERE user_id = $1`, s.UserID); err != nil {
			return fmt.Errorf("count saved searches: %w", err)
		}
		if n >= max {
			return market.Errorf(market.CodeConflict, "you keep %d saved searches, the most there can be; delete one first", n)
		}
		err := tx.GetContext(ctx, &out, `INSERT INTO saved_searches (user_id, name, filter) VALUES ($1, $2, $3)
			RETURNING `+savedSearchColumns, s.UserID, s.Name, string(filter))
		return wrapErr("insert saved search", err)
	})
	return out, err
}

// SavedSearches lists userID's saved searches, newest first (market.SavedSearchStore).
func (db *DB) SavedSearches(ctx context.Context, userID string) ([]market.SavedSearch, error) {
	list := []market.SavedSearch{}
	err := db.x.SelectContext(ctx, &list, `SELECT `+savedSearchColumns+` FROM saved_searches WHERE user_id = $1
		ORDER BY created_at DESC, id DESC`, userID)
	return list, wrapErr("saved searches", err)
}

// DeleteSavedSearch deletes userID's saved search id; another user's, or none, wraps
// ErrNotFound (market.SavedSearchStore).
func (db *DB) DeleteSavedSearch(ctx context.Context, userID, id string) error {
	res, err := db.x.ExecContext(ctx, `DELETE FROM saved_searches WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return fmt.Errorf("delete saved search: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("saved search %s: %w", id, ErrNotFound)
	}
	return nil
}

// SavedSearchBatch lists up to limit saved searches by id after afterID ("" from the
// start) of active users other than exceptUserID (market.SavedSearchStore).
func (db *DB) SavedSearchBatch(ctx context.Context, afterID, exceptUserID string, limit int) ([]market.SavedSearch, error) {
	list := []market.SavedSearch{}
	err := db.x.SelectContext(ctx, &list, `SELECT s.id, s.user_id, s.name, s.filter, s.created_at FROM saved_searches s
		JOIN users u ON u.id = s.user_id
		WHERE ($1 = '' OR s.id > NULLIF($1, '')::uuid) AND s.user_id <> $2 AND u.deleted_at IS NULL AND u.disabled_at IS NULL
		ORDER BY s.id LIMIT $3`, afterID, exceptUserID, limit)
	return list, wrapErr("saved search batch", err)
}

var _ market.SavedSearchStore = (*DB)(nil)

// SavedSearchMatchJob is the queued job (river, mail queue) that matches a gig
// published for the first time against the saved searches and notifies their owners
// (market.SavedSearches.MatchNewGig). It is queued in the transaction that publishes
// the gig, so a publication is never matched twice nor forgotten.
type SavedSearchMatchJob struct {
	GigID string `json:"gig_id"`
}

// Kind names the job in river's tables.
func (SavedSearchMatchJob) Kind() string { return "saved_search_match" }

// InsertOpts puts the job in the mail queue with river's backoff over ten attempts.
func (SavedSearchMatchJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMail, MaxAttempts: 10}
}

// queueSavedSearchMatch queues the SavedSearchMatchJob of gigID in tx.
func queueSavedSearchMatch(ctx context.Context, tx *sqlx.Tx, gigID string) error {
	jobs, err := river.NewClient(riverdatabasesql.New(nil), &river.Config{})
	if err != nil {
		return fmt.Errorf("job client: %w", err)
	}
	if _, err := jobs.InsertTx(ctx, tx.Tx, SavedSearchMatchJob{GigID: gigID}, nil); err != nil {
		return fmt.Errorf("queue saved search match: %w", err)
	}
	return nil
}
