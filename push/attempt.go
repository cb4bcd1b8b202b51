package push

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// TemporaryError is what SendOnce returns when some device could not be reached for a
// reason that may pass (FCM's UNAVAILABLE, INTERNAL, 429 QUOTA_EXCEEDED, a deadline or
// a network failure): the whole notification should be sent again later. Sending it
// again to the devices that did get it is harmless when it has a CollapseKey: the
// repeat replaces the first on the device.
type TemporaryError struct {
	// RetryAfter is the longest Retry-After FCM asked for, or zero.
	RetryAfter time.Duration
	Err        error
}

func (e *TemporaryError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("push: temporary failure (retry after %s): %v", e.RetryAfter, e.Err)
	}
	return "push: temporary failure: " + e.Err.Error()
}

func (e *TemporaryError) Unwrap() error { return e.Err }

// SendOnce makes one round of sends of n, one per device of the user, without waiting
// to retry: it is for callers that retry durably themselves (a queued job). Dead tokens
// are pruned and are not errors; devices refused for good are counted and joined into
// the error; when any device failed temporarily the error is a *TemporaryError
// (errors.As) carrying FCM's Retry-After. It returns ErrInvalidNotification (wrapped)
// for a bad n and the TokenStore's error (wrapped).
func (s *Sender) SendOnce(ctx context.Context, n Notification) error {
	if err := n.validate(); err != nil {
		return err
	}
	devices, err := s.tokens.DeviceTokens(ctx, n.UserID)
	if err != nil {
		return fmt.Errorf("push: device tokens of user %s: %w", n.UserID, err)
	}
	retry, wait, errs := s.sendRound(ctx, n, devices, nil)
	if len(retry) == 0 {
		return errors.Join(errs...)
	}
	s.metrics.retried.Add(float64(len(retry)))
	temp := make([]error, 0, len(retry))
	for _, d := range retry {
		temp = append(temp, deviceError(d, errors.New("temporary failure")))
	}
	return errors.Join(append(errs, &TemporaryError{RetryAfter: wait, Err: errors.Join(temp...)})...)
}
