package store_test

import (
	"context"
	"testing"
	"time"
)

// TestTusLockSerializesWithoutAnOpenTransaction: a second locker of the same upload
// waits for the first to release, another upload is not held up, and while a lock is
// held no transaction stays open (which would hold back vacuum and the notification
// router for as long as a PATCH streams).
func TestTusLockSerializesWithoutAnOpenTransaction(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	state := f.db.TusState()
	release, err := state.Lock(ctx, "upload-a")
	must(t, err)

	other, err := state.Lock(ctx, "upload-b")
	must(t, err)
	other()

	var open int
	must(t, f.raw.QueryRow(`SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND state LIKE 'idle in transaction%'`).Scan(&open))
	if open != 0 {
		t.Fatalf("%d transactions stay open while the lock is held", open)
	}

	got := make(chan func(), 1)
	go func() {
		r, err := state.Lock(ctx, "upload-a")
		if err != nil {
			t.Error(err)
			close(got)
			return
		}
		got <- r
	}()
	select {
	case <-got:
		t.Fatal("a second locker got the lock while the first held it")
	case <-time.After(300 * time.Millisecond):
	}
	release()
	select {
	case r, ok := <-got:
		if !ok {
			t.FailNow()
		}
		r()
	case <-time.After(10 * time.Second):
		t.Fatal("the second locker never got the lock after release")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := state.Lock(cancelled, "upload-a"); err == nil {
		t.Error("Lock with a cancelled context succeeded")
	}
}
