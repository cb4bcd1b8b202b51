package media

import (
	"errors"
	"fmt"
)

// The typed errors below are what Ingest and the adapters return. They say what went
// wrong, not how to answer it: handlers/errors.go is the one map to HTTP.
var (
	// ErrTooLarge means the upload is larger than its kind allows, known from the declared
	// size or from the running byte count. The concrete error is a *TooLargeError
	// carrying the limit.
	ErrTooLarge = errors.New("media: upload too large")

	// ErrUnsupportedType means the content type sniffed from the first bytes is not allowed
	// for the kind. The concrete error is an *UnsupportedTypeError carrying the sniffed
	// type.
	ErrUnsupportedType = errors.New("media: unsupported content type")

	// ErrScannerUnavailable means clamd could not be reached or failed to give a verdict;
	// uploads fail closed.
	ErrScannerUnavailable = errors.New("media: virus scanner unavailable")

	// ErrStorage means the object store failed; nothing is left behind.
	ErrStorage = errors.New("media: object storage failed")

	// ErrSizeMismatch means the body ended before, or ran past, the size the client
	// declared (a truncated or lying upload).
	ErrSizeMismatch = errors.New("media: body size differs from declared size")

	// ErrEmpty means the upload has no bytes.
	ErrEmpty = errors.New("media: empty upload")

	// ErrUnknownKind means the request named no known Kind.
	ErrUnknownKind = errors.New("media: unknown upload kind")

	// ErrInvalidKey means a server-side key or key prefix is malformed (a programming
	// error, never the client's).
	ErrInvalidKey = errors.New("media: invalid object key")
)

// TooLargeError is the concrete ErrTooLarge: Limit is the kind's limit in bytes, for the
// client's answer.
type TooLargeError struct {
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("media: upload too large (limit %d bytes)", e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// UnsupportedTypeError is the concrete ErrUnsupportedType: ContentType is what the bytes
// were sniffed as (never the client's claim).
type UnsupportedTypeError struct {
	ContentType string
}

func (e *UnsupportedTypeError) Error() string {
	return fmt.Sprintf("media: content type %q is not allowed here", e.ContentType)
}

// Is makes errors.Is(err, ErrUnsupportedType) true.
func (e *UnsupportedTypeError) Is(target error) bool { return target == ErrUnsupportedType }

// InfectedError means clamd rejected the upload: a signature matched, or clamd's own
// limits were exceeded (Heuristics.Limits.Exceeded.*, or a stream past StreamMaxLength),
// which counts as rejected, never as clean. Signature is clamd's name for the finding.
// Find it with errors.As.
type InfectedError struct {
	Signature string
}

func (e *InfectedError) Error() string {
	return fmt.Sprintf("media: upload rejected by virus scanner: %s", e.Signature)
}
