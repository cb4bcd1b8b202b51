package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/gigstream/hub/market"
)

// paidOrder places and pays an order of the fixture.
func (f orderFixture) paidOrder(t *testing.T) market.Order {
	t.Helper()
	ctx := context.Background()
	o := f.place(t, newUUID(t)).Order
	_, err := f.db.RecordPayment(ctx, o.ID, market.PaymentInfo{Provider: "stripe", PaymentIntentID: "pi", ClientSecret: "s", AmountMinor: o.PriceMinor, Currency: o.Currency})
	must(t, err)
	_, err = f.db.ApplyPaymentEvent(ctx, market.PaymentEvent{Provider: "stripe", ID: newUUID(t), Type: market.StripePaymentSucceeded, OrderID: o.ID}, fundDecision)
	must(t, err)
	return o
}

// cleanDeliverable records a clean deliverable upload of the seller for the order.
func (f orderFixture) cleanDeliverable(t *testing.T, orderID string) string {
	t.Helper()
	ctx := context.Background()
	u, _, err := f.db.CreateUpload(ctx, market.NewUpload{OwnerID: f.seller, Kind: market.UploadDeliverable, Filename: "work.zip", OrderID: &orderID})
	must(t, err)
	_, _, err = f.db.SettleUpload(ctx, u.ID, market.StoredObject{Key: "k/" + u.ID, Size: 3, SHA256: strings.Repeat("a", 64), ContentType: "application/zip", Filename: "work.zip"})
	must(t, err)
	return u.ID
}

func acceptDelivery(market.Order, []market.DeliveryCandidate) error { return nil }

func TestDeliveriesAreDenseVersionsWithTheirFiles(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	o := f.paidOrder(t)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := f.cleanDeliverable(t, o.ID)
			if _, _, _, err := f.db.CreateDelivery(ctx, market.NewDelivery{OrderID: o.ID, UserID: f.seller, UploadIDs: []string{id}}, acceptDelivery); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	list, err := f.db.Deliveries(ctx, o.ID, f.buyer)
	must(t, err)
	if len(list) != 3 || list[0].Version != 3 || list[2].Version != 1 || len(list[1].Files) != 1 || list[1].Files[0].SHA256 == "" {
		t.Fatalf("deliveries: %+v", list)
	}
	if ok, _ := f.db.DeliveredTo(ctx, list[2].Files[0].UploadID, f.buyer); !ok {
		t.Fatal("the buyer cannot see a delivered file")
	}
	if ok, _ := f.db.DeliveredTo(ctx, list[2].Files[0].UploadID, f.seller); ok {
		t.Fatal("DeliveredTo holds for the seller, who is no buyer")
	}
	got, err := f.db.Order(ctx, o.ID, f.seller)
	if err != nil || got.Status != market.OrderDelivered || got.DeliveredAt == nil {
		t.Fatalf("order after delivery: %+v, %v", got, err)
	}
}

func TestAnUploadIsInOneDeliveryOnly(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	o := f.paidOrder(t)
	id := f.cleanDeliverable(t, o.ID)
	in := market.NewDelivery{OrderID: o.ID, UserID: f.seller, UploadIDs: []string{id}}
	if _, _, _, err := f.db.CreateDelivery(ctx, in, acceptDelivery); err != nil {
		t.Fatal(err)
	}
	var seen []market.DeliveryCandidate
	_, _, _, err := f.db.CreateDelivery(ctx, in, func(_ market.Order, c []market.DeliveryCandidate) error { seen = c; return nil })
	if err == nil {
		t.Fatal("one upload went into two deliveries")
	}
	if len(seen) != 1 || !seen[0].InDelivery {
		t.Fatalf("candidates: %+v", seen)
	}
}

func TestRevisionCountsAndRefusalsWriteNothing(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	o := f.paidOrder(t)
	_, _, _, err := f.db.CreateDelivery(ctx, market.NewDelivery{OrderID: o.ID, UserID: f.seller, UploadIDs: []string{f.cleanDeliverable(t, o.ID)}}, acceptDelivery)
	must(t, err)
	no := errors.New("no")
	if _, _, err := f.db.RequestRevision(ctx, market.NewRevision{OrderID: o.ID, UserID: f.buyer, Note: "x"}, func(market.Order) error { return no }); !errors.Is(err, no) {
		t.Fatalf("refused revision: %v", err)
	}
	ord, ev, err := f.db.RequestRevision(ctx, market.NewRevision{OrderID: o.ID, UserID: f.buyer, Note: "bigger logo"}, func(market.Order) error { return nil })
	must(t, err)
	if ord.Status != market.OrderRevisionRequested || ord.RevisionsUsed != 1 || ev.Type != "order.revision_requested" || !strings.Contains(string(ev.Data), "bigger logo") {
		t.Fatalf("after revision: %+v %s", ord, ev.Data)
	}
	if _, _, err := f.db.RequestRevision(ctx, market.NewRevision{OrderID: o.ID, UserID: newUUID(t), Note: "x"}, func(market.Order) error { return nil }); !errors.Is(err, market.ErrNotFound) {
		t.Fatalf("stranger's revision: %v", err)
	}
}
