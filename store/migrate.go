package store

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/gigstream/hub/migrations"
)

// MigrationStatus is one embedded migration and whether the database has it.
type MigrationStatus struct {
	Version int64
	Name    string
	Applied bool
}

// Migrator applies the migrations embedded in the binary. A Postgres advisory lock
// serializes migrators, so several nodes may start at once.
type Migrator struct {
	p *goose.Provider
}

// NewMigrator prepares a migrator on db. It fails only if the embedded files are invalid
// or the lock cannot be prepared.
func NewMigrator(db *DB, log *slog.Logger) (*Migrator, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db.x.DB.DB, migrations.FS,
		goose.WithSessionLocker(locker), goose.WithSlog(log))
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return &Migrator{p: p}, nil
}

// Up applies every pending migration and returns how many it applied.
func (m *Migrator) Up(ctx context.Context) (int, error) {
	res, err := m.p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate up: %w", err)
	}
	return len(res), nil
}

// Down rolls back the most recent migration. It wraps goose.ErrNoNextVersion when
// nothing is applied.
func (m *Migrator) Down(ctx context.Context) error {
	if _, err := m.p.Down(ctx); err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// Status lists every embedded migration in order with whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	st, err := m.p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		out = append(out, MigrationStatus{
			Version: s.Source.Version,
			Name:    s.Source.Path,
			Applied: s.State == goose.StateApplied,
		})
	}
	return out, nil
}

// CheckMigrated returns an error wrapping ErrNotMigrated when any embedded migration
// is not applied, naming how many are pending; serve refuses to start on it.
func (m *Migrator) CheckMigrated(ctx context.Context) error {
	st, err := m.Status(ctx)
	if err != nil {
		return err
	}
	pending := 0
	for _, s := range st {
		if !s.Applied {
			pending++
		}
	}
	if pending > 0 {
		return fmt.Errorf("%w: %d of %d migrations pending", ErrNotMigrated, pending, len(st))
	}
	return nil
}
