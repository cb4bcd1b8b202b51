package push

import (
	"context"
	"errors"
)

// SuppressionList tells whether an address must not be mailed any more: it bounced
// permanently or its owner reported our mail as spam. market's MailDelivery
// implements it over the suppression table.
type SuppressionList interface {
	Suppressed(ctx context.Context, address string) (bool, error)
}

// ErrSuppressed is returned by SendSubscribed, before any network traffic, for a
// recipient on the SuppressionList. It is a final answer, not a failure to retry.
var ErrSuppressed = errors.New("push: recipient address is suppressed (bounced or complained)")
