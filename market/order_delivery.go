package market

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Delivery is one version of the seller's work on an order: versions count densely
// from 1, and every version stays listed and downloadable.
type Delivery struct {
	ID        string         `json:"id" db:"id"`
	OrderID   string         `json:"order_id" db:"order_id"`
	Version   int            `json:"version" db:"version"`
	Note      string         `json:"note" db:"note"`
	CreatedAt time.Time      `json:"created_at" db:"created_at"`
	Files     []DeliveryFile `json:"files" db:"-"`
}

// DeliveryFile is a clean deliverable upload in a delivery; it downloads through
// GET /uploads/{upload_id}/download.
type DeliveryFile struct {
	UploadID    string `json:"upload_id" db:"upload_id"`
	Filename    string `json:"filename" db:"filename"`
	ContentType string `json:"content_type" db:"content_type"`
	Size        int64  `json:"size" db:"size"`
	SHA256      string `json:"sha256" db:"sha256"`
}

// NewDelivery is a seller's delivery: the order, who sends it, a plain-text note and
// the uploads that make it up, in order.
type NewDelivery struct {
	OrderID, UserID, Note string
	UploadIDs             []string
}

// DeliveryCandidate is an upload named in a delivery, as the store found it, and
// whether it already belongs to a delivery.
type DeliveryCandidate struct {
	Upload     Upload
	InDelivery bool
}

// NewRevision is a buyer's request for changes after a delivery.
type NewRevision struct {
	OrderID, UserID, Note string
}

// Deliver records the next version of the work on an order and moves it to delivered,
// with the order.delivered event. Only the seller delivers, on a paid order, after a
// revision request, or again after a delivery. The files must be 1 to MaxFiles clean
// deliverable uploads of the seller's, uploaded for this order and in no delivery yet.
// Errors: invalid naming note or upload_ids[i]; not found for an order the caller is
// no party to; forbidden for the buyer; conflict when the order does not take a
// delivery now.
func (o *Orders) Deliver(ctx context.Context, in NewDelivery) (Delivery, error) {
	note, err := o.cleanNote(in.Note, false)
	if err != nil {
		return Delivery{}, err
	}
	in.Note = note
	if err := o.checkUploadIDs(in.UploadIDs); err != nil {
		return Delivery{}, err
	}
	d, _, ev, err := o.store.CreateDelivery(ctx, in, func(ord Order, files []DeliveryCandidate) error {
		return checkDelivery(ord, in, files)
	})
	if err != nil {
		return Delivery{}, err
	}
	o.realtime.PublishCommitted(ctx, ev)
	return d, nil
}

// RequestRevision asks the seller for changes to the latest delivery and moves the
// order to revision_requested, with the order.revision_requested event. Only the buyer
// asks, on a delivered order with revisions left. Errors: invalid naming note; not
// found for an order the caller is no party to; forbidden for the seller; conflict
// when the order is not delivered or no revisions are left.
func (o *Orders) RequestRevision(ctx context.Context, in NewRevision) (Order, error) {
	note, err := o.cleanNote(in.Note, true)
	if err != nil {
		return Order{}, err
	}
	in.Note = note
	ord, ev, err := o.store.RequestRevision(ctx, in, func(ord Order) error { return checkRevision(ord, in.UserID) })
	if err != nil {
		return Order{}, err
	}
	o.realtime.PublishCommitted(ctx, ev)
	return ord.visibleTo(in.UserID), nil
}

// Deliveries lists every version of an order's work, newest first, with its files, to
// the order's buyer and seller; anyone else gets a not-found Error.
func (o *Orders) Deliveries(ctx context.Context, orderID, userID string) ([]Delivery, error) {
	return o.store.Deliveries(ctx, orderID, userID)
}

func checkRevision(ord Order, userID string) error {
	if ord.BuyerID != userID {
		return Errorf(CodeForbidden, "only the buyer can ask for a revision")
	}
	if _, err := NextStatus(ord.Status, ActionRequestRevision); err != nil {
		return err
	}
	if ord.RevisionsUsed >= ord.RevisionsAllowed {
		return Errorf(CodeConflict, "no revisions left: %d of %d used", ord.RevisionsUsed, ord.RevisionsAllowed)
	}
	return nil
}

// checkDelivery applies the delivery rules to the locked order and the named uploads.
// An upload that is missing or someone else's is "not yours" either way, so ids reveal
// nothing.
func checkDelivery(ord Order, in NewDelivery, files []DeliveryCandidate) error {
	if ord.SellerID != in.UserID {
		return Errorf(CodeForbidden, "only the seller can deliver")
	}
	if _, err := NextStatus(ord.Status, ActionDeliver); err != nil {
		return err
	}
	for i, id := range in.UploadIDs {
		field := "upload_ids[" + strconv.Itoa(i) + "]"
		j := slices.IndexFunc(files, func(c DeliveryCandidate) bool { return strings.EqualFold(c.Upload.ID, id) })
		if j < 0 || files[j].Upload.OwnerID != in.UserID {
			return FieldError(CodeInvalid, field, "no such upload of yours")
		}
		if msg := deliverableProblem(ord, files[j]); msg != "" {
			return FieldError(CodeInvalid, field, msg)
		}
	}
	return nil
}

func deliverableProblem(ord Order, c DeliveryCandidate) string {
	u := c.Upload
	switch {
	case u.Kind != UploadDeliverable:
		return "is a " + string(u.Kind) + " upload, not a deliverable"
	case u.OrderID == nil || *u.OrderID != ord.ID:
		return "was not uploaded for this order"
	case u.Status != UploadClean:
		return "is " + string(u.Status) + ", not clean: only scanned, clean files can be delivered"
	case c.InDelivery:
		return "is already part of a delivery"
	}
	return ""
}

// checkUploadIDs wants 1 to MaxFiles distinct UUIDs.
func (o *Orders) checkUploadIDs(ids []string) error {
	if len(ids) == 0 || len(ids) > o.cfg.MaxFiles {
		return FieldError(CodeInvalid, "upload_ids", fmt.Sprintf("must list 1 to %d uploads", o.cfg.MaxFiles))
	}
	seen := map[string]bool{}
	for i, id := range ids {
		field := "upload_ids[" + strconv.Itoa(i) + "]"
		if !uuidText.MatchString(id) {
			return FieldError(CodeInvalid, field, "must be a UUID")
		}
		if seen[strings.ToLower(id)] {
			return FieldError(CodeInvalid, field, "is listed twice")
		}
		seen[strings.ToLower(id)] = true
	}
	return nil
}

// cleanNote makes a note plain text (see plainText) of at most MaxNoteLength
// characters; a required one may not be empty.
func (o *Orders) cleanNote(note string, required bool) (string, error) {
	note, err := plainText("note", note, o.cfg.MaxNoteLength)
	if err != nil {
		return "", err
	}
	if required && note == "" {
		return "", FieldError(CodeInvalid, "note", "must say what should change")
	}
	return note, nil
}
