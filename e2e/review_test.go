package e2e

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

type apiReview struct {
	ID       string  `json:"id"`
	OrderID  string  `json:"order_id"`
	Rating   int     `json:"rating"`
	Comment  string  `json:"comment"`
	Response *string `json:"response"`
	Buyer    struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	} `json:"buyer"`
}

type apiReviewPage struct {
	Reviews []apiReview `json:"reviews"`
	Summary struct {
		Count        int     `json:"count"`
		Average      float64 `json:"average"`
		Distribution [5]int  `json:"distribution"`
	} `json:"summary"`
	NextCursor *string `json:"next_cursor"`
}

// completedOrder takes a paid order through one delivery to the buyer's acceptance.
func (o *orderNode) completedOrder(t *testing.T) string {
	t.Helper()
	id := o.paidOrder(t)
	var up uploaded
	expect(t, uploadForm(t, o.n, o.seller, map[string]string{"kind": "deliverable", "order_id": id}, "work.zip", randomBytes(t, 2000)), 201, "deliverable").json(t, &up)
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	expect(t, seller.do("POST", "/orders/"+id+"/deliveries", map[string]any{"upload_ids": []string{up.ID}, "note": "done"}), 201, "deliver")
	expect(t, buyer.do("POST", "/orders/"+id+"/accept", nil, "Idempotency-Key", "accept-"+id), 200, "accept")
	return id
}

// TestReviewsOfCompletedOrders: only the buyer of a completed order reviews it, once
// even when racing; the seller answers once; the gig's page and the seller's insights
// add up what was written; strangers see nothing of unpublished or foreign data.
func TestReviewsOfCompletedOrders(t *testing.T) {
	o := startOrderNode(t, nil, true)
	_, stranger := appUser(t, o.n, "reviewstranger")
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	other := &client{t: t, base: o.n.URL, bearer: stranger}

	paid := o.paidOrder(t)
	expectField(t, buyer.do("POST", "/orders/"+paid+"/review", map[string]any{"rating": 5}), 409, "order", "review before completion")

	first := o.completedOrder(t)
	sock := mustDial(t, o.n, o.seller)
	sock.subscribe("order:"+first, nil)
	path := "/orders/" + first + "/review"
	for what, c := range map[string]struct {
		body   any
		status int
		field  string
	}{
		"no rating":      {map[string]any{"comment": "hm"}, 422, "rating"},
		"rating 6":       {map[string]any{"rating": 6}, 422, "rating"},
		"rating as text": {map[string]any{"rating": "5"}, 400, "rating"},
		"long comment":   {map[string]any{"rating": 4, "comment": strings.Repeat("x", 2001)}, 422, "comment"},
		"unknown field":  {map[string]any{"rating": 4, "stars": 4}, 400, "stars"},
	} {
		expectField(t, buyer.do("POST", path, c.body), c.status, c.field, what)
	}
	expect(t, seller.do("POST", path, map[string]any{"rating": 5}), 403, "seller reviews")
	expect(t, other.do("POST", path, map[string]any{"rating": 1}), 404, "stranger reviews")

	// Eight racing reviews of one order: exactly one is stored.
	var wg sync.WaitGroup
	statuses := make(chan int, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &client{t: t, base: o.n.URL, bearer: o.buyer}
			statuses <- c.do("POST", path, map[string]any{"rating": 4, "comment": "  Clean <b>work</b>\x07 "}).status
		}()
	}
	wg.Wait()
	close(statuses)
	got := map[int]int{}
	for s := range statuses {
		got[s]++
	}
	if got[201] != 1 || got[409] != 7 {
		t.Fatalf("racing reviews answered %v; want one 201 and seven 409", got)
	}
	ev := sock.eventOfType("order:"+first, "order.reviewed", 10*time.Second)
	var data struct{ Review apiReview }
	_ = json.Unmarshal(ev.Data, &data)
	if data.Review.Rating != 4 || data.Review.Comment != "Clean <b>work</b>" || data.Review.Buyer.ID != o.buyerID {
		t.Fatalf("order.reviewed = %s", ev.Data)
	}

	expect(t, buyer.do("POST", path+"/response", map[string]string{"response": "thanks"}), 403, "buyer answers")
	expect(t, other.do("POST", path+"/response", map[string]string{"response": "thanks"}), 404, "stranger answers")
	expectField(t, seller.do("POST", path+"/response", map[string]string{"response": "  "}), 422, "response", "blank answer")
	var answered apiReview
	expect(t, seller.do("POST", path+"/response", map[string]string{"response": "Thank you!"}), 200, "answer").json(t, &answered)
	if answered.Response == nil || *answered.Response != "Thank you!" {
		t.Fatalf("answered = %+v", answered)
	}
	expectField(t, seller.do("POST", path+"/response", map[string]string{"response": "again"}), 409, "response", "second answer")
	expect(t, other.do("GET", path, nil), 404, "stranger reads the order's review")
	expect(t, buyer.do("GET", path, nil), 200, "buyer reads the order's review")

	second := o.completedOrder(t)
	expect(t, buyer.do("POST", "/orders/"+second+"/review", map[string]any{"rating": 5}), 201, "second review")

	// The gig's public page: anonymous, paged one by one, with the summary of both.
	var ids []string
	cursor := ""
	for range 3 {
		q := "/gigs/" + o.gigID + "/reviews?limit=1"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		var page apiReviewPage
		expect(t, as(t, o.n, "", "GET", q), 200, "gig reviews").json(t, &page)
		if page.Summary.Count != 2 || page.Summary.Average != 4.5 || page.Summary.Distribution != [5]int{0, 0, 0, 1, 1} {
			t.Fatalf("summary = %+v", page.Summary)
		}
		for _, r := range page.Reviews {
			ids = append(ids, r.OrderID)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if len(ids) != 2 || ids[0] != second || ids[1] != first {
		t.Fatalf("paged reviews by order %v; want newest first [%s %s]", ids, second, first)
	}
	expectField(t, as(t, o.n, "", "GET", "/gigs/"+o.gigID+"/reviews?cursor=nope"), 400, "cursor", "forged cursor")

	var ins struct {
		Overall struct {
			Count   int     `json:"count"`
			Average float64 `json:"average"`
		} `json:"overall"`
		ByCategory []struct{ Summary struct{ Count int } } `json:"by_category"`
		ByMonth    []struct {
			Month   string
			Summary struct{ Count int }
		} `json:"by_month"`
		Unanswered int `json:"unanswered"`
	}
	expect(t, seller.do("GET", "/me/reviews/insights", nil), 200, "insights").json(t, &ins)
	last := ins.ByMonth[len(ins.ByMonth)-1]
	if ins.Overall.Count != 2 || ins.Overall.Average != 4.5 || ins.Unanswered != 1 || len(ins.ByMonth) != 12 ||
		last.Month != time.Now().UTC().Format("2006-01") || last.Summary.Count != 2 || len(ins.ByCategory) != 1 {
		t.Fatalf("insights = %+v", ins)
	}
	expect(t, other.do("GET", "/me/reviews/insights", nil), 200, "a stranger's own (empty) insights")
}
