package store

import (
	"context"
	"fmt"
)

// InstallationID returns the random id of this database (migration 00050): what
// separates its keys from another database's in a Redis both share. It returns the
// query's error.
func (db *DB) InstallationID(ctx context.Context) (string, error) {
	var id string
	if err := db.x.GetContext(ctx, &id, `SELECT id::text FROM installation`); err != nil {
		return "", fmt.Errorf("installation id: %w", err)
	}
	return id, nil
}
