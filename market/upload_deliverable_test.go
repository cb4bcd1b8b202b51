package market

import (
	"context"
	"testing"
)

// orderUploadStore answers the order questions of the deliverable rules; any other
// method of UploadStore panics (nil embedded interface), so a test notices a call it
// did not expect.
type orderUploadStore struct {
	UploadStore
	seller    string
	status    OrderStatus
	missing   bool
	row       Upload
	delivered bool
}

func (s orderUploadStore) OrderForUpload(context.Context, string) (string, OrderStatus, error) {
	if s.missing {
		return "", "", ErrNotFound
	}
	return s.seller, s.status, nil
}

func (s orderUploadStore) DeliveredTo(context.Context, string, string) (bool, error) {
	return s.delivered, nil
}

func (s orderUploadStore) Upload(context.Context, string) (Upload, error) { return s.row, nil }

func TestDeliverableUploadNeedsAnOrderTheUploaderSells(t *testing.T) {
	order, gig, bad := testOrder, testUpload, "not-a-uuid"
	in := NewUpload{OwnerID: testSeller, Kind: UploadDeliverable, OrderID: &order}
	ok := orderUploadStore{seller: testSeller, status: OrderPaid}
	cases := []struct {
		name  string
		store orderUploadStore
		in    NewUpload
		code  Code
		field string
	}{
		{"paid", ok, in, "", ""},
		{"revision requested", orderUploadStore{seller: testSeller, status: OrderRevisionRequested}, in, "", ""},
		{"delivered", orderUploadStore{seller: testSeller, status: OrderDelivered}, in, "", ""},
		{"no order id", ok, NewUpload{OwnerID: testSeller, Kind: UploadDeliverable}, CodeInvalid, "order_id"},
		{"malformed order id", ok, NewUpload{OwnerID: testSeller, Kind: UploadDeliverable, OrderID: &bad}, CodeInvalid, "order_id"},
		{"a gig too", ok, NewUpload{OwnerID: testSeller, Kind: UploadDeliverable, OrderID: &order, GigID: &gig}, CodeInvalid, "gig_id"},
		{"someone else's order", orderUploadStore{seller: testBuyer, status: OrderPaid}, in, CodeNotFound, "order_id"},
		{"no such order", orderUploadStore{missing: true}, in, CodeNotFound, "order_id"},
		{"not paid yet", orderUploadStore{seller: testSeller, status: OrderPlaced}, in, CodeConflict, "order_id"},
		{"completed", orderUploadStore{seller: testSeller, status: OrderCompleted}, in, CodeConflict, "order_id"},
	}
	for _, c := range cases {
		err := NewUploads(c.store, nil, nil, nil, nil).checkTarget(context.Background(), c.in)
		if ErrorCode(err) != c.code {
			t.Errorf("%s: %v, want code %q", c.name, err, c.code)
		}
		if e, isErr := err.(*Error); isErr && e.Field != c.field {
			t.Errorf("%s: field %q, want %q", c.name, e.Field, c.field)
		}
	}
}

func TestDeliverableIsVisibleToTheBuyerOnceDelivered(t *testing.T) {
	row := Upload{ID: testUpload, OwnerID: testSeller, Kind: UploadDeliverable, Status: UploadClean}
	for _, c := range []struct {
		name      string
		viewer    string
		delivered bool
		status    UploadStatus
		visible   bool
	}{
		{"uploader", testSeller, false, UploadScanning, true},
		{"buyer, delivered", testBuyer, true, UploadClean, true},
		{"buyer, not delivered", testBuyer, false, UploadClean, false},
		{"anonymous", "", true, UploadClean, false},
	} {
		r := row
		r.Status = c.status
		u := NewUploads(orderUploadStore{row: r, delivered: c.delivered}, nil, nil, nil, nil)
		_, err := u.Visible(context.Background(), testUpload, c.viewer)
		if (err == nil) != c.visible {
			t.Errorf("%s: err %v, want visible %v", c.name, err, c.visible)
		}
		if err != nil && ErrorCode(err) != CodeNotFound {
			t.Errorf("%s: %v, want not found", c.name, err)
		}
	}
}
