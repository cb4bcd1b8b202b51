package store_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
)

// TestInstallationIDIsStableAndOwnToEachDatabase: the id the read cache's keys start
// with is a UUID, the same on every call, and differs between two databases (as two
// deployments or two e2e tests sharing one Redis must not read each other's pages).
func TestInstallationIDIsStableAndOwnToEachDatabase(t *testing.T) {
	ctx := context.Background()
	a, b := migratedDB(t), migratedDB(t)
	idA, err := a.InstallationID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uuid.Parse(idA); err != nil {
		t.Fatalf("installation id %q: %v", idA, err)
	}
	again, err := a.InstallationID(ctx)
	if err != nil || again != idA {
		t.Fatalf("second read: %q, %v; want %q", again, err, idA)
	}
	idB, err := b.InstallationID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if idB == idA {
		t.Fatalf("two databases share installation id %q", idA)
	}
}
