package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gigstream/hub/media/tus"
)

// TestTusLeaseIsExclusiveExpiresAndFencesWrites: one lease holds an upload at a time
// (another claim is ErrLocked, another upload is not held up); no connection, lock or
// transaction is held while it is held; a lease that expires can be taken over, and from
// then on its old holder can neither renew it nor save nor delete the upload.
func TestTusLeaseIsExclusiveExpiresAndFencesWrites(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	state := f.db.TusState()
	for _, id := range []string{"upload-a", "upload-b"} {
		must(t, state.Create(ctx, tus.Upload{ID: id, Owner: f.buyer, Status: tus.StatusUploading, Length: 10,
			ExpiresAt: time.Now().Add(time.Hour)}))
	}
	first := tus.Lease{Token: "first", TTL: 700 * time.Millisecond}
	must(t, state.Acquire(ctx, "upload-a", first))
	if err := state.Acquire(ctx, "upload-a", tus.Lease{Token: "second", TTL: time.Minute}); !errors.Is(err, tus.ErrLocked) {
		t.Fatalf("a second claim while the first holds: %v, want ErrLocked", err)
	}
	must(t, state.Acquire(ctx, "upload-b", tus.Lease{Token: "other", TTL: time.Minute}))
	if err := state.Acquire(ctx, "no-such-upload", first); !errors.Is(err, tus.ErrNotFound) {
		t.Fatalf("claim of a missing upload: %v, want ErrNotFound", err)
	}

	var held int
	must(t, f.raw.QueryRow(`SELECT
		(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%')
		+ (SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
			WHERE l.locktype = 'advisory' AND d.datname = current_database())`).Scan(&held))
	if held != 0 {
		t.Fatalf("%d open transactions or advisory locks while leases are held", held)
	}

	must(t, state.Renew(ctx, "upload-a", first))
	must(t, state.Save(ctx, tus.Upload{ID: "upload-a", Owner: f.buyer, Status: tus.StatusUploading, Offset: 3, Length: 10}, first))
	time.Sleep(time.Second) // the first lease expires unrenewed
	second := tus.Lease{Token: "second", TTL: time.Minute}
	must(t, state.Acquire(ctx, "upload-a", second))
	if err := state.Renew(ctx, "upload-a", first); !errors.Is(err, tus.ErrLeaseLost) {
		t.Fatalf("renewal by the old holder: %v, want ErrLeaseLost", err)
	}
	if err := state.Save(ctx, tus.Upload{ID: "upload-a", Owner: f.buyer, Status: tus.StatusUploading, Offset: 9, Length: 10}, first); !errors.Is(err, tus.ErrLeaseLost) {
		t.Fatalf("save by the old holder: %v, want ErrLeaseLost", err)
	}
	must(t, state.Delete(ctx, "upload-a", first)) // fenced: changes nothing
	u, err := state.Get(ctx, "upload-a")
	must(t, err)
	if u.Offset != 3 {
		t.Fatalf("offset %d after the old holder's writes, want 3", u.Offset)
	}
	must(t, state.Release(ctx, "upload-a", first)) // not held: no effect
	if err := state.Acquire(ctx, "upload-a", tus.Lease{Token: "third", TTL: time.Minute}); !errors.Is(err, tus.ErrLocked) {
		t.Fatalf("the old holder's release freed the new holder's lease: %v", err)
	}
	must(t, state.Release(ctx, "upload-a", second))
	must(t, state.Acquire(ctx, "upload-a", tus.Lease{Token: "third", TTL: time.Minute}))
}
