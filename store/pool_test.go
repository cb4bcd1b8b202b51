package store

import (
	"context"
	"errors"
	"testing"
	"time"

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
