package store_test

import (
	"testing"

	"github.com/google/uuid"
)

func newUUID(*testing.T) string { return uuid.NewString() }
