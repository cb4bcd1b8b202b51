package market

import (
	"context"
	"strings"
	"unicode/utf8"
)

// MaxTakedownReason is the longest reason an admin may give for a takedown, in bytes.
const MaxTakedownReason = 2000

// GigTakedownStore is the storage of admin takedowns; store/ implements it.
type GigTakedownStore interface {
	// TakeDownGig pauses a published or paused gig and records why and by whom, under
	// the gig's row lock; a draft (never public) is a conflict Error, a missing gig
	// wraps ErrNotFound. The same transaction resolves the gig's open abuse reports as
	// actioned; it returns the events it stored, the seller's gig.taken_down first,
	// then a report.resolved for each of those reports' reporters.
	TakeDownGig(ctx context.Context, gigID, adminID, reason string) (Gig, []Event, error)
	// RestoreGig clears a takedown, leaving the gig paused for its seller to publish;
	// a gig that is not taken down is a conflict Error. It returns the seller's
	// gig.restored event, stored in the same transaction.
	RestoreGig(ctx context.Context, gigID string) (Gig, Event, error)
}

// GigModeration is the data of the events that tell a seller an admin took their gig
// down (gig.taken_down, with the reason) or lifted the takedown (gig.restored), on
// the seller's user channel; the notification router makes a notification of each.
// It never names the admin.
type GigModeration struct {
	GigID  string  `json:"gig_id"`
	Slug   string  `json:"slug"`
	Title  string  `json:"title"`
	Reason *string `json:"reason,omitempty"`
}

// CheckTakedownReason trims an admin's reason and refuses an empty or overlong one
// (an invalid Error naming reason): the seller is shown it, so it must say something.
func CheckTakedownReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return "", FieldError(CodeInvalid, "reason", "a takedown needs a reason the seller will read")
	case len(reason) > MaxTakedownReason || !utf8.ValidString(reason):
		return "", FieldError(CodeInvalid, "reason", "at most 2000 bytes of UTF-8 text")
	}
	return reason, nil
}

// TakeDown hides a gig from everyone but its seller, who sees reason on it and cannot
// publish it again until an admin restores it; the seller is told (gig.taken_down on
// their user channel, then a notification and an e-mail), and the gig's open abuse
// reports are resolved as actioned, each reporter told (report.resolved). Non-admins get ErrNotFound (the admin
// routes reveal nothing); see GigTakedownStore for the other errors.
func (g *Gigs) TakeDown(ctx context.Context, admin User, gigID, reason string) (Gig, error) {
	if !admin.IsAdmin {
		return Gig{}, ErrNotFound
	}
	reason, err := CheckTakedownReason(reason)
	if err != nil {
		return Gig{}, err
	}
	gig, events, err := g.store.TakeDownGig(ctx, gigID, admin.ID, reason)
	if err != nil {
		return Gig{}, err
	}
	g.log.InfoContext(ctx, "gig taken down", "gig_id", gig.ID, "admin_id", admin.ID, "reports_resolved", len(events)-1)
	g.cached.invalidate(ctx, gigKeys(gig)...)
	for _, ev := range events {
		g.realtime.PublishCommitted(ctx, ev)
	}
	return g.withMedia(ctx, gig)
}

// Restore lifts a takedown for an admin; the gig stays paused until its seller
// publishes it, and the seller is told (gig.restored). Non-admins get ErrNotFound.
func (g *Gigs) Restore(ctx context.Context, admin User, gigID string) (Gig, error) {
	if !admin.IsAdmin {
		return Gig{}, ErrNotFound
	}
	gig, ev, err := g.store.RestoreGig(ctx, gigID)
	if err != nil {
		return Gig{}, err
	}
	g.realtime.PublishCommitted(ctx, ev)
	g.log.InfoContext(ctx, "gig takedown lifted", "gig_id", gig.ID, "admin_id", admin.ID)
	return g.withMedia(ctx, gig)
}
