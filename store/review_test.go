package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

// completedOrder is a paid order set to completed directly: the accept flow is the
// orders' business, these tests are about what reviews do with a completed order.
func (f orderFixture) completedOrder(t *testing.T) market.Order {
	t.Helper()
	o := f.paidOrder(t)
	_, err := f.raw.Exec(`UPDATE orders SET status = 'completed' WHERE id = $1`, o.ID)
	must(t, err)
	o.Status = market.OrderCompleted
	return o
}

func allow(market.Order) error { return nil }

func TestReviewOncePerOrderEvenUnderConcurrency(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	o := f.completedOrder(t)

	var wg sync.WaitGroup
	var mu sync.Mutex
	created, conflicts := 0, 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ev, err := f.db.CreateReview(ctx, market.NewReview{OrderID: o.ID, BuyerID: f.buyer, Rating: 1 + i%5}, allow)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && ev.Type == "order.reviewed" && ev.Channel == market.OrderChannel(o.ID):
				created++
			case market.ErrorCode(err) == market.CodeConflict:
				conflicts++
			default:
				t.Errorf("CreateReview = %+v, %v", ev, err)
			}
		}()
	}
	wg.Wait()
	if created != 1 || conflicts != 7 {
		t.Fatalf("%d reviews created, %d conflicts; want 1 and 7", created, conflicts)
	}
	rev, err := f.db.ReviewOfOrder(ctx, o.ID, f.seller)
	if err != nil || rev.Buyer.ID != f.buyer || rev.GigID != f.gig || rev.SellerID != f.seller {
		t.Fatalf("ReviewOfOrder = %+v, %v", rev, err)
	}
	if _, err := f.db.ReviewOfOrder(ctx, o.ID, newUUID(t)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("review seen by a stranger: %v", err)
	}
	if _, _, err := f.db.CreateReview(ctx, market.NewReview{OrderID: o.ID, BuyerID: newUUID(t), Rating: 5}, allow); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("review by a stranger: %v, want not found", err)
	}
}

func TestReviewResponseAndRefusalsWriteNothing(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	o := f.completedOrder(t)
	answer := func(market.Order, market.Review) error { return nil }
	if _, _, err := f.db.RespondToReview(ctx, o.ID, f.seller, "thanks", answer); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("answer before any review = %v, want not found", err)
	}
	refuse := errors.New("refused")
	if _, _, err := f.db.CreateReview(ctx, market.NewReview{OrderID: o.ID, BuyerID: f.buyer, Rating: 4}, func(market.Order) error { return refuse }); !errors.Is(err, refuse) {
		t.Fatalf("refused review = %v", err)
	}
	if _, err := f.db.ReviewOfOrder(ctx, o.ID, f.buyer); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused review was stored: %v", err)
	}
	if _, _, err := f.db.CreateReview(ctx, market.NewReview{OrderID: o.ID, BuyerID: f.buyer, Rating: 4, Comment: "good"}, allow); err != nil {
		t.Fatal(err)
	}
	rev, ev, err := f.db.RespondToReview(ctx, o.ID, f.seller, "thanks", answer)
	if err != nil || rev.Response == nil || *rev.Response != "thanks" || rev.RespondedAt == nil || ev.Type != "order.review_answered" {
		t.Fatalf("RespondToReview = %+v, %+v, %v", rev, ev, err)
	}
}

func TestGigReviewPagesAndSellerInsights(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	ratings := []int{5, 4, 5, 3, 5}
	for _, r := range ratings {
		o := f.completedOrder(t)
		if _, _, err := f.db.CreateReview(ctx, market.NewReview{OrderID: o.ID, BuyerID: f.buyer, Rating: r}, allow); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	var after *market.ReviewCursor
	for page := 0; ; page++ {
		list, counts, err := f.db.GigReviews(ctx, f.gig, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if counts != [5]int{0, 0, 1, 1, 3} {
			t.Fatalf("counts = %v", counts)
		}
		for i, r := range list {
			seen = append(seen, r.ID)
			if i > 0 && list[i-1].CreatedAt.Before(r.CreatedAt) {
				t.Fatal("reviews not newest first")
			}
		}
		if len(list) < 2 {
			break
		}
		last := list[len(list)-1]
		after = &market.ReviewCursor{CreatedAt: last.CreatedAt, ID: last.ID}
		if page > 5 {
			t.Fatal("pages never end")
		}
	}
	if len(seen) != len(ratings) {
		t.Fatalf("paged through %d reviews, want %d", len(seen), len(ratings))
	}
	gig, err := f.db.Gig(ctx, f.gig)
	if err != nil || gig.Rating != (market.GigRating{Count: 5, Total: 22}) {
		t.Fatalf("gig rating = %+v, %v; want 5 reviews totalling 22", gig.Rating, err)
	}
	ins, err := f.db.SellerInsights(ctx, f.seller, time.Now().AddDate(0, -1, 0))
	if err != nil {
		t.Fatal(err)
	}
	month := time.Now().UTC().Format("2006-01")
	if ins.Overall != [5]int{0, 0, 1, 1, 3} || ins.Unanswered != 5 || ins.ByMonth[month] != ins.Overall ||
		len(ins.ByCategory) != 1 || ins.ByCategory[0].Counts != ins.Overall {
		t.Fatalf("insights = %+v", ins)
	}
}
