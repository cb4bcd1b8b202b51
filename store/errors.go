package store

import (
	"errors"

	"github.com/gigstream/hub/market"
)

// ErrNotFound is returned, wrapped, when a row a caller asked for does not exist.
// It is market.ErrNotFound, so the domain can test for it with errors.Is; storage
// never answers "not found" with (nil, nil).
var ErrNotFound = market.ErrNotFound

// ErrNotMigrated is returned, wrapped, by CheckMigrated when the database schema is
// behind the migrations embedded in this binary.
var ErrNotMigrated = errors.New("store: database is not migrated")
