package storetest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/lib/pq" // registers the "postgres" driver
)

// NewDatabase creates a fresh database and returns its URL; the database is dropped
// when the test ends. It fails the test when DATABASE_URL is unset or unreachable:
// integration tests need the devstack (`make test` starts it).
func NewDatabase(t testing.TB) string {
	t.Helper()
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		t.Fatal("DATABASE_URL is not set: run tests with `make test`, or `eval \"$(scripts/devstack env)\"` first")
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatalf("open DATABASE_URL: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	name := "test_" + randomHex(t, 8)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b)
}
