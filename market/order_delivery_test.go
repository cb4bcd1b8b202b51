package market

import (
	"strings"
	"testing"
)

const (
	testSeller = "11111111-1111-4111-8111-111111111111"
	testBuyer  = "22222222-2222-4222-8222-222222222222"
	testUpload = "33333333-3333-4333-8333-333333333333"
)

func TestCheckDelivery(t *testing.T) {
	order := testOrder
	other := "44444444-4444-4444-8444-444444444444"
	ord := Order{ID: order, SellerID: testSeller, BuyerID: testBuyer, Status: OrderPaid}
	good := DeliveryCandidate{Upload: Upload{ID: testUpload, OwnerID: testSeller, Kind: UploadDeliverable, Status: UploadClean, OrderID: &order}}
	in := NewDelivery{OrderID: order, UserID: testSeller, UploadIDs: []string{testUpload}}
	if err := checkDelivery(ord, in, []DeliveryCandidate{good}); err != nil {
		t.Fatalf("a good delivery: %v", err)
	}
	change := func(f func(*DeliveryCandidate)) []DeliveryCandidate { c := good; f(&c); return []DeliveryCandidate{c} }
	cases := map[string]struct {
		ord   Order
		in    NewDelivery
		files []DeliveryCandidate
		code  Code
	}{
		"buyer delivers":  {ord, NewDelivery{OrderID: order, UserID: testBuyer, UploadIDs: in.UploadIDs}, []DeliveryCandidate{good}, CodeForbidden},
		"not paid":        {Order{ID: order, SellerID: testSeller, Status: OrderPlaced}, in, []DeliveryCandidate{good}, CodeConflict},
		"missing upload":  {ord, in, nil, CodeInvalid},
		"someone else's":  {ord, in, change(func(c *DeliveryCandidate) { c.Upload.OwnerID = testBuyer }), CodeInvalid},
		"wrong kind":      {ord, in, change(func(c *DeliveryCandidate) { c.Upload.Kind = UploadAttachment }), CodeInvalid},
		"other order":     {ord, in, change(func(c *DeliveryCandidate) { c.Upload.OrderID = &other }), CodeInvalid},
		"no order":        {ord, in, change(func(c *DeliveryCandidate) { c.Upload.OrderID = nil }), CodeInvalid},
		"not clean":       {ord, in, change(func(c *DeliveryCandidate) { c.Upload.Status = UploadRejected }), CodeInvalid},
		"delivered twice": {ord, in, change(func(c *DeliveryCandidate) { c.InDelivery = true }), CodeInvalid},
	}
	for name, c := range cases {
		err := checkDelivery(c.ord, c.in, c.files)
		if ErrorCode(err) != c.code {
			t.Errorf("%s: %v, want %s", name, err, c.code)
		}
		if e, ok := err.(*Error); ok && c.code == CodeInvalid && e.Field != "upload_ids[0]" {
			t.Errorf("%s: field %q", name, e.Field)
		}
	}
}

func TestCheckRevision(t *testing.T) {
	ord := Order{SellerID: testSeller, BuyerID: testBuyer, Status: OrderDelivered, RevisionsAllowed: 1}
	if err := checkRevision(ord, testBuyer); err != nil {
		t.Fatal(err)
	}
	if ErrorCode(checkRevision(ord, testSeller)) != CodeForbidden {
		t.Error("the seller asked for a revision")
	}
	used := ord
	used.RevisionsUsed = 1
	if ErrorCode(checkRevision(used, testBuyer)) != CodeConflict {
		t.Error("a revision past the allowance")
	}
	paid := ord
	paid.Status = OrderPaid
	if ErrorCode(checkRevision(paid, testBuyer)) != CodeConflict {
		t.Error("a revision before any delivery")
	}
}

func TestNotesArePlainTextWithinTheLimit(t *testing.T) {
	o := NewOrders(nil, nil, nil, OrdersConfig{}, nil)
	got, err := o.cleanNote("  hello\r\nworld\x00\x1b[31m\t!  ", false)
	if err != nil || got != "hello\nworld[31m\t!" {
		t.Fatalf("cleanNote = %q, %v", got, err)
	}
	if _, err := o.cleanNote(strings.Repeat("é", 5001), false); ErrorCode(err) != CodeInvalid {
		t.Fatalf("5001 characters: %v", err)
	}
	if _, err := o.cleanNote(strings.Repeat("é", 5000), false); err != nil {
		t.Fatalf("5000 characters: %v", err)
	}
	if _, err := o.cleanNote(" \n ", true); ErrorCode(err) != CodeInvalid {
		t.Fatalf("blank required note: %v", err)
	}
	if _, err := o.cleanNote("\xff", false); ErrorCode(err) != CodeInvalid {
		t.Fatalf("invalid UTF-8: %v", err)
	}
}

func TestCheckUploadIDs(t *testing.T) {
	o := NewOrders(nil, nil, nil, OrdersConfig{MaxFiles: 2}, nil)
	for name, ids := range map[string][]string{
		"none": nil, "too many": {testUpload, testSeller, testBuyer}, "not a uuid": {"x"}, "twice": {testUpload, strings.ToUpper(testUpload)},
	} {
		if ErrorCode(o.checkUploadIDs(ids)) != CodeInvalid {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestIdempotencyKeyRules(t *testing.T) {
	for _, bad := range []string{"", "has space", strings.Repeat("k", 256), "ключ"} {
		if err := checkIdempotencyKey(bad); ErrorCode(err) != CodeInvalid {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := checkIdempotencyKey("5b1e-4c-retry_1"); err != nil {
		t.Fatal(err)
	}
	a := orderRequestHash(NewOrder{GigID: "g", Tier: "basic"})
	if a == orderRequestHash(NewOrder{GigID: "g", Tier: "premium"}) || a != orderRequestHash(NewOrder{GigID: "g", Tier: "basic", IdempotencyKey: "other"}) {
		t.Fatal("the request hash does not follow the request")
	}
}
