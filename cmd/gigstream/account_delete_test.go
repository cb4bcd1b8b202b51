package main

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/riverqueue/river"

	"github.com/gigstream/hub/store"
)

// flakyObjects deletes keys, failing each key in failing once.
type flakyObjects struct {
	deleted []string
	failing map[string]bool
}

func (f *flakyObjects) Delete(_ context.Context, key string) error {
	if f.failing[key] {
		delete(f.failing, key)
		return errors.New("object store unavailable")
	}
	f.deleted = append(f.deleted, key)
	return nil
}

// A failed delete fails the attempt (river then retries the job) after trying every
// other key, and the retry deletes what was left.
func TestObjectDeleteWorkerFailsTheAttemptUntilEveryKeyIsGone(t *testing.T) {
	objects := &flakyObjects{failing: map[string]bool{"b": true}}
	w := &objectDeleteWorker{objects: objects}
	job := &river.Job[store.ObjectDeleteJob]{Args: store.ObjectDeleteJob{Keys: []string{"a", "b", "c"}}}
	if err := w.Work(context.Background(), job); err == nil {
		t.Fatal("an attempt with a failed delete succeeded: river would not retry it")
	}
	if !slices.Equal(objects.deleted, []string{"a", "c"}) {
		t.Fatalf("deleted %v in the failed attempt, want a and c", objects.deleted)
	}
	if err := w.Work(context.Background(), job); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if !slices.Contains(objects.deleted, "b") {
		t.Fatalf("the retry did not delete b: %v", objects.deleted)
	}
}
