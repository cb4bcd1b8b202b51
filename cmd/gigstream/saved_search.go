package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

// savedSearchMatchWorker runs store.SavedSearchMatchJob: it matches a newly published
// gig against every saved search, in batches, and notifies the owners of the matches.
// An error (the database or the index not ready) makes river retry it; notifications
// already stored are not stored again.
type savedSearchMatchWorker struct {
	river.WorkerDefaults[store.SavedSearchMatchJob]
	savedSearches *market.SavedSearches
	log           *slog.Logger
}

// Work matches one gig.
func (w *savedSearchMatchWorker) Work(ctx context.Context, job *river.Job[store.SavedSearchMatchJob]) error {
	n, err := w.savedSearches.MatchNewGig(ctx, job.Args.GigID)
	w.log.InfoContext(ctx, "saved searches matched", "gig_id", job.Args.GigID, "notified", n, "err", err)
	return err
}

// Timeout bounds one run over every saved search.
func (w *savedSearchMatchWorker) Timeout(*river.Job[store.SavedSearchMatchJob]) time.Duration {
	return 5 * time.Minute
}
