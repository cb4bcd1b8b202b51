package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// expectField fails unless r has status want and its problem names field.
func expectField(t *testing.T, r response, want int, field, what string) {
	t.Helper()
	expect(t, r, want, what)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("%s: content type %q", what, ct)
	}
	if fields := r.problemFields(t); !slices.Contains(fields, field) {
		t.Fatalf("%s: problem names %v, want %s: %s", what, fields, field, r.body)
	}
}

func TestOrderPlacementIsIdempotentAndValidated(t *testing.T) {
	o := startOrderNode(t, nil, true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	body := map[string]string{"gig_id": o.gigID, "tier": "basic"}
	expectField(t, buyer.do("POST", "/orders", body), 400, "Idempotency-Key", "no key")
	expectField(t, buyer.do("POST", "/orders", map[string]string{"gig_id": o.gigID, "tier": "basic", "status": "paid"}, "Idempotency-Key", "k0"), 400, "status", "unknown field")
	expectField(t, buyer.do("POST", "/orders", map[string]string{"gig_id": o.gigID, "tier": "gold"}, "Idempotency-Key", "k0"), 422, "tier", "bad tier")
	expectField(t, buyer.do("POST", "/orders", map[string]string{"gig_id": uuid.NewString(), "tier": "basic"}, "Idempotency-Key", "k0"), 404, "tier", "unknown gig")
	expectField(t, buyer.do("POST", "/orders", body, "Idempotency-Key", "has space"), 422, "Idempotency-Key", "bad key")
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	expectField(t, seller.do("POST", "/orders", body, "Idempotency-Key", "k-own"), 422, "gig_id", "own gig")

	key := uuid.NewString()
	r, first := o.placeOrder(t, key)
	expect(t, r, 201, "place")
	if first.Status != "placed" || first.PriceMinor != o.price || first.Currency != o.currency || first.SellerID != o.sellerID ||
		first.Payment == nil || first.Payment.PaymentIntentID == "" || first.Payment.ClientSecret == "" {
		t.Fatalf("placed order: %s", r.body)
	}
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, again := o.placeOrder(t, key)
			if r.status != 200 || again.ID != first.ID || r.header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("retry: %d %s", r.status, r.body)
			}
		}()
	}
	wg.Wait()
	expectField(t, buyer.do("POST", "/orders", map[string]string{"gig_id": o.gigID, "tier": "premium"}, "Idempotency-Key", key), 422, "Idempotency-Key", "key reused for another body")
	var list struct{ Orders []apiOrder }
	expect(t, buyer.do("GET", "/orders?role=buyer", nil), 200, "list").json(t, &list)
	if len(list.Orders) != 1 || list.Orders[0].ID != first.ID {
		t.Fatalf("buyer's orders: %+v", list.Orders)
	}
	var shown apiOrder
	expect(t, seller.do("GET", "/orders/"+first.ID, nil), 200, "seller sees").json(t, &shown)
	if shown.Payment != nil {
		t.Fatal("the seller sees the buyer's payment secret")
	}
	var threads struct {
		Conversations []struct {
			Kind    string
			OrderID *string `json:"order_id"`
		}
	}
	expect(t, seller.do("GET", "/conversations", nil), 200, "seller's conversations").json(t, &threads)
	if len(threads.Conversations) != 1 || threads.Conversations[0].Kind != "order" || *threads.Conversations[0].OrderID != first.ID {
		t.Fatalf("the order's thread: %+v", threads.Conversations)
	}
}

func TestOrderWebhookPaysOnceAndRefusesForgeries(t *testing.T) {
	o := startOrderNode(t, nil, true)
	r, ord := o.placeOrder(t, uuid.NewString())
	expect(t, r, 201, "place")
	sock := mustDial(t, o.n, o.buyer)
	if f := sock.subscribe("order:"+ord.ID, nil); f.Op != "reply" {
		t.Fatalf("buyer subscribes: %+v", f)
	}
	_, strangerToken := appUser(t, o.n, "peeker")
	if f := mustDial(t, o.n, strangerToken).subscribe("order:"+ord.ID, nil); f.Op != "error" {
		t.Fatalf("a stranger subscribed to the order: %+v", f)
	}

	body := paymentWebhook("evt_"+uuid.NewString(), "payment_intent.succeeded", ord, o.price, o.currency)
	forged := []string{
		stripeSignature(body, "whsec_wrong", time.Now()),
		stripeSignature(body, webhookSecret, time.Now().Add(-10*time.Minute)),
		"", "t=1,v1=00",
	}
	for _, sig := range forged {
		expectField(t, o.sendWebhook(t, body, sig), 400, "Stripe-Signature", "forged "+sig)
	}
	mismatch := paymentWebhook("evt_"+uuid.NewString(), "payment_intent.succeeded", ord, o.price-1, o.currency)
	expect(t, o.sendWebhook(t, mismatch, stripeSignature(mismatch, webhookSecret, time.Now())), 200, "mismatched amount")
	if n, escrow := o.ledger(t, ord.ID); n != 0 || escrow != 0 {
		t.Fatalf("forgeries moved money: %d transactions, escrow %d", n, escrow)
	}
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	var got apiOrder
	expect(t, buyer.do("GET", "/orders/"+ord.ID, nil), 200, "order").json(t, &got)
	if got.Status != "placed" {
		t.Fatalf("after forgeries: %s", got.Status)
	}

	declined := paymentWebhook("evt_"+uuid.NewString(), "payment_intent.payment_failed", ord, o.price, o.currency)
	r = expect(t, o.sendWebhook(t, declined, stripeSignature(declined, webhookSecret, time.Now())), 200, "payment failed")
	expect(t, buyer.do("GET", "/orders/"+ord.ID, nil), 200, "order").json(t, &got)
	if !strings.Contains(string(r.body), `"payment_failed"`) || got.Status != "placed" || got.Payment.Status != "failed" {
		t.Fatalf("after a declined card: %s, %+v", r.body, got.Payment)
	}
	sock.eventOfType("order:"+ord.ID, "order.payment_failed", 10*time.Second)

	sig := stripeSignature(body, webhookSecret, time.Now())
	var wg sync.WaitGroup
	outcomes := make(chan string, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := o.sendWebhook(t, body, sig)
			var out struct{ Outcome string }
			if r.status != 200 || json.Unmarshal(r.body, &out) != nil {
				t.Errorf("webhook: %d %s", r.status, r.body)
			}
			outcomes <- out.Outcome
		}()
	}
	wg.Wait()
	close(outcomes)
	applied := 0
	for oc := range outcomes {
		if oc == "applied" {
			applied++
		} else if oc != "duplicate" {
			t.Errorf("outcome %q", oc)
		}
	}
	if applied != 1 {
		t.Fatalf("%d webhooks applied, want 1", applied)
	}
	if n, escrow := o.ledger(t, ord.ID); n != 1 || escrow != o.price {
		t.Fatalf("ledger: %d transactions, escrow %d; want 1 and %d", n, escrow, o.price)
	}
	ev := sock.eventOfType("order:"+ord.ID, "order.paid", 10*time.Second)
	var data struct{ Order apiOrder }
	if err := json.Unmarshal(ev.Data, &data); err != nil || data.Order.Status != "paid" || data.Order.Payment != nil {
		t.Fatalf("order.paid data: %s", ev.Data)
	}
	expect(t, buyer.do("GET", "/orders/"+ord.ID, nil), 200, "order").json(t, &got)
	if got.Status != "paid" || got.Payment.Status != "succeeded" {
		t.Fatalf("after payment: %+v", got)
	}
}

// apiDelivery is a delivery as the API shows it.
type apiDelivery struct {
	ID, Note string
	Version  int
	Files    []struct {
		UploadID string `json:"upload_id"`
		SHA256   string
	}
}

func TestOrderDeliveriesRevisionsAndWhoSeesThem(t *testing.T) {
	o := startOrderNode(t, nil, true)
	r, ord := o.placeOrder(t, uuid.NewString())
	expect(t, r, 201, "place")
	_, stranger := appUser(t, o.n, "stranger")
	expectField(t, uploadForm(t, o.n, o.seller, map[string]string{"kind": "deliverable", "order_id": ord.ID}, "early.bin", randomBytes(t, 100)), 409, "order_id", "deliverable before payment")
	o.pay(t, ord)
	sock := mustDial(t, o.n, o.buyer)
	sock.subscribe("order:"+ord.ID, nil)

	// Who may upload for the order.
	form := map[string]string{"kind": "deliverable", "order_id": ord.ID}
	expectField(t, uploadForm(t, o.n, o.seller, map[string]string{"kind": "deliverable"}, "a.bin", randomBytes(t, 100)), 422, "order_id", "no order")
	expectField(t, uploadForm(t, o.n, stranger, form, "a.bin", randomBytes(t, 100)), 404, "order_id", "stranger uploads")
	expectField(t, uploadForm(t, o.n, o.buyer, form, "a.bin", randomBytes(t, 100)), 404, "order_id", "buyer uploads")

	v1 := randomBytes(t, 300<<10)
	var up1 uploaded
	expect(t, uploadForm(t, o.n, o.seller, form, "logo-v1.zip", v1), 201, "deliverable v1").json(t, &up1)
	expect(t, as(t, o.n, o.buyer, "GET", "/uploads/"+up1.ID+"/download"), 404, "buyer before delivery")

	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	path := "/orders/" + ord.ID
	// Bad deliveries.
	var avatar uploaded
	expect(t, uploadForm(t, o.n, o.seller, map[string]string{"kind": "avatar"}, "me.png", pngBytes(t)), 201, "avatar").json(t, &avatar)
	_, unfinished := tusCreate(t, o.n, o.seller, 1000, tusMetadata("filename", "part.bin", "kind", "deliverable", "order_id", ord.ID))
	for what, c := range map[string]struct {
		body  any
		field string
	}{
		"unknown field":  {map[string]any{"upload_ids": []string{up1.ID}, "version": 7}, "version"},
		"no files":       {map[string]any{"upload_ids": []string{}}, "upload_ids"},
		"avatar":         {map[string]any{"upload_ids": []string{avatar.ID}}, "upload_ids[0]"},
		"not clean":      {map[string]any{"upload_ids": []string{up1.ID, unfinished}}, "upload_ids[1]"},
		"someone else's": {map[string]any{"upload_ids": []string{uuid.NewString()}}, "upload_ids[0]"},
		"note too long":  {map[string]any{"upload_ids": []string{up1.ID}, "note": strings.Repeat("x", 5001)}, "note"},
		"not a uuid":     {map[string]any{"upload_ids": []string{"x"}}, "upload_ids[0]"},
	} {
		r := seller.do("POST", path+"/deliveries", c.body)
		if r.status != 400 && r.status != 422 {
			t.Fatalf("%s: status %d: %s", what, r.status, r.body)
		}
		expectField(t, r, r.status, c.field, what)
	}
	expect(t, buyer.do("POST", path+"/deliveries", map[string]any{"upload_ids": []string{up1.ID}}), 403, "buyer delivers")
	expect(t, seller.do("POST", path+"/revision", map[string]string{"note": "x"}), 403, "seller asks for a revision")
	expect(t, buyer.do("POST", path+"/revision", map[string]string{"note": "too early"}), 409, "revision before delivery")

	var d1 apiDelivery
	expect(t, seller.do("POST", path+"/deliveries", map[string]any{"upload_ids": []string{up1.ID}, "note": "First take <b>bold</b>\r\n"}), 201, "deliver v1").json(t, &d1)
	if d1.Version != 1 || d1.Note != "First take <b>bold</b>" || len(d1.Files) != 1 || d1.Files[0].SHA256 != sha(v1) {
		t.Fatalf("v1: %+v", d1)
	}
	sock.eventOfType("order:"+ord.ID, "order.delivered", 10*time.Second)
	if got := downloadSHA(t, o.n, o.buyer, up1.ID); got != sha(v1) {
		t.Fatal("the buyer's v1 download does not match")
	}
	expectField(t, seller.do("POST", path+"/deliveries", map[string]any{"upload_ids": []string{up1.ID}}), 422, "upload_ids[0]", "reused file")

	expectField(t, buyer.do("POST", path+"/revision", map[string]string{"note": " "}), 422, "note", "blank revision note")
	var revised apiOrder
	expect(t, buyer.do("POST", path+"/revision", map[string]string{"note": "Darker blue, please."}), 200, "revision").json(t, &revised)
	if revised.Status != "revision_requested" || revised.RevisionsUsed != 1 {
		t.Fatalf("after revision: %+v", revised)
	}
	sock.eventOfType("order:"+ord.ID, "order.revision_requested", 10*time.Second)

	v2 := randomBytes(t, 200<<10)
	var up2 uploaded
	expect(t, uploadForm(t, o.n, o.seller, form, "logo-v2.zip", v2), 201, "deliverable v2").json(t, &up2)
	var d2 apiDelivery
	expect(t, seller.do("POST", path+"/deliveries", map[string]any{"upload_ids": []string{up2.ID}, "note": "Darker."}), 201, "deliver v2").json(t, &d2)
	if d2.Version != 2 {
		t.Fatalf("v2: %+v", d2)
	}
	var list struct{ Deliveries []apiDelivery }
	expect(t, buyer.do("GET", path+"/deliveries", nil), 200, "deliveries").json(t, &list)
	if len(list.Deliveries) != 2 || list.Deliveries[0].Version != 2 || list.Deliveries[1].Version != 1 {
		t.Fatalf("deliveries: %+v", list.Deliveries)
	}
	for _, want := range []struct{ id, sha string }{{up1.ID, sha(v1)}, {up2.ID, sha(v2)}} {
		if got := downloadSHA(t, o.n, o.buyer, want.id); got != want.sha {
			t.Fatalf("download of %s does not match", want.id)
		}
	}
	expect(t, buyer.do("POST", path+"/deliveries", nil), 415, "no body")
	expect(t, buyer.do("POST", path+"/revision", map[string]string{"note": "Again"}), 409, "no revisions left")

	// A third user sees none of it.
	outsider := &client{t: t, base: o.n.URL, bearer: stranger}
	for _, p := range []string{path, path + "/deliveries", "/uploads/" + up1.ID, "/uploads/" + up1.ID + "/download", "/uploads/" + up2.ID + "/download"} {
		expect(t, outsider.do("GET", p, nil), 404, "stranger GET "+p)
	}
	expect(t, outsider.do("POST", path+"/revision", map[string]string{"note": "x"}), 404, "stranger asks for a revision")
	expect(t, outsider.do("POST", path+"/deliveries", map[string]any{"upload_ids": []string{up2.ID}}), 404, "stranger delivers")
	expect(t, as(t, o.n, "", "GET", path), 401, "anonymous")
	var none struct{ Orders []apiOrder }
	expect(t, outsider.do("GET", "/orders", nil), 200, "stranger's orders").json(t, &none)
	if len(none.Orders) != 0 {
		t.Fatalf("a stranger lists %d orders", len(none.Orders))
	}
}
