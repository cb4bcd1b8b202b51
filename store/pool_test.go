package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store/storetest"
)

// TestPoolWaitForAConnectionHasADeadline: with every connection of the pool taken, a
// statement waits DB_ACQUIRE_TIMEOUT and fails with market.ErrBusy (never hangs), the
// timeout is counted, and connections held by transactions and row sets go back to the
// pool when those end.
func TestPoolWaitForAConnectionHasADeadline(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Config{URL: storetest.NewDatabase(t), MaxOpenConns: 2, AcquireTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx1, err := db.x.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.x.QueryxContext(ctx, `SELECT generate_series(1, 3)`)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var one int
	err = db.x.GetContext(ctx, &one, `SELECT 1`)
	if !errors.Is(err, market.ErrBusy) {
		t.Fatalf("statement on an exhausted pool = %v, want market.ErrBusy", err)
	}
	if waited := time.Since(start); waited < 250*time.Millisecond || waited > 5*time.Second {
		t.Errorf("waited %s for a connection, want about 300ms", waited)
	}
	if s := db.PoolStats(); s.AcquireTimeouts != 1 || s.InUse != 2 {
		t.Errorf("stats = %+v, want 1 timeout and 2 in use", s)
	}
	_ = tx1.Rollback()
	_ = rows.Close()
	if err := db.x.GetContext(ctx, &one, `SELECT 1`); err != nil || one != 1 {
		t.Fatalf("statement after the holders ended = %d, %v", one, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for db.PoolStats().InUse != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("connections still in use after every holder ended: %+v", db.PoolStats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// migratedPool opens a migrated database with a pool of maxOpen connections, a short
// acquire deadline and lock timeout, plus a user to read and lock.
func migratedPool(t *testing.T, maxOpen int) (*DB, market.User) {
	t.Helper()
	ctx := context.Background()
	db := openMigrated(t, Config{MaxOpenConns: maxOpen, AcquireTimeout: 300 * time.Millisecond, LockTimeout: 300 * time.Millisecond})
	u, err := db.CreateUser(ctx, market.NewUser{Email: "pool@x.test", Username: "pool_user", DisplayName: "Pool"})
	if err != nil {
		t.Fatal(err)
	}
	return db, u
}

// busyWithin fails unless call returns market.ErrBusy within a minute: a call that
// hangs on an exhausted pool or a held lock is a failure, not a stuck test.
func busyWithin(t *testing.T, what string, call func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- call(ctx) }()
	select {
	case err := <-done:
		if !errors.Is(err, market.ErrBusy) {
			t.Fatalf("%s = %v, want market.ErrBusy (503 with Retry-After)", what, err)
		}
	case <-ctx.Done():
		t.Fatalf("%s still waiting after a minute", what)
	}
}

// A row lock held by another transaction is waited for at most DB_LOCK_TIMEOUT: the
// statement that wants it (here the FOR UPDATE of account deletion, and a plain
// UPDATE outside any transaction) fails with market.ErrBusy, and gets it once freed.
func TestLockWaitHasADeadline(t *testing.T) {
	ctx := context.Background()
	db, u := migratedPool(t, 4)
	holder, err := db.x.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Rollback() }()
	if _, err := holder.ExecContext(ctx, `SELECT id FROM users WHERE id = $1 FOR UPDATE`, u.ID); err != nil {
		t.Fatal(err)
	}
	busyWithin(t, "AnonymizeUser while another transaction holds the user's row", func(ctx context.Context) error {
		_, err := db.AnonymizeUser(ctx, u.ID)
		return err
	})
	busyWithin(t, "an UPDATE of the locked row outside a transaction", func(ctx context.Context) error {
		_, err := db.x.ExecContext(ctx, `UPDATE users SET bio = 'x' WHERE id = $1`, u.ID)
		return err
	})
	if err := holder.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AnonymizeUser(ctx, u.ID); err != nil {
		t.Fatalf("AnonymizeUser once the lock is gone: %v", err)
	}
}

// Every read path waits for a pooled connection at most DB_ACQUIRE_TIMEOUT and fails
// with market.ErrBusy: reads through the helpers that take a querier (here Upload) and
// the prepared session lookup every authenticated request makes, whose statements
// database/sql runs on connections of its own choosing.
func TestEveryReadPathHasTheAcquireDeadline(t *testing.T) {
	ctx := context.Background()
	db, u := migratedPool(t, 2)
	// Prepare the session lookup while connections are free, so its later run is the
	// wait under test (preparing on an exhausted pool is tested after).
	if _, _, err := db.SessionWithUser(ctx, []byte("no such token")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("session lookup on a free pool: %v", err)
	}
	var held []*sqlx.Tx
	for range 2 {
		tx, err := db.x.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, tx)
	}
	busyWithin(t, "Upload on an exhausted pool", func(ctx context.Context) error {
		_, err := db.Upload(ctx, "6b1b3a3e-0f7e-4a53-9b5b-8f3f5c1d2e4a")
		return err
	})
	busyWithin(t, "the prepared session lookup on an exhausted pool", func(ctx context.Context) error {
		_, _, err := db.SessionWithUser(ctx, []byte("no such token"))
		return err
	})
	busyWithin(t, "preparing a statement on an exhausted pool", func(ctx context.Context) error {
		_, err := db.prepare(ctx, `SELECT 2 WHERE $1::uuid IS NOT NULL`)
		return err
	})
	for _, tx := range held {
		_ = tx.Rollback()
	}
	if _, err := db.Upload(ctx, "6b1b3a3e-0f7e-4a53-9b5b-8f3f5c1d2e4a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Upload once connections are free: %v", err)
	}
	if _, err := db.UserByID(ctx, u.ID); err != nil {
		t.Fatalf("a read once connections are free: %v", err)
	}
}

// withLockTimeout adds lock_timeout to URLs and key=value strings, leaving one the
// operator set alone.
func TestWithLockTimeout(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u@h:5432/db?sslmode=disable", "postgres://u@h:5432/db?lock_timeout=1500&sslmode=disable"},
		{"postgresql://h/db", "postgresql://h/db?lock_timeout=1500"},
		{"postgres://h/db?lock_timeout=9000", "postgres://h/db?lock_timeout=9000"},
		{"host=h dbname=db", "host=h dbname=db lock_timeout=1500"},
		{"host=h lock_timeout=10", "host=h lock_timeout=10"},
	} {
		got, err := withLockTimeout(tc.in, 1500*time.Millisecond)
		if err != nil || got != tc.want {
			t.Errorf("withLockTimeout(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestBusyPoolKeepsItsConnections: a pool opened with only its size keeps every
// connection it opened when a burst as wide as the pool ends, so the next burst runs on
// the same backends and their prepared statements instead of reconnecting and planning
// them again.
func TestBusyPoolKeepsItsConnections(t *testing.T) {
	ctx := context.Background()
	const size = 16
	db, err := Open(ctx, Config{URL: storetest.NewDatabase(t), MaxOpenConns: size})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for round := range 3 {
		errs := make(chan error, size)
		for range size {
			go func() { _, err := db.x.ExecContext(ctx, `SELECT pg_sleep(0.2)`); errs <- err }()
		}
		for range size {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if s := db.PoolStats(); s.MaxIdleClosed != 0 || s.OpenConnections != size || s.Idle != size {
			t.Fatalf("round %d: %+v; want all %d connections kept idle, none closed", round, s.DBStats, size)
		}
	}
}
