package market

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// CategoryStore is the storage of the category tree; store/ implements it. A slug
// that names no category wraps ErrNotFound.
type CategoryStore interface {
	// Categories lists the categories buyers and sellers see: neither archived nor
	// under an archived parent.
	Categories(ctx context.Context) ([]Category, error)
	// AllCategories lists every category, archived ones too.
	AllCategories(ctx context.Context) ([]Category, error)
	// CreateCategory stores a new category: a conflict Error when its slug is taken, an
	// invalid Error on parent when the parent is unknown, archived or not top-level.
	CreateCategory(ctx context.Context, in NewCategory) (Category, error)
	// ChangeCategory renames or moves a category under the rules of CreateCategory; a
	// category with children cannot get a parent (the tree has two levels).
	ChangeCategory(ctx context.Context, slug string, ch CategoryChange) (Category, error)
	// SetCategoryArchived archives a category (a conflict Error while it has children
	// that are not archived) or restores one (a conflict Error under an archived parent).
	SetCategoryArchived(ctx context.Context, slug string, archived bool) (Category, error)
	// ImportCategories creates or updates (name and parent) each category by slug in one
	// transaction, parents first, and counts what it did; an invalid Error names the
	// entry at fault, such as categories[3].parent.
	ImportCategories(ctx context.Context, list []NewCategory) (CategoryImport, error)
}

// NewCategory is a category as an admin or an import file gives it: Parent is the
// parent's slug, "" for a top-level category.
type NewCategory struct {
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	Parent string `json:"parent"`
	// Entry is the category's place in an import file, for errors; 0 elsewhere.
	Entry int `json:"-"`
}

// Field names a field of the category for an error: the bare name from an admin
// request, categories[Entry].name from an import.
func (c NewCategory) Field(name string, imported bool) string {
	if !imported {
		return name
	}
	return fmt.Sprintf("categories[%d].%s", c.Entry, name)
}

// CategoryChange renames or moves a category; nil leaves a field as it is, and a
// Parent of "" makes the category top-level.
type CategoryChange struct {
	Name, Parent *string
}

// CategoryImport counts what an import did: categories created, changed, and found
// exactly as the file gives them.
type CategoryImport struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// The bounds of a category. Slugs are the categories' names in URLs, gig filters and
// saved searches, so they never change once made.
const (
	MaxCategoryName    = 80
	MaxImportedEntries = 10000
)

var categorySlug = regexp.MustCompile(`^[a-z0-9-]{2,60}$`)

// CheckNewCategory checks and normalizes a category, naming the field at fault
// (prefix + "slug", "name" or "parent") in an invalid Error.
func CheckNewCategory(in NewCategory, prefix string) (NewCategory, error) {
	if !categorySlug.MatchString(in.Slug) {
		return in, FieldError(CodeInvalid, prefix+"slug", "must be 2 to 60 lower-case letters, digits or hyphens")
	}
	name, err := checkCategoryName(in.Name, prefix+"name")
	if err != nil {
		return in, err
	}
	in.Name = name
	if in.Parent != "" && !categorySlug.MatchString(in.Parent) {
		return in, FieldError(CodeInvalid, prefix+"parent", "must be a category slug")
	}
	if in.Parent == in.Slug {
		return in, FieldError(CodeInvalid, prefix+"parent", "must not be the category itself")
	}
	return in, nil
}

func checkCategoryName(name, field string) (string, error) {
	name = strings.TrimSpace(name)
	if err := checkPlainLine(name); err != nil {
		return "", FieldError(CodeInvalid, field, err.Error())
	}
	if n := utf8.RuneCountInString(name); n < 1 || n > MaxCategoryName {
		return "", FieldError(CodeInvalid, field, fmt.Sprintf("must be 1 to %d characters", MaxCategoryName))
	}
	return name, nil
}

// CheckCategoryImport checks every entry of an import (see CheckNewCategory; fields
// are named categories[i].slug and so on), refuses a slug given twice, and orders the
// list parents first so that an entry may name a parent made by the same file.
func CheckCategoryImport(list []NewCategory) ([]NewCategory, error) {
	if len(list) == 0 || len(list) > MaxImportedEntries {
		return nil, FieldError(CodeInvalid, "categories", fmt.Sprintf("must hold 1 to %d categories", MaxImportedEntries))
	}
	seen := make(map[string]bool, len(list))
	out := make([]NewCategory, len(list))
	for i, c := range list {
		c.Entry = i
		c, err := CheckNewCategory(c, fmt.Sprintf("categories[%d].", i))
		if err != nil {
			return nil, err
		}
		if seen[c.Slug] {
			return nil, FieldError(CodeInvalid, fmt.Sprintf("categories[%d].slug", i), "appears twice in the file")
		}
		seen[c.Slug], out[i] = true, c
	}
	slices.SortStableFunc(out, func(a, b NewCategory) int {
		return cmp.Compare(min(len(a.Parent), 1), min(len(b.Parent), 1))
	})
	return out, nil
}

// Categories lists the categories buyers and sellers see (archived ones are left
// out), parents before their children.
func (g *Gigs) Categories(ctx context.Context) ([]Category, error) {
	return cachedRead(ctx, g.cached, "categories", ReadCacheCategoriesTTL, func(ctx context.Context) ([]Category, bool, error) {
		list, err := g.store.Categories(ctx)
		return list, err == nil, err
	})
}

// AdminCategories lists every category with its archived_at for an admin; anyone else
// gets a not-found Error (the admin routes reveal nothing).
func (g *Gigs) AdminCategories(ctx context.Context, admin User) ([]Category, error) {
	if !admin.IsAdmin {
		return nil, ErrNotFound
	}
	return g.store.AllCategories(ctx)
}

// CreateCategory adds a category for an admin (see CategoryStore.CreateCategory for
// its errors; a non-admin gets a not-found Error).
func (g *Gigs) CreateCategory(ctx context.Context, admin User, in NewCategory) (Category, error) {
	if !admin.IsAdmin {
		return Category{}, ErrNotFound
	}
	in, err := CheckNewCategory(in, "")
	if err != nil {
		return Category{}, err
	}
	c, err := g.store.CreateCategory(ctx, in)
	if err == nil {
		g.log.InfoContext(ctx, "category created", "slug", c.Slug, "admin_id", admin.ID)
		g.cached.invalidate(ctx, "categories") // its gigs' pages follow the database's notice
	}
	return c, err
}

// ChangeCategory renames or moves a category for an admin (see
// CategoryStore.ChangeCategory for its errors).
func (g *Gigs) ChangeCategory(ctx context.Context, admin User, slug string, ch CategoryChange) (Category, error) {
	if !admin.IsAdmin {
		return Category{}, ErrNotFound
	}
	if ch.Name != nil {
		name, err := checkCategoryName(*ch.Name, "name")
		if err != nil {
			return Category{}, err
		}
		ch.Name = &name
	}
	if ch.Parent != nil && *ch.Parent != "" && (!categorySlug.MatchString(*ch.Parent) || *ch.Parent == slug) {
		return Category{}, FieldError(CodeInvalid, "parent", "must be the slug of another category, or empty")
	}
	c, err := g.store.ChangeCategory(ctx, slug, ch)
	if err == nil {
		g.log.InfoContext(ctx, "category changed", "slug", c.Slug, "admin_id", admin.ID)
		g.cached.invalidate(ctx, "categories") // its gigs' pages follow the database's notice
	}
	return c, err
}

// ArchiveCategory retires a category (archived true) or brings it back for an admin.
// An archived category leaves the public list, the search suggestions and the choices
// of new gigs; gigs already in it keep it and stay listed and searchable by it.
func (g *Gigs) ArchiveCategory(ctx context.Context, admin User, slug string, archived bool) (Category, error) {
	if !admin.IsAdmin {
		return Category{}, ErrNotFound
	}
	c, err := g.store.SetCategoryArchived(ctx, slug, archived)
	if err == nil {
		g.log.InfoContext(ctx, "category archived", "slug", c.Slug, "archived", archived, "admin_id", admin.ID)
		g.cached.invalidate(ctx, "categories") // its gigs' pages follow the database's notice
	}
	return c, err
}

// ImportCategories creates or updates categories from an operator's file (see
// CheckCategoryImport and CategoryStore.ImportCategories): running it twice changes
// nothing the second time.
func (g *Gigs) ImportCategories(ctx context.Context, list []NewCategory) (CategoryImport, error) {
	list, err := CheckCategoryImport(list)
	if err != nil {
		return CategoryImport{}, err
	}
	out, err := g.store.ImportCategories(ctx, list)
	if err == nil {
		g.cached.invalidate(ctx, "categories")
	}
	return out, err
}
