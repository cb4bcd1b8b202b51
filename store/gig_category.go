package store

import (
	"context"
	"fmt"

	"github.com/gigstream/hub/market"
)

// Categories lists every category, parents before their children, by name.
func (db *DB) Categories(ctx context.Context) ([]market.Category, error) {
	list := []market.Category{}
	err := db.x.SelectContext(ctx, &list, `
		SELECT c.id, c.slug, c.name, c.parent_id FROM categories c
		LEFT JOIN categories parent ON parent.id = c.parent_id
		ORDER BY COALESCE(parent.name, c.name), c.parent_id IS NOT NULL, c.name`)
	if err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	return list, nil
}
