package store

import "errors"

// ErrNotFound is returned, wrapped, when a row a caller asked for does not exist.
// Callers test for it with errors.Is; storage never answers "not found" with (nil, nil).
var ErrNotFound = errors.New("store: not found")

// ErrNotMigrated is returned, wrapped, by CheckMigrated when the database schema is
// behind the migrations embedded in this binary.
var ErrNotMigrated = errors.New("store: database is not migrated")
