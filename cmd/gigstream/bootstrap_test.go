package main

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
	"github.com/gigstream/hub/store/storetest"
)

// TestBootstrapMakesTheFirstAdminOnceInProduction runs `gigstream bootstrap` in
// production mode against a fresh, migrated Postgres: a weak password creates nothing;
// a good one from --password-file makes a verified admin who can sign in with it and
// imports the category file; a re-run with no password changes nothing; another
// address is refused once an admin exists; the demo seed stays refused.
func TestBootstrapMakesTheFirstAdminOnceInProduction(t *testing.T) {
	ctx := t.Context()
	db, url := migratedDatabase(t)
	env := envFrom(map[string]string{"GIGSTREAM_ENV": "production", "DATABASE_URL": url, "ARGON2_MEMORY_KIB": "8192"})
	log := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	cats := filepath.Join(dir, "categories.csv")
	mustNot(t, os.WriteFile(cats, []byte("slug,name,parent\ndesign,Design,\nlogos,Logos,design\n"), 0o600))
	pwFile := filepath.Join(dir, "password")
	const password = "correct horse battery staple"
	mustNot(t, os.WriteFile(pwFile, []byte(password+"\n"), 0o600))
	args := []string{"--admin-email", "Ops@Example.test", "--admin-username", "ops", "--categories", cats}

	// Weak, from stdin: refused, nothing created.
	err := bootstrap(ctx, env, log, args, strings.NewReader("short\n"))
	var me *market.Error
	if !errors.As(err, &me) || me.Code != market.CodeInvalid || !strings.Contains(err.Error(), "password") {
		t.Fatalf("weak password: %v, want an invalid Error naming password", err)
	}
	if _, err := db.UserByEmail(ctx, "ops@example.test"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after a weak password the account exists (%v)", err)
	}
	// Good, from a file: a verified admin who signs in, and the categories.
	mustNot(t, bootstrap(ctx, env, log, append(args, "--password-file", pwFile), strings.NewReader("")))
	u, err := db.UserByEmail(ctx, "ops@example.test")
	mustNot(t, err)
	if !u.IsAdmin || u.EmailVerifiedAt == nil || u.Username != "ops" {
		t.Fatalf("bootstrapped %+v, want a verified admin named ops", u)
	}
	accounts := market.NewAccounts(db, nil, market.NewPasswordHasher(market.HasherConfig{MemoryKiB: 8192}), market.AccountsConfig{}, log)
	if _, err := accounts.Login(ctx, market.LoginInput{Email: "ops@example.test", Password: password, Kind: market.SessionBearer}); err != nil {
		t.Fatalf("the admin cannot sign in with the bootstrap password: %v", err)
	}
	list, err := db.Categories(ctx)
	mustNot(t, err)
	if len(list) != 2 {
		t.Fatalf("categories %+v, want design and logos", list)
	}
	// Again, without a password: nothing to do, nothing asked.
	mustNot(t, bootstrap(ctx, env, log, args, strings.NewReader("")))
	again, err := db.UserByEmail(ctx, "ops@example.test")
	mustNot(t, err)
	if *again.PasswordHash != *u.PasswordHash || !again.IsAdmin {
		t.Fatalf("a re-run changed the admin: %+v", again)
	}
	// Another address once an admin exists: refused.
	err = bootstrap(ctx, env, log, []string{"--admin-email", "other@example.test", "--admin-username", "other"},
		strings.NewReader(password+"\n"))
	if !errors.As(err, &me) || me.Code != market.CodeConflict {
		t.Fatalf("a second admin: %v, want a conflict Error", err)
	}
	if _, err := db.UserByEmail(ctx, "other@example.test"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused second admin exists (%v)", err)
	}
	if err := seed(ctx, env, log); err != errSeedInProduction {
		t.Fatalf("seed in production = %v", err)
	}
	if err := bootstrap(ctx, env, log, []string{"--admin-username", "x"}, strings.NewReader("")); !errors.Is(err, errUsage) {
		t.Fatalf("no e-mail: %v, want errUsage", err)
	}
}

// TestConcurrentBootstrapsMakeOneAdmin makes six first admins with different addresses
// at once on a fresh database, each held at its password until all six have passed
// the early "is there an admin?" check (the race the grant's lock closes): exactly one
// succeeds, every other gets a conflict Error, the deployment has one admin, and no
// refused bootstrap left an account behind.
func TestConcurrentBootstrapsMakeOneAdmin(t *testing.T) {
	ctx := t.Context()
	db, url := migratedDatabase(t)
	log := slog.New(slog.DiscardHandler)
	accounts := market.NewAccounts(db, nil, market.NewPasswordHasher(market.HasherConfig{MemoryKiB: 8192}), market.AccountsConfig{}, log)
	const n = 6
	var checked, done sync.WaitGroup
	checked.Add(n)
	errs := make([]error, n)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			_, _, errs[i] = accounts.BootstrapAdmin(ctx, market.AdminBootstrap{
				Email: fmt.Sprintf("ops%d@example.test", i), Username: fmt.Sprintf("ops%d", i), DisplayName: "Ops",
				Password: func() (string, error) {
					checked.Done()
					checked.Wait()
					return "correct horse battery staple", nil
				},
			})
		}()
	}
	done.Wait()
	winner := -1
	for i, err := range errs {
		var me *market.Error
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("bootstraps %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.As(err, &me) || me.Code != market.CodeConflict:
			t.Fatalf("bootstrap %d: %v, want success or a conflict Error", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no bootstrap succeeded: %v", errs)
	}
	raw, err := sql.Open("postgres", url)
	mustNot(t, err)
	t.Cleanup(func() { _ = raw.Close() })
	var admins, users int
	mustNot(t, raw.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE is_admin), count(*) FROM users`).Scan(&admins, &users))
	if admins != 1 || users != 1 {
		t.Fatalf("after the race: %d admins and %d accounts, want one admin and no other account", admins, users)
	}
}

// migratedDatabase opens a fresh database of its own, migrated, closed when t ends,
// and returns it with its URL.
func migratedDatabase(t *testing.T) (*store.DB, string) {
	t.Helper()
	url := storetest.NewDatabase(t)
	db, err := store.Open(t.Context(), store.Config{URL: url})
	mustNot(t, err)
	t.Cleanup(func() { _ = db.Close() })
	m, err := store.NewMigrator(db, slog.New(slog.DiscardHandler))
	mustNot(t, err)
	_, err = m.Up(t.Context())
	mustNot(t, err)
	return db, url
}

func mustNot(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
