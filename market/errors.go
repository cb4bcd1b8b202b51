package market

import (
	"errors"
	"fmt"
)

// Code classifies a domain error; handlers map each code to one HTTP status.
type Code string

// The error codes of the domain.
const (
	CodeInvalid      Code = "invalid"      // the request breaks a rule (422)
	CodeConflict     Code = "conflict"     // it clashes with existing state (409)
	CodeUnauthorized Code = "unauthorized" // the caller is not signed in, or the credentials are wrong (401)
	CodeForbidden    Code = "forbidden"    // signed in, but not allowed (403)
	CodeNotFound     Code = "not_found"    // no such object, or not the caller's to see (404)
	CodeRateLimited  Code = "rate_limited" // too many attempts (429)
	CodeUnavailable  Code = "unavailable"  // a dependency is down (503)
	CodeGone         Code = "gone"         // a token that expired or was used (410)
)

// Error is a domain error a client may see: a code, a message safe to show, and the
// request field at fault, if any.
type Error struct {
	Code    Code
	Field   string
	Message string
	// Rule names the business rule that refused the request (withdrawal_minimum,
	// daily_limit, …), for clients to act on without parsing Message; "" for most errors.
	Rule string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Is makes errors.Is(err, ErrNotFound) match any not-found Error, whatever its text.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Field == "" && t.Message == ""
}

// ErrNotFound matches every not-found error through errors.Is; storage wraps it when a
// row does not exist.
var ErrNotFound = &Error{Code: CodeNotFound}

// ErrBusy is the answer when something a request must wait for (a database
// connection, a password-hashing slot, an upload slot) could not be had within the
// request's deadline: the node is overloaded, nothing was done, and the client should
// retry shortly (503 with Retry-After). errors.Is matches it exactly.
var ErrBusy = &Error{Code: CodeUnavailable, Message: "the service is busy; nothing was done, retry shortly"}

// Errorf returns an Error with code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an Error with code about one request field.
func FieldError(code Code, field, message string) *Error {
	return &Error{Code: code, Field: field, Message: message}
}

// RuleError returns an Error with code about the rule that refused the request, and
// the field it concerns ("" when none).
func RuleError(code Code, rule, field, message string) *Error {
	return &Error{Code: code, Field: field, Message: message, Rule: rule}
}

// ErrorCode returns the code of err's domain Error, or "" when err is not one.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
