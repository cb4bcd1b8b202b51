package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/gigstream/hub/store"
)

// objectDeleter is the slice of the object store objectDeleteWorker needs.
type objectDeleter interface {
	Delete(ctx context.Context, key string) error
}

// objectDeleteWorker runs store.ObjectDeleteJob: it deletes the objects of upload rows
// that a committed transaction removed (a deleted account's uploads). Any failed delete
// fails the attempt, so river tries again later; keys deleted before are deleted again,
// which succeeds.
type objectDeleteWorker struct {
	river.WorkerDefaults[store.ObjectDeleteJob]
	objects objectDeleter
}

// Work deletes every key of the job and joins the failures.
func (w *objectDeleteWorker) Work(ctx context.Context, job *river.Job[store.ObjectDeleteJob]) error {
	var failed []error
	for _, key := range job.Args.Keys {
		if err := w.objects.Delete(ctx, key); err != nil {
			failed = append(failed, fmt.Errorf("delete object %s: %w", key, err))
		}
	}
	return errors.Join(failed...)
}
