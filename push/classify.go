package push

import (
	"strconv"
	"time"

	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"
)

// outcome is what the Sender does after one FCM send.
type outcome int

const (
	delivered outcome = iota
	deadToken         // delete the token: the app was uninstalled or the token is garbage
	temporary         // try again later with backoff
	permanent         // give up on this device for this notification
)

// classify maps a firebase-admin-go error to an outcome. It must see the
// error exactly as the client returned it: the messaging.Is* helpers use a
// type assertion, not errors.As, so a wrapped error matches nothing.
//
// Dead: UNREGISTERED (404) and INVALID_ARGUMENT (400), as FCM's docs advise
// for token cleanup. INVALID_ARGUMENT also covers a malformed payload; ours
// is built here and validated by the client before sending, so in practice
// the token is what FCM rejects.
//
// Temporary: UNAVAILABLE (503), INTERNAL (500), QUOTA_EXCEEDED /
// RESOURCE_EXHAUSTED (429), deadline exceeded, and transport errors with no
// HTTP response. Anything else (SENDER_ID_MISMATCH, THIRD_PARTY_AUTH_ERROR,
// PERMISSION_DENIED, errors not from Firebase) is permanent: retrying cannot
// help and the token may be fine once configuration is fixed.
//
// A failed OAuth token exchange (revoked or wrong service-account key) reaches
// us as a transport error without an HTTP response, so it is retried like a
// network failure: firebase-admin-go keeps only its message, not its type.
func classify(err error) outcome {
	switch {
	case err == nil:
		return delivered
	case messaging.IsUnregistered(err), messaging.IsInvalidArgument(err):
		return deadToken
	case messaging.IsUnavailable(err), messaging.IsInternal(err), messaging.IsQuotaExceeded(err),
		errorutils.IsUnavailable(err), errorutils.IsInternal(err), errorutils.IsResourceExhausted(err),
		errorutils.IsDeadlineExceeded(err):
		return temporary
	case errorutils.IsUnknown(err) && errorutils.HTTPResponse(err) == nil:
		return temporary // network failure before any HTTP response
	}
	return permanent
}

// retryAfter is the delay an FCM error response asks for, or zero.
func retryAfter(err error) time.Duration {
	resp := errorutils.HTTPResponse(err)
	if resp == nil {
		return 0
	}
	v := resp.Header.Get("Retry-After")
	if secs, perr := strconv.Atoi(v); perr == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, perr := time.Parse(time.RFC1123, v); perr == nil {
		return time.Until(t)
	}
	return 0
}
