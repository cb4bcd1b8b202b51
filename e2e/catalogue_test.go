package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// categoryList is the body of GET /categories and GET /admin/categories.
type categoryList struct {
	Categories []struct {
		Slug       string  `json:"slug"`
		Name       string  `json:"name"`
		ParentID   *string `json:"parent_id"`
		ArchivedAt *string `json:"archived_at"`
	} `json:"categories"`
}

func (l categoryList) slugs() []string {
	out := []string{}
	for _, c := range l.Categories {
		out = append(out, c.Slug)
	}
	return out
}

// A deployment starts its catalogue without the demo seed: `catalogue import` loads a
// CSV file in production mode (where seed is refused), a second run changes nothing,
// and an admin then creates, renames, moves and archives categories over HTTP; an
// archived category leaves GET /categories (whose ETag changes with it) while a gig
// already in it stays readable.
func TestCatalogueImportAndAdminCategoriesWithoutTheDemoSeed(t *testing.T) {
	env := migratedEnv(t, withGenerous(nil))
	prod := Env(merge(envMap(env), productionEnv(nil)))
	file := filepath.Join(t.TempDir(), "categories.csv")
	csv := "slug,name,parent\nlogo-design,Logo Design,graphics-design\ngraphics-design,Graphics & Design,\nprogramming-tech,Programming & Tech,\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if code, out := Run(ctx, bin, prod, "seed"); code == 0 || !strings.Contains(out, "production") {
		t.Fatalf("seed in production: exit %d\n%s", code, out)
	}
	for i, want := range []string{`"created":3`, `"unchanged":3`} {
		code, out := Run(ctx, bin, prod, "catalogue", "import", file)
		if code != 0 || !strings.Contains(strings.ReplaceAll(out, " ", ""), want) {
			t.Fatalf("import %d: exit %d, want %s\n%s", i+1, code, want, out)
		}
	}

	n := StartNode(t, bin, env)
	n.WaitReady(t)
	anon := &client{t: t, base: n.URL}
	var public categoryList
	first := expect(t, anon.do("GET", "/categories", nil), 200, "categories")
	first.json(t, &public)
	if !slices.Equal(public.slugs(), []string{"graphics-design", "logo-design", "programming-tech"}) {
		t.Fatalf("imported categories %v", public.slugs())
	}
	etag := first.header.Get("ETag")
	if etag == "" || !strings.Contains(first.header.Get("Cache-Control"), "max-age") {
		t.Fatalf("categories without ETag or Cache-Control: %v", first.header)
	}
	expect(t, anon.do("GET", "/categories", nil, "If-None-Match", etag), 304, "unchanged categories")

	email, password := uniqueEmail(t, "catadmin"), "long enough password"
	seller := &client{t: t, base: n.URL}
	seller.register(email, "catadmin_"+n.URL[len(n.URL)-5:], password)
	seller.login(email, password)
	expect(t, seller.do("POST", "/admin/categories", map[string]string{"slug": "seo", "name": "SEO"}), 404, "create as a non-admin")
	if code, out := Run(ctx, bin, env, "admin", "grant", email); code != 0 {
		t.Fatalf("admin grant: exit %d\n%s", code, out)
	}
	admin := seller
	expect(t, admin.do("POST", "/admin/categories", map[string]string{"slug": "seo", "name": "SEO", "parent": "programming-tech"}), 201, "create")
	r := expect(t, admin.do("POST", "/admin/categories", map[string]string{"slug": "seo", "name": "Again"}), 409, "create twice")
	if f := r.problemFields(t); !slices.Contains(f, "slug") {
		t.Fatalf("409 names %v, want slug", f)
	}
	r = expect(t, admin.do("POST", "/admin/categories", map[string]string{"slug": "ads", "name": "Ads", "parent": "seo"}), 422, "grandchild")
	if f := r.problemFields(t); !slices.Contains(f, "parent") {
		t.Fatalf("422 names %v, want parent", f)
	}
	expect(t, admin.do("PATCH", "/admin/categories/seo", map[string]string{"name": "Search Engines", "parent": ""}), 200, "rename and move up")

	gig := createGig(t, admin, gigBody("A logo drawn for your brand", "logo-design", pkg("basic", 2500, "USD"))).ID
	expect(t, admin.do("POST", "/gigs/"+gig+"/publish", nil), 200, "publish")
	expect(t, admin.do("POST", "/admin/categories/graphics-design/archive", nil), 409, "archive a parent with a live child")
	expect(t, admin.do("POST", "/admin/categories/logo-design/archive", nil), 200, "archive")
	after := expect(t, anon.do("GET", "/categories", nil, "If-None-Match", etag), 200, "categories after changes")
	after.json(t, &public)
	if !slices.Equal(public.slugs(), []string{"graphics-design", "programming-tech", "seo"}) {
		t.Fatalf("public categories after archive %v", public.slugs())
	}
	var all categoryList
	expect(t, admin.do("GET", "/admin/categories", nil), 200, "admin list").json(t, &all)
	if !slices.Equal(all.slugs(), []string{"graphics-design", "logo-design", "programming-tech", "seo"}) || all.Categories[1].ArchivedAt == nil {
		t.Fatalf("admin list %v, logo-design archived at %v", all.slugs(), all.Categories[1].ArchivedAt)
	}
	expect(t, anon.do("GET", "/gigs/"+gig, nil), 200, "a gig in an archived category")
	r = expect(t, admin.do("POST", "/gigs", gigBody("Another logo for your brand", "logo-design", pkg("basic", 2500, "USD"))), 422, "new gig in an archived category")
	if f := r.problemFields(t); !slices.Contains(f, "category") {
		t.Fatalf("422 names %v, want category", f)
	}
	expect(t, admin.do("POST", "/admin/categories/logo-design/restore", nil), 200, "restore")
}
