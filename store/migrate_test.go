package store_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/gigstream/hub/store"
	"github.com/gigstream/hub/store/storetest"
)

func openTestDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{URL: storetest.NewDatabase(t)})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func newMigrator(t testing.TB, db *store.DB) *store.Migrator {
	t.Helper()
	m, err := store.NewMigrator(db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("migrator: %v", err)
	}
	// River's job tables too, as `gigstream migrate up` makes them: publishing a gig
	// queues its saved-search match in the same transaction.
	if _, err := db.MigrateJobs(context.Background(), slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("job tables: %v", err)
	}
	return m
}

func TestMigrateUpDownAndCheck(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	m := newMigrator(t, db)

	if err := m.CheckMigrated(ctx); !errors.Is(err, store.ErrNotMigrated) {
		t.Fatalf("fresh database: CheckMigrated = %v, want ErrNotMigrated", err)
	}
	n, err := m.Up(ctx)
	if err != nil || n == 0 {
		t.Fatalf("Up = %d, %v; want some migrations applied", n, err)
	}
	if err := m.CheckMigrated(ctx); err != nil {
		t.Fatalf("after Up: CheckMigrated = %v", err)
	}
	if again, err := m.Up(ctx); err != nil || again != 0 {
		t.Fatalf("second Up = %d, %v; want 0, nil", again, err)
	}
	if err := m.Down(ctx); err != nil {
		t.Fatalf("Down: %v", err)
	}
	if err := m.CheckMigrated(ctx); !errors.Is(err, store.ErrNotMigrated) {
		t.Fatalf("after Down: CheckMigrated = %v, want ErrNotMigrated", err)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if last := st[len(st)-1]; last.Applied {
		t.Fatalf("after Down the newest migration %s is still applied", last.Name)
	}
}

func TestEveryMigrationRollsBackCleanly(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	m := newMigrator(t, db)
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("Up: %v", err)
	}
	st, _ := m.Status(ctx)
	for range st {
		if err := m.Down(ctx); err != nil {
			t.Fatalf("Down: %v", err)
		}
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("Up after full rollback: %v", err)
	}
}
