package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

// categorySlugs lists the slugs of list in order.
func categorySlugs(list []market.Category) []string {
	out := make([]string, len(list))
	for i, c := range list {
		out[i] = c.Slug
	}
	return out
}

// wantField fails unless err is a domain Error of code naming field.
func wantField(t *testing.T, what string, err error, code market.Code, field string) {
	t.Helper()
	var de *market.Error
	if !errors.As(err, &de) || de.Code != code || de.Field != field {
		t.Fatalf("%s: %v, want %s on %q", what, err, code, field)
	}
}

func TestCategoryTreeKeepsTwoLevelsAndArchivesLeavesFirst(t *testing.T) {
	ctx := context.Background()
	db, _, _ := gigFixture(t) // design, code
	logos, err := db.CreateCategory(ctx, market.NewCategory{Slug: "logos", Name: "Logos", Parent: "design"})
	if err != nil || logos.ParentID == nil {
		t.Fatalf("create child: %+v, %v", logos, err)
	}
	_, err = db.CreateCategory(ctx, market.NewCategory{Slug: "logos", Name: "Again"})
	wantField(t, "taken slug", err, market.CodeConflict, "slug")
	_, err = db.CreateCategory(ctx, market.NewCategory{Slug: "icons", Name: "Icons", Parent: "logos"})
	wantField(t, "grandchild", err, market.CodeInvalid, "parent")
	_, err = db.CreateCategory(ctx, market.NewCategory{Slug: "icons", Name: "Icons", Parent: "nope"})
	wantField(t, "unknown parent", err, market.CodeInvalid, "parent")

	// A category with children stays top-level; a leaf moves and is renamed.
	code := "code"
	_, err = db.ChangeCategory(ctx, "design", market.CategoryChange{Parent: &code})
	wantField(t, "parent with children", err, market.CodeInvalid, "parent")
	name := "Logo Design"
	moved, err := db.ChangeCategory(ctx, "logos", market.CategoryChange{Name: &name, Parent: &code})
	if err != nil || moved.Name != name || moved.ParentID == nil {
		t.Fatalf("move: %+v, %v", moved, err)
	}
	if _, err := db.ChangeCategory(ctx, "nope", market.CategoryChange{Name: &name}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("change unknown: %v", err)
	}

	// Archiving: the parent waits for its children; archived ones leave the public list.
	_, err = db.SetCategoryArchived(ctx, "code", true)
	if market.ErrorCode(err) != market.CodeConflict {
		t.Fatalf("archive parent with a live child: %v", err)
	}
	if _, err := db.SetCategoryArchived(ctx, "logos", true); err != nil {
		t.Fatal(err)
	}
	archived, err := db.SetCategoryArchived(ctx, "code", true)
	if err != nil || archived.ArchivedAt == nil {
		t.Fatalf("archive parent: %+v, %v", archived, err)
	}
	again, err := db.SetCategoryArchived(ctx, "code", true)
	if err != nil || !again.ArchivedAt.Equal(*archived.ArchivedAt) {
		t.Fatalf("archive twice moved archived_at: %+v, %v", again, err)
	}
	_, err = db.CreateCategory(ctx, market.NewCategory{Slug: "apis", Name: "APIs", Parent: "code"})
	wantField(t, "archived parent", err, market.CodeInvalid, "parent")
	if _, err := db.SetCategoryArchived(ctx, "logos", false); market.ErrorCode(err) != market.CodeConflict {
		t.Fatalf("restore under an archived parent: %v", err)
	}
	public, err := db.Categories(ctx)
	if err != nil || !slices.Equal(categorySlugs(public), []string{"design"}) {
		t.Fatalf("public categories %v, %v", categorySlugs(public), err)
	}
	all, err := db.AllCategories(ctx)
	if err != nil || !slices.Equal(categorySlugs(all), []string{"code", "logos", "design"}) {
		t.Fatalf("all categories %v, %v", categorySlugs(all), err)
	}
	if _, err := db.SetCategoryArchived(ctx, "code", false); err != nil {
		t.Fatal(err)
	}
	if c, err := db.SetCategoryArchived(ctx, "logos", false); err != nil || c.ArchivedAt != nil {
		t.Fatalf("restore: %+v, %v", c, err)
	}
}

func TestGigsKeepAnArchivedCategoryButNewOnesCannotChooseIt(t *testing.T) {
	ctx := context.Background()
	db, seller, _ := gigFixture(t)
	gig := newGig(t, db, seller, "Logo design for your shop", "design", basicAt(500))
	if _, err := db.SetGigStatus(ctx, gig.ID, seller, market.GigPublished); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetCategoryArchived(ctx, "design", true); err != nil {
		t.Fatal(err)
	}
	_, err := db.CreateGig(ctx, market.NewGig{SellerID: seller, Title: "Another logo design gig", Description: "x", CategorySlug: "design", Packages: []market.GigPackage{basicAt(1)}})
	wantField(t, "new gig in an archived category", err, market.CodeInvalid, "category")
	other := newGig(t, db, seller, "Some code written for you", "code", basicAt(500))
	design := "design"
	_, err = db.UpdateGig(ctx, other.ID, seller, market.GigChange{CategorySlug: &design})
	wantField(t, "move into an archived category", err, market.CodeInvalid, "category")

	title := "Logo design for your new shop"
	changed, err := db.UpdateGig(ctx, gig.ID, seller, market.GigChange{Title: &title, CategorySlug: &design})
	if err != nil || changed.Category.Slug != "design" || changed.Title != title {
		t.Fatalf("edit a gig that keeps its archived category: %+v, %v", changed, err)
	}
	list, err := db.PublishedGigs(ctx, market.GigFilter{CategorySlug: "design", Limit: 10, Sort: market.SortNewest})
	if err != nil || len(list) != 1 || list[0].ID != gig.ID {
		t.Fatalf("listing by the archived category: %v, %v", list, err)
	}
}

func TestImportCategoriesIsIdempotentAndAtomic(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	gigs := market.NewGigs(db, market.GigsDeps{}, nil)
	file := []market.NewCategory{
		{Slug: "logo-design", Name: "Logo Design", Parent: "graphics-design"}, // before its parent
		{Slug: "graphics-design", Name: " Graphics & Design "},
		{Slug: "programming-tech", Name: "Programming & Tech"},
	}
	n, err := gigs.ImportCategories(ctx, file)
	if err != nil || n != (market.CategoryImport{Created: 3}) {
		t.Fatalf("first import %+v, %v", n, err)
	}
	n, err = gigs.ImportCategories(ctx, file)
	if err != nil || n != (market.CategoryImport{Unchanged: 3}) {
		t.Fatalf("second import %+v, %v", n, err)
	}
	file[0].Parent, file[2].Name = "programming-tech", "Programming"
	n, err = gigs.ImportCategories(ctx, file)
	if err != nil || n != (market.CategoryImport{Updated: 2, Unchanged: 1}) {
		t.Fatalf("changed import %+v, %v", n, err)
	}

	// One bad entry stores nothing; the error names it by its place in the file.
	bad := []market.NewCategory{{Slug: "writing", Name: "Writing"}, {Slug: "seo", Name: "SEO", Parent: "logo-design"}}
	_, err = gigs.ImportCategories(ctx, bad)
	wantField(t, "grandchild in a file", err, market.CodeInvalid, "categories[1].parent")
	_, err = gigs.ImportCategories(ctx, []market.NewCategory{{Slug: "a", Name: "x"}})
	wantField(t, "short slug", err, market.CodeInvalid, "categories[0].slug")
	_, err = gigs.ImportCategories(ctx, []market.NewCategory{{Slug: "dup", Name: "x"}, {Slug: "dup", Name: "y"}})
	wantField(t, "slug twice", err, market.CodeInvalid, "categories[1].slug")
	all, err := db.AllCategories(ctx)
	if err != nil || len(all) != 3 {
		t.Fatalf("after failed imports: %v, %v", categorySlugs(all), err)
	}
	for _, c := range all {
		if c.Slug == "graphics-design" && c.Name != "Graphics & Design" {
			t.Errorf("name not trimmed: %q", c.Name)
		}
	}
}
