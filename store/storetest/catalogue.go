package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
)

// CatalogueSpec sizes a generated catalogue. Zero fields take the defaults of
// GenerateCatalogue.
type CatalogueSpec struct {
	Gigs    int    // published gigs (default 1000)
	Sellers int    // sellers they belong to (default Gigs/10)
	Seed    uint64 // the same seed writes the same catalogue
	// Now anchors publication dates (default: the current time); tests that compare
	// runs pass a fixed one.
	Now time.Time
}

// Catalogue is what GenerateCatalogue wrote: the categories by slug (id) and the
// sellers' ids, so a test or a benchmark can address them.
type Catalogue struct {
	Categories map[string]string
	Sellers    []string
}

// GenerateCatalogue writes a realistic catalogue into the migrated database db with
// COPY: a two-level category tree, spec.Sellers sellers and spec.Gigs published gigs
// whose titles, tags and descriptions come from per-category vocabularies plus a long
// tail of everyday words, tool names and made-up brand names, so common words ("logo",
// "design") match tens of thousands of gigs at 100k while rare ones match a handful.
// Packages, prices (mostly USD, some EUR and GBP), delivery times and review totals are
// drawn too. The package and review triggers are bypassed (session_replication_role),
// so the gig rows are written with their derived columns already filled in; db's user
// must be a superuser, as the devstack's is. The gigs' own indexes (not those of
// constraints) are dropped for the COPY and built again after it, which is many times
// faster than inserting 100,000 rows into a RUM index one by one. It runs ANALYZE at
// the end.
func GenerateCatalogue(ctx context.Context, db *sql.DB, spec CatalogueSpec) (Catalogue, error) {
	if spec.Gigs <= 0 {
		spec.Gigs = 1000
	}
	if spec.Sellers <= 0 {
		spec.Sellers = max(1, spec.Gigs/10)
	}
	if spec.Now.IsZero() {
		spec.Now = time.Now()
	}
	g := &generator{rnd: rand.New(rand.NewPCG(spec.Seed, spec.Seed^0x9e3779b97f4a7c15)), spec: spec}
	g.brands = g.madeUpWords(3000)
	conn, err := db.Conn(ctx)
	if err != nil {
		return Catalogue{}, err
	}
	defer func() { _ = conn.Close() }()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return Catalogue{}, err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		return Catalogue{}, fmt.Errorf("bypass triggers: %w", err)
	}
	out := Catalogue{Categories: map[string]string{}}
	steps := []func(context.Context, *sql.Tx, *Catalogue) error{g.copyCategories, g.copySellers, withoutGigIndexes(g.copyGigs)}
	for _, step := range steps {
		if err := step(ctx, tx, &out); err != nil {
			return Catalogue{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return Catalogue{}, err
	}
	if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		return Catalogue{}, fmt.Errorf("analyze: %w", err)
	}
	return out, nil
}

// withoutGigIndexes runs step with the gigs table's indexes dropped, except those
// that back a constraint, and builds them again after it.
func withoutGigIndexes(step func(context.Context, *sql.Tx, *Catalogue) error) func(context.Context, *sql.Tx, *Catalogue) error {
	return func(ctx context.Context, tx *sql.Tx, out *Catalogue) error {
		rows, err := tx.QueryContext(ctx, `
			SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
			WHERE i.indrelid = 'gigs'::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`)
		if err != nil {
			return fmt.Errorf("gig indexes: %w", err)
		}
		var names, defs []string
		for rows.Next() {
			var name, def string
			if err := rows.Scan(&name, &def); err != nil {
				_ = rows.Close()
				return fmt.Errorf("gig indexes: %w", err)
			}
			names, defs = append(names, name), append(defs, def)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("gig indexes: %w", err)
		}
		stmts := []string{`SET LOCAL maintenance_work_mem = '256MB'`}
		for _, name := range names {
			stmts = append(stmts, `DROP INDEX `+name)
		}
		for _, stmt := range stmts {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		if err := step(ctx, tx, out); err != nil {
			return err
		}
		for _, def := range defs {
			if _, err := tx.ExecContext(ctx, def); err != nil {
				return fmt.Errorf("%s: %w", def, err)
			}
		}
		return nil
	}
}

type generator struct {
	rnd    *rand.Rand
	spec   CatalogueSpec
	brands []string
}

// copyIn streams rows into table's columns with COPY.
func copyIn(ctx context.Context, tx *sql.Tx, table string, columns []string, rows func(add func(...any) error) error) error {
	quoted := make([]string, len(columns))
	for i, c := range columns {
		quoted[i] = pq.QuoteIdentifier(c)
	}
	stmt, err := tx.PrepareContext(ctx, "COPY "+pq.QuoteIdentifier(table)+" ("+strings.Join(quoted, ", ")+") FROM STDIN")
	if err != nil {
		return fmt.Errorf("copy %s: %w", table, err)
	}
	add := func(v ...any) error {
		_, err := stmt.ExecContext(ctx, v...)
		return err
	}
	if err := rows(add); err != nil {
		_ = stmt.Close()
		return fmt.Errorf("copy %s: %w", table, err)
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		_ = stmt.Close()
		return fmt.Errorf("copy %s: %w", table, err)
	}
	return stmt.Close()
}

func (g *generator) copyCategories(ctx context.Context, tx *sql.Tx, out *Catalogue) error {
	return copyIn(ctx, tx, "categories", []string{"id", "slug", "name", "parent_id"}, func(add func(...any) error) error {
		for _, p := range catalogueParents {
			out.Categories[p.Slug] = uuid.NewString()
			if err := add(out.Categories[p.Slug], p.Slug, p.Name, nil); err != nil {
				return err
			}
		}
		for _, c := range catalogueCategories {
			out.Categories[c.Slug] = uuid.NewString()
			if err := add(out.Categories[c.Slug], c.Slug, c.Name, out.Categories[c.Parent]); err != nil {
				return err
			}
		}
		return nil
	})
}

var firstNames = []string{"maya", "tomas", "lena", "sam", "aisha", "diego", "yuki", "omar", "clara", "ivan", "priya", "lucas", "zoe", "kofi", "elena", "raj"}
var lastNames = []string{"designs", "studio", "dev", "writes", "media", "labs", "creative", "pro", "works", "digital", "audio", "co"}

func (g *generator) copySellers(ctx context.Context, tx *sql.Tx, out *Catalogue) error {
	return copyIn(ctx, tx, "users", []string{"id", "email", "username", "display_name", "is_seller", "created_at"}, func(add func(...any) error) error {
		for i := range g.spec.Sellers {
			id := uuid.NewString()
			first, last := firstNames[i%len(firstNames)], lastNames[(i/len(firstNames))%len(lastNames)]
			username := fmt.Sprintf("%s_%s_%d", first, last, i)
			name := strings.ToUpper(first[:1]) + first[1:] + " " + strings.ToUpper(last[:1]) + last[1:]
			if err := add(id, username+"@catalogue.test", username, name, true, g.spec.Now.Add(-3*365*24*time.Hour)); err != nil {
				return err
			}
			out.Sellers = append(out.Sellers, id)
		}
		return nil
	})
}

// copyGigs writes the gigs and then their packages (two COPYs: one COPY at a time per
// connection).
func (g *generator) copyGigs(ctx context.Context, tx *sql.Tx, out *Catalogue) error {
	type pkg struct {
		gig, tier, currency string
		price               int64
		days, revisions     int
	}
	var packages []pkg
	cols := []string{"id", "seller_id", "category_id", "slug", "title", "description", "tags", "status", "published_at",
		"created_at", "updated_at", "price_minor", "price_currency", "delivery_days", "rating_count", "rating_total"}
	err := copyIn(ctx, tx, "gigs", cols, func(add func(...any) error) error {
		for i := range g.spec.Gigs {
			c := g.category()
			id := uuid.NewString()
			title := g.title(c)
			published := g.spec.Now.Add(-time.Duration(g.rnd.Int64N(int64(730 * 24 * time.Hour))))
			currency := pick(g.rnd, []string{"USD", "USD", "USD", "USD", "USD", "USD", "USD", "USD", "EUR", "EUR", "EUR", "GBP"})
			tiers := []string{"basic", "standard", "premium"}[:1+g.rnd.IntN(3)]
			base := int64(math.Round(math.Exp(math.Log(30)+g.rnd.NormFloat64()*0.9))) * 100
			base = min(max(base, 500), 500000)
			minDays := 0
			for t, tier := range tiers {
				days := pick(g.rnd, []int{1, 2, 3, 3, 4, 5, 5, 7, 7, 10, 14}) + t*2
				if t == 0 {
					minDays = days
				}
				packages = append(packages, pkg{id, tier, currency, base * int64(1+t*2), days, 1 + t})
			}
			count, total := g.ratings()
			seller := out.Sellers[g.seller()]
			slug := fmt.Sprintf("%s-%d", strings.Trim(slugWords(title), "-"), i)
			if len(slug) > 100 {
				slug = slug[len(slug)-100:]
				slug = strings.TrimLeft(slug, "-")
			}
			err := add(id, seller, out.Categories[c.Slug], slug, title, g.description(c), pq.Array(g.tags(c)), "published",
				published, published, published, base, currency, minDays, count, total)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return copyIn(ctx, tx, "gig_packages", []string{"gig_id", "tier", "title", "price_minor", "currency", "delivery_days", "revisions"}, func(add func(...any) error) error {
		for _, p := range packages {
			if err := add(p.gig, p.tier, strings.ToUpper(p.tier[:1])+p.tier[1:], p.price, p.currency, p.days, p.revisions); err != nil {
				return err
			}
		}
		return nil
	})
}

func slugWords(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return b.String()
}

// category draws a leaf category by its share.
func (g *generator) category() catalogueCategory {
	x := g.rnd.Float64() * 1.0
	for _, c := range catalogueCategories {
		if x -= c.Share; x < 0 {
			return c
		}
	}
	return catalogueCategories[0]
}

// seller draws a seller: a few sellers have many gigs, most have a handful.
func (g *generator) seller() int {
	n := g.spec.Sellers
	return min(n-1, int(float64(n)*math.Pow(g.rnd.Float64(), 1.6)))
}

// ratings draws a review count and total: a third of gigs have none, the rest mostly
// high marks.
func (g *generator) ratings() (int, int64) {
	if g.rnd.IntN(3) == 0 {
		return 0, 0
	}
	count := 1 + int(math.Floor(math.Pow(g.rnd.Float64(), 3)*400))
	mean := 5 - math.Abs(g.rnd.NormFloat64())*0.5
	mean = max(mean, 2)
	return count, int64(math.Round(mean * float64(count)))
}

func pick[T any](rnd *rand.Rand, list []T) T { return list[rnd.IntN(len(list))] }

func (g *generator) verb(c catalogueCategory) string {
	for _, p := range catalogueParents {
		if p.Slug == c.Parent {
			return pick(g.rnd, p.Verbs)
		}
	}
	return "create"
}

func article(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// title writes a gig title of 10–120 characters in one of a few marketplace shapes.
func (g *generator) title(c catalogueCategory) string {
	adj, noun, target := pick(g.rnd, catalogueAdjectives), pick(g.rnd, c.Nouns), pick(g.rnd, catalogueTargets)
	var t string
	switch g.rnd.IntN(4) {
	case 0:
		t = fmt.Sprintf("I will %s %s %s %s for your %s", g.verb(c), article(adj), adj, noun, target)
	case 1:
		t = fmt.Sprintf("I will %s %s %s and %s", g.verb(c), adj, noun, pick(g.rnd, c.Nouns))
	case 2:
		t = fmt.Sprintf("%s %s for %s %s", strings.ToUpper(adj[:1])+adj[1:], noun, article(target), target)
	default:
		t = fmt.Sprintf("I will be your %s %s expert using %s", adj, noun, pick(g.rnd, catalogueTools))
	}
	if len(t) > 120 {
		t = t[:120]
	}
	return t
}

func (g *generator) tags(c catalogueCategory) []string {
	n := 2 + g.rnd.IntN(4)
	seen := map[string]bool{}
	var out []string
	for range n {
		t := pick(g.rnd, c.Tags)
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// common draws an everyday word, the first ones far more often (Zipf).
func (g *generator) common() string {
	i := int(math.Pow(g.rnd.Float64(), 2.2) * float64(len(catalogueCommon)))
	return catalogueCommon[min(i, len(catalogueCommon)-1)]
}

// description writes 4–7 sentences of sanitized HTML.
func (g *generator) description(c catalogueCategory) string {
	noun, adj := pick(g.rnd, c.Nouns), pick(g.rnd, catalogueAdjectives)
	s := []string{
		fmt.Sprintf("Are you looking for %s %s %s?", article(adj), adj, noun),
		fmt.Sprintf("I am a %s specialist with %d years of experience in %s and %s.", strings.SplitN(c.Name, " ", 2)[0], 2+g.rnd.IntN(12), noun, pick(g.rnd, c.Nouns)),
		fmt.Sprintf("You will get %s %s, %s and %s.", g.common(), g.common(), g.common(), g.common()),
		fmt.Sprintf("I work with %s and %s every day.", pick(g.rnd, catalogueTools), pick(g.rnd, catalogueTools)),
	}
	if g.rnd.IntN(4) == 0 || c.Parent == "graphics-design" {
		s = append(s, "All design files are included in every package.")
	}
	if g.rnd.IntN(5) == 0 {
		s = append(s, "Your logo can be added at no extra cost.")
	}
	for range g.rnd.IntN(4) {
		s = append(s, fmt.Sprintf("Recent %s clients include %s and %s; %s %s %s.", g.common(), pick(g.rnd, g.brands), pick(g.rnd, g.brands), g.common(), g.common(), g.common()))
	}
	return "<p>" + strings.Join(s, " ") + "</p>"
}

// madeUpWords makes n pronounceable brand names, the long tail of the lexicon.
func (g *generator) madeUpWords(n int) []string {
	syllables := []string{"ba", "ve", "ko", "lin", "tra", "mo", "zen", "qui", "dor", "fa", "ri", "pex", "sol", "ta", "nu", "gri", "lo", "vin", "ca", "ster"}
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		w := ""
		for range 2 + g.rnd.IntN(2) {
			w += pick(g.rnd, syllables)
		}
		if !seen[w] {
			seen[w] = true
			out = append(out, strings.ToUpper(w[:1])+w[1:])
		}
	}
	return out
}
