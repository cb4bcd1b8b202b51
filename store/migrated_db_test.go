package store

import (
	"context"
	"log/slog"
	"testing"

	"github.com/gigstream/hub/store/storetest"
)

// openMigrated opens a new test database with cfg (its URL is the new database's),
// migrates it to the latest version and closes it when tb ends: the start of the
// package's own tests and benchmarks that need the unexported parts of DB.
func openMigrated(tb testing.TB, cfg Config) *DB {
	tb.Helper()
	ctx := context.Background()
	cfg.URL = storetest.NewDatabase(tb)
	db, err := Open(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	m, err := NewMigrator(db, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		tb.Fatal(err)
	}
	return db
}
