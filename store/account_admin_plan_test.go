package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

// TestSearchUsersUsesItsIndexesAt100kUsers loads 100,000 users with realistic
// addresses and names, and checks the plans of the admins' user search (the statement
// SearchUsers runs, EXPLAIN ANALYZE): a selective q reads the trigram indexes, and no
// q, however common or short, scans the users table; the answers match what the
// search should find.
func TestSearchUsersUsesItsIndexesAt100kUsers(t *testing.T) {
	ctx := context.Background()
	db := openMigrated(t, Config{})
	const users = 100_000
	if _, err := db.x.ExecContext(ctx, `
		INSERT INTO users (email, username, display_name, is_buyer, created_at)
		SELECT lower(f[1 + i % 20]) || '.' || lower(l[1 + (i / 20) % 25]) || i || '@' || d[1 + i % 6],
			lower(f[1 + i % 20]) || '_' || i, f[1 + i % 20] || ' ' || l[1 + (i / 20) % 25], true,
			now() - make_interval(mins => $1 - i)
		FROM generate_series(1, $1) i,
			(SELECT ARRAY['Maria','John','Wei','Aisha','Lukas','Sofia','Omar','Yuki','Carlos','Emma','Ivan','Priya',
				'Noah','Fatima','Liam','Chen','Olga','Diego','Hana','Kofi'] AS f,
				ARRAY['Smith','Garcia','Müller','Wang','Kowalski','Rossi','Silva','Kim','Nguyen','Okafor','Novak',
				'Jensen','Haddad','Tanaka','Dubois','Costa','Ivanova','Patel','Schmidt','Lopez','Brown','Sato',
				'Mensah','Larsen','Fischer'] AS l,
				ARRAY['gmail.com','outlook.com','yahoo.com','proton.me','gigstream.test','web.de'] AS d) n`, users); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, market.NewUser{Email: "zq@x.test", Username: "zeb_q", DisplayName: "Zebulon Quixote", IsBuyer: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.x.ExecContext(ctx, `ANALYZE users`); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		q       string
		indexed bool // selective enough that the trigram indexes must be read
		want    int  // users found in the first page of 51
	}{
		{"maria.smith1", true, 23}, // e-mail prefix
		{"kofi_99999", true, 1},    // username prefix, one user
		{"QUIXO", true, 1},         // inside one display name, any case
		{"zzzqqq", true, 0},        // nobody
		{"gigstream", true, 0},     // inside addresses only: not a prefix, not a name
		{"okafor", false, 51},      // in 4% of display names: walks the list's order
		{"a", false, 51},           // a letter: most users; walks the list's order
		{"", false, 51},            // everyone, oldest first
	}
	for _, c := range cases {
		query, args := searchUsersQuery(c.q, nil, 51)
		plan := explain(t, db, query, args...)
		t.Logf("q=%q:\n%s", c.q, plan)
		if strings.Contains(plan, "Seq Scan on users") {
			t.Errorf("q=%q scans the users table:\n%s", c.q, plan)
		}
		if c.indexed && !strings.Contains(plan, "users_email_trgm_idx") {
			t.Errorf("q=%q does not read the trigram indexes:\n%s", c.q, plan)
		}
		found, err := db.SearchUsers(ctx, c.q, nil, 51)
		if err != nil || len(found) != c.want {
			t.Errorf("q=%q found %d users (%v), want %d", c.q, len(found), err, c.want)
		}
	}
	// A page after a key still reads the index.
	key := &market.PageKey{At: time.Now().Add(-time.Hour), ID: "00000000-0000-0000-0000-000000000000"}
	query, args := searchUsersQuery("okafor", key, 51)
	if plan := explain(t, db, query, args...); strings.Contains(plan, "Seq Scan on users") {
		t.Errorf("a later page scans the users table:\n%s", plan)
	}
}
