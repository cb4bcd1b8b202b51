package main

import (
	"os"
	"testing"
)

// TestGCPercentDefaultsUnlessGOGCIsSet: without GOGC a node runs with
// defaultGCPercent; with GOGC set (even to Go's own default) the runtime's reading of
// it is left alone.
func TestGCPercentDefaultsUnlessGOGCIsSet(t *testing.T) {
	t.Setenv("GOGC", "100")
	if got := gcPercent(); got != 0 {
		t.Fatalf("GOGC=100 set: gcPercent %d, want 0 (the runtime's)", got)
	}
	if err := os.Unsetenv("GOGC"); err != nil {
		t.Fatal(err)
	}
	if got := gcPercent(); got != defaultGCPercent {
		t.Fatalf("GOGC unset: gcPercent %d, want %d", got, defaultGCPercent)
	}
}
