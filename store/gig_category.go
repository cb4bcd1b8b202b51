package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/gigstream/hub/market"
)

// categoryParent joins each category c to its parent; categoryOrder then lists
// parents before their children, each group by name.
const (
	categoryParent = `
		LEFT JOIN categories parent ON parent.id = c.parent_id`
	categoryOrder = `
		ORDER BY COALESCE(parent.name, c.name), c.parent_id IS NOT NULL, c.name`
)

// Categories lists the categories that are neither archived nor under an archived
// parent, parents before their children, by name (market.CategoryStore).
func (db *DB) Categories(ctx context.Context) ([]market.Category, error) {
	list := []market.Category{}
	err := db.x.SelectContext(ctx, &list, `
		SELECT c.id, c.slug, c.name, c.parent_id FROM categories c`+categoryParent+`
		WHERE c.archived_at IS NULL AND parent.archived_at IS NULL`+categoryOrder)
	if err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	return list, nil
}

// AllCategories lists every category with its archived_at, in the order of
// Categories (market.CategoryStore).
func (db *DB) AllCategories(ctx context.Context) ([]market.Category, error) {
	list := []market.Category{}
	err := db.x.SelectContext(ctx, &list, `
		SELECT c.id, c.slug, c.name, c.parent_id, c.archived_at FROM categories c`+categoryParent+categoryOrder)
	if err != nil {
		return nil, fmt.Errorf("all categories: %w", err)
	}
	return list, nil
}

// CreateCategory stores a checked category (market.CategoryStore): a conflict Error on
// slug when it is taken, an invalid Error on parent when the parent is unknown,
// archived or itself a child.
func (db *DB) CreateCategory(ctx context.Context, in market.NewCategory) (market.Category, error) {
	var c market.Category
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		parent, err := parentCategoryID(ctx, tx, in.Parent, in.Field("parent", false))
		if err != nil {
			return err
		}
		err = tx.GetContext(ctx, &c, `
			INSERT INTO categories (slug, name, parent_id) VALUES ($1, $2, $3)
			ON CONFLICT (slug) DO NOTHING
			RETURNING id, slug, name, parent_id, archived_at`, in.Slug, in.Name, parent)
		if errors.Is(err, sql.ErrNoRows) {
			return market.FieldError(market.CodeConflict, "slug", "a category with this slug exists")
		}
		return err
	})
	if err != nil {
		return market.Category{}, fmt.Errorf("create category %s: %w", in.Slug, err)
	}
	return c, nil
}

// ChangeCategory renames or moves a category (market.CategoryStore): an unknown slug
// wraps ErrNotFound; a parent breaks the rules of CreateCategory, or a category with
// children is given a parent, as an invalid Error on parent.
func (db *DB) ChangeCategory(ctx context.Context, slug string, ch market.CategoryChange) (market.Category, error) {
	var c market.Category
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		id, err := lockCategory(ctx, tx, slug)
		if err != nil {
			return err
		}
		var parent sql.NullString
		if ch.Parent != nil {
			if parent, err = parentCategoryID(ctx, tx, *ch.Parent, "parent"); err != nil {
				return err
			}
			if err := checkNoChildren(ctx, tx, id, parent, "parent"); err != nil {
				return err
			}
		}
		return tx.GetContext(ctx, &c, `
			UPDATE categories SET name = COALESCE($2, name),
				parent_id = CASE WHEN $3 THEN $4::uuid ELSE parent_id END
			WHERE id = $1
			RETURNING id, slug, name, parent_id, archived_at`, id, ch.Name, ch.Parent != nil, parent)
	})
	if err != nil {
		return market.Category{}, fmt.Errorf("change category %s: %w", slug, err)
	}
	return c, nil
}

// SetCategoryArchived archives or restores a category (market.CategoryStore). Archiving
// one with children that are not archived, or restoring one under an archived parent,
// is a conflict Error; an unknown slug wraps ErrNotFound. Doing it twice is no error
// and keeps the first archived_at.
func (db *DB) SetCategoryArchived(ctx context.Context, slug string, archived bool) (market.Category, error) {
	var c market.Category
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		id, err := lockCategory(ctx, tx, slug)
		if err != nil {
			return err
		}
		if err := checkArchivable(ctx, tx, id, archived); err != nil {
			return err
		}
		return tx.GetContext(ctx, &c, `
			UPDATE categories SET archived_at = CASE WHEN $2 THEN COALESCE(archived_at, now()) END
			WHERE id = $1
			RETURNING id, slug, name, parent_id, archived_at`, id, archived)
	})
	if err != nil {
		return market.Category{}, fmt.Errorf("archive category %s: %w", slug, err)
	}
	return c, nil
}

// checkArchivable refuses to archive a category with live children, or to restore one
// whose parent is archived. Changes of a child hold its parent FOR SHARE (see
// parentCategoryID) and an archive holds the category FOR UPDATE, so the two
// serialize on the parent's row and locks are always taken child first.
func checkArchivable(ctx context.Context, tx *sqlx.Tx, id string, archived bool) error {
	blocked := false
	query := `SELECT EXISTS (SELECT 1 FROM categories WHERE parent_id = $1 AND archived_at IS NULL)`
	why := "archive or move its subcategories first"
	if !archived {
		query = `SELECT p.archived_at IS NOT NULL FROM categories c JOIN categories p ON p.id = c.parent_id
			WHERE c.id = $1 FOR SHARE OF p`
		why = "its parent is archived; restore the parent first"
	}
	err := tx.GetContext(ctx, &blocked, query, id)
	if errors.Is(err, sql.ErrNoRows) { // a top-level category has no parent to check
		return nil
	}
	if err != nil {
		return fmt.Errorf("check category: %w", err)
	}
	if blocked {
		return market.Errorf(market.CodeConflict, "%s", why)
	}
	return nil
}

// lockCategory locks a category by slug for a change and returns its id; an unknown
// slug wraps ErrNotFound.
func lockCategory(ctx context.Context, tx *sqlx.Tx, slug string) (string, error) {
	var id string
	err := tx.GetContext(ctx, &id, `SELECT id FROM categories WHERE slug = $1 FOR UPDATE`, slug)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("category %q: %w", slug, market.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("category %q: %w", slug, err)
	}
	return id, nil
}

// parentCategoryID finds the parent a category may go under: a top-level category that
// is not archived, held (FOR SHARE) until the transaction ends so that nobody archives
// or moves it meanwhile. "" is no parent; anything else is an invalid Error on field.
func parentCategoryID(ctx context.Context, tx *sqlx.Tx, slug, field string) (sql.NullString, error) {
	if slug == "" {
		return sql.NullString{}, nil
	}
	var p struct {
		ID       string `db:"id"`
		Child    bool   `db:"child"`
		Archived bool   `db:"archived"`
	}
	err := tx.GetContext(ctx, &p, `
		SELECT id, parent_id IS NOT NULL AS child, archived_at IS NOT NULL AS archived
		FROM categories WHERE slug = $1 FOR SHARE`, slug)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return sql.NullString{}, market.FieldError(market.CodeInvalid, field, "no such category")
	case err != nil:
		return sql.NullString{}, fmt.Errorf("parent category %q: %w", slug, err)
	case p.Child:
		return sql.NullString{}, market.FieldError(market.CodeInvalid, field, "must be a top-level category (the tree has two levels)")
	case p.Archived:
		return sql.NullString{}, market.FieldError(market.CodeInvalid, field, "is archived")
	}
	return sql.NullString{String: p.ID, Valid: true}, nil
}

// checkNoChildren refuses to give a parent to a category that has children of its own.
func checkNoChildren(ctx context.Context, tx *sqlx.Tx, id string, parent sql.NullString, field string) error {
	if !parent.Valid {
		return nil
	}
	var has bool
	if err := tx.GetContext(ctx, &has, `SELECT EXISTS (SELECT 1 FROM categories WHERE parent_id = $1)`, id); err != nil {
		return fmt.Errorf("category children: %w", err)
	}
	if has {
		return market.FieldError(market.CodeInvalid, field, "a category with subcategories stays top-level")
	}
	return nil
}

// ImportCategories creates or updates every category of a checked import by slug in
// one transaction (market.CategoryStore). Names and parents are set as the file gives
// them; archived_at is left alone, so an import never brings back what an admin
// retired. A parent that breaks the rules of CreateCategory is an invalid Error naming
// the entry (categories[i].parent); nothing is stored then.
func (db *DB) ImportCategories(ctx context.Context, list []market.NewCategory) (market.CategoryImport, error) {
	var n market.CategoryImport
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		n = market.CategoryImport{}
		for _, c := range list {
			if err := importCategory(ctx, tx, c, &n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return market.CategoryImport{}, fmt.Errorf("import categories: %w", err)
	}
	return n, nil
}

// importCategory upserts one category of an import and counts the outcome.
func importCategory(ctx context.Context, tx *sqlx.Tx, c market.NewCategory, n *market.CategoryImport) error {
	parent, err := parentCategoryID(ctx, tx, c.Parent, c.Field("parent", true))
	if err != nil {
		return err
	}
	var row struct {
		ID       string `db:"id"`
		Inserted bool   `db:"inserted"`
	}
	err = tx.GetContext(ctx, &row, `
		INSERT INTO categories (slug, name, parent_id) VALUES ($1, $2, $3)
		ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, parent_id = EXCLUDED.parent_id
		WHERE (categories.name, categories.parent_id) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.parent_id)
		RETURNING id, xmax = 0 AS inserted`, c.Slug, c.Name, parent)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		n.Unchanged++
		return nil
	case err != nil:
		return fmt.Errorf("category %s: %w", c.Slug, err)
	case row.Inserted:
		n.Created++
	default:
		n.Updated++
	}
	return checkNoChildren(ctx, tx, row.ID, parent, c.Field("parent", true))
}
