package e2e

import (
	"sync"
	"testing"
	"time"
)

// apiDispute is a dispute as the API shows it.
type apiDispute struct {
	ID, Status, Reason string
	PriorStatus        string  `json:"prior_status"`
	Response           *string `json:"response"`
	RefundMinor        *int64  `json:"refund_minor"`
}

type apiDisputeStep struct {
	Order   apiOrder
	Dispute apiDispute
}

// orderStatus is the order's status as its buyer sees it.
func orderStatus(t *testing.T, c *client, id string) string {
	t.Helper()
	var ord apiOrder
	expect(t, c.do("GET", "/orders/"+id, nil), 200, "order").json(t, &ord)
	return ord.Status
}

// TestDisputeFreezesTheOrderUntilWithdrawnOrResolved runs disputes over the built
// binary with a 2 s auto-complete: a disputed order refuses every other way out and
// moves no money; the seller answers once; a withdrawal returns it to delivered; a
// second dispute is resolved once by an admin with an exact partial refund, however
// many resolutions race.
func TestDisputeFreezesTheOrderUntilWithdrawnOrResolved(t *testing.T) {
	o := startOrderNode(t, map[string]string{"ORDER_AUTO_COMPLETE_AFTER": "2s", "SETTLEMENT_JOB_INTERVAL": "1s"}, true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	_, strangerToken := appUser(t, o.n, "nosy")
	stranger := &client{t: t, base: o.n.URL, bearer: strangerToken}
	admin := &client{t: t, base: o.n.URL, bearer: o.adminToken(t)}

	id := o.deliveredOrder(t)
	path := "/orders/" + id
	var spare struct{ ID string }
	expect(t, uploadForm(t, o.n, o.seller, map[string]string{"kind": "deliverable", "order_id": id}, "v2.zip", randomBytes(t, 100)), 201, "second deliverable").json(t, &spare)
	reason := map[string]any{"reason": "The logo is not what we agreed on."}

	// Bad input names the field.
	expectField(t, buyer.do("POST", path+"/dispute", reason), 400, "Idempotency-Key", "no key")
	expectField(t, buyer.do("POST", path+"/dispute", map[string]any{"reason": "too short"}, key()...), 422, "reason", "a short reason")
	expectField(t, buyer.do("POST", path+"/dispute", map[string]any{"reason": 12345678901}, key()...), 400, "reason", "a number")
	expectField(t, buyer.do("POST", path+"/dispute", map[string]any{"reason": "long enough reason", "refund": 1}, key()...), 400, "refund", "an unknown field")
	expect(t, seller.do("POST", path+"/dispute", reason, key()...), 403, "the seller opens")
	expect(t, stranger.do("POST", path+"/dispute", reason, key()...), 404, "a stranger opens")
	expect(t, buyer.do("GET", path+"/dispute", nil), 404, "no dispute yet")

	k := key()
	var opened apiDisputeStep
	expect(t, buyer.do("POST", path+"/dispute", reason, k...), 201, "open").json(t, &opened)
	if opened.Order.Status != "disputed" || opened.Dispute.Status != "open" || opened.Dispute.PriorStatus != "delivered" {
		t.Fatalf("opened: %+v", opened)
	}
	if r := expect(t, buyer.do("POST", path+"/dispute", reason, k...), 200, "retry open"); r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("a retried open is not marked replayed")
	}
	expect(t, buyer.do("POST", path+"/dispute", reason, key()...), 409, "open twice")

	// Nothing else moves a disputed order.
	expect(t, buyer.do("POST", path+"/accept", nil, key()...), 409, "accept")
	expect(t, seller.do("POST", path+"/cancel", nil, key()...), 409, "seller cancel")
	expect(t, admin.do("POST", path+"/refund", map[string]any{"amount_minor": 100, "reason": "x"}, key()...), 409, "admin refund")
	expect(t, seller.do("POST", path+"/deliveries", map[string]any{"upload_ids": []string{spare.ID}}), 409, "delivery")
	expect(t, buyer.do("POST", path+"/revision", map[string]any{"note": "more"}), 409, "revision")
	waitNotification(t, seller, "order_disputed", id)
	time.Sleep(4 * time.Second) // two auto-complete periods and more than one job run
	if s := orderStatus(t, buyer, id); s != "disputed" {
		t.Fatalf("after the auto-complete period: %s", s)
	}
	if n, escrow := o.ledger(t, id); n != 1 || escrow != o.price {
		t.Fatalf("money moved while disputed: %d transactions, escrow %d", n, escrow)
	}

	// Strangers see nothing; the seller answers once.
	for _, p := range []string{"/dispute/response", "/dispute/withdraw"} {
		expect(t, stranger.do("POST", path+p, map[string]any{"response": "hi"}, key()...), 404, "stranger "+p)
	}
	expect(t, stranger.do("GET", path+"/dispute", nil), 404, "stranger reads")
	expect(t, stranger.do("POST", path+"/dispute/resolve", map[string]any{"refund_minor": 0, "note": "x"}, key()...), 404, "stranger resolves")
	expectField(t, seller.do("POST", path+"/dispute/response", map[string]any{"response": "  "}, key()...), 422, "response", "an empty answer")
	expect(t, buyer.do("POST", path+"/dispute/response", map[string]any{"response": "me too"}, key()...), 403, "the buyer answers")
	expect(t, seller.do("POST", path+"/dispute/response", map[string]any{"response": "We delivered the brief."}, key()...), 200, "answer")
	expect(t, seller.do("POST", path+"/dispute/response", map[string]any{"response": "And again."}, key()...), 409, "answer twice")
	waitNotification(t, buyer, "dispute_answered", id)
	var d apiDispute
	expect(t, admin.do("GET", path+"/dispute", nil), 200, "admin reads").json(t, &d)
	if d.Response == nil || *d.Response != "We delivered the brief." {
		t.Fatalf("dispute: %+v", d)
	}

	// Withdrawn: back to delivered, and the buyer accepts.
	expect(t, seller.do("POST", path+"/dispute/withdraw", nil, key()...), 403, "the seller withdraws")
	var back apiDisputeStep
	expect(t, buyer.do("POST", path+"/dispute/withdraw", nil, key()...), 200, "withdraw").json(t, &back)
	if back.Order.Status != "delivered" || back.Dispute.Status != "withdrawn" {
		t.Fatalf("withdrawn: %+v", back)
	}
	expect(t, buyer.do("POST", path+"/accept", nil, key()...), 200, "accept after the withdrawal")

	resolveRace(t, o, buyer, seller, admin)
}

// resolveRace disputes a second order and races ten admin resolutions of it.
func resolveRace(t *testing.T, o *orderNode, buyer, seller, admin *client) {
	t.Helper()
	id := o.deliveredOrder(t)
	path := "/orders/" + id
	expect(t, buyer.do("POST", path+"/dispute", map[string]any{"reason": "Half of the files are missing."}, key()...), 201, "open")
	var queue struct{ Orders []apiOrder }
	expect(t, admin.do("GET", "/admin/orders?status=disputed", nil), 200, "queue").json(t, &queue)
	if len(queue.Orders) != 1 || queue.Orders[0].ID != id {
		t.Fatalf("disputed queue: %+v", queue.Orders)
	}
	expect(t, seller.do("GET", "/admin/orders?status=disputed", nil), 404, "a seller's queue")
	expectField(t, admin.do("GET", "/admin/orders?status=lost", nil), 422, "status", "unknown status")
	resolve := map[string]any{"refund_minor": 1000, "note": "Half the files were missing."}
	expect(t, buyer.do("POST", path+"/dispute/resolve", resolve, key()...), 403, "the buyer resolves")
	expectField(t, admin.do("POST", path+"/dispute/resolve", map[string]any{"refund_minor": o.price + 1, "note": "x"}, key()...), 422, "refund_minor", "above the price")
	expectField(t, admin.do("POST", path+"/dispute/resolve", map[string]any{"note": "x"}, key()...), 422, "refund_minor", "no amount")
	expectField(t, admin.do("POST", path+"/dispute/resolve", map[string]any{"refund_minor": 10, "note": ""}, key()...), 422, "note", "no note")

	var wg sync.WaitGroup
	statuses := make(chan int, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- admin.do("POST", path+"/dispute/resolve", resolve, key()...).status
		}()
	}
	wg.Wait()
	close(statuses)
	wins, all := 0, []int{}
	for s := range statuses {
		all = append(all, s)
		if s == 200 {
			wins++
		} else if s != 409 {
			t.Errorf("a resolution answered %d", s)
		}
	}
	if wins != 1 {
		t.Fatalf("%d resolutions won: %v", wins, all)
	}
	// 4500 price, 1000 back, 10 % fee on the 3500 rest.
	sum := func(account string) int64 {
		return o.sqlInt64(t, `SELECT COALESCE(sum(p.amount_minor), 0) FROM ledger_postings p JOIN ledger_transactions x ON x.id = p.transaction_id
			WHERE x.order_id = $1 AND p.account = $2`, id, account)
	}
	if e, f, s := sum("escrow:order:"+id), sum("platform:fees"), sum("seller:"+o.sellerID+":pending"); e != 0 || f != 350 || s != 3150 {
		t.Fatalf("escrow %d, fee %d, seller %d", e, f, s)
	}
	if r := o.sqlInt64(t, `SELECT count(*) FROM refunds WHERE order_id = $1 AND amount_minor = 1000`, id); r != 1 {
		t.Fatalf("%d refund rows", r)
	}
	if s := orderStatus(t, buyer, id); s != "cancelled" {
		t.Fatalf("resolved with a refund: %s", s)
	}
	waitNotification(t, seller, "dispute_resolved", id)
	waitNotification(t, buyer, "dispute_resolved", id)
	assertCheckClean(t, admin)
	o.assertLedgerConserved(t)
}

// apiAudit is GET /admin/ledger/check.
type apiAudit struct {
	Currencies []struct {
		Currency string
		SumMinor int64 `json:"sum_minor"`
	}
	Overdrawn, Mismatched []map[string]any
	OK                    bool
}

func assertCheckClean(t *testing.T, admin *client) {
	t.Helper()
	var a apiAudit
	expect(t, admin.do("GET", "/admin/ledger/check", nil), 200, "ledger check").json(t, &a)
	if !a.OK || len(a.Overdrawn) != 0 || len(a.Mismatched) != 0 || len(a.Currencies) == 0 {
		t.Fatalf("ledger check: %+v", a)
	}
	for _, c := range a.Currencies {
		if c.SumMinor != 0 {
			t.Fatalf("%s sums to %d", c.Currency, c.SumMinor)
		}
	}
}

// apiLedgerEntry is a statement line of GET /me/ledger.
type apiLedgerEntry struct {
	Kind, Account, Currency string
	OrderID                 *string `json:"order_id"`
	AmountMinor             int64   `json:"amount_minor"`
	BalanceAfterMinor       int64   `json:"balance_after_minor"`
}

type apiLedgerPage struct {
	Entries    []apiLedgerEntry
	NextCursor string `json:"next_cursor"`
}

// TestLedgerStatementAndCheck reads a seller's statement page by page, an admin reads
// the fees account, and only admins see the ledger check.
func TestLedgerStatementAndCheck(t *testing.T) {
	o := startOrderNode(t, nil, true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	admin := &client{t: t, base: o.n.URL, bearer: o.adminToken(t)}
	var ids []string
	for range 2 {
		id := o.deliveredOrder(t)
		expect(t, buyer.do("POST", "/orders/"+id+"/accept", nil, key()...), 200, "accept")
		ids = append(ids, id)
	}
	var first, second apiLedgerPage
	expect(t, seller.do("GET", "/me/ledger?limit=1", nil), 200, "first page").json(t, &first)
	if len(first.Entries) != 1 || first.NextCursor == "" {
		t.Fatalf("first page: %+v", first)
	}
	e := first.Entries[0]
	if e.Kind != "order_completion" || e.OrderID == nil || *e.OrderID != ids[1] || e.AmountMinor != 4050 || e.BalanceAfterMinor != 8100 || e.Currency != "USD" {
		t.Fatalf("newest entry: %+v", e)
	}
	expect(t, seller.do("GET", "/me/ledger?limit=1&cursor="+first.NextCursor, nil), 200, "second page").json(t, &second)
	if len(second.Entries) != 1 || *second.Entries[0].OrderID != ids[0] || second.Entries[0].BalanceAfterMinor != 4050 {
		t.Fatalf("second page: %+v", second)
	}
	var none apiLedgerPage
	expect(t, buyer.do("GET", "/me/ledger", nil), 200, "the buyer's statement").json(t, &none)
	if len(none.Entries) != 0 {
		t.Fatalf("the buyer earned: %+v", none)
	}
	expectField(t, seller.do("GET", "/me/ledger?cursor=nonsense", nil), 400, "cursor", "a made-up cursor")
	expect(t, seller.do("GET", "/me/ledger?account=platform:fees", nil), 403, "a seller reads the fees")
	expectField(t, admin.do("GET", "/me/ledger?account=bank", nil), 422, "account", "no such account")
	var fees apiLedgerPage
	expect(t, admin.do("GET", "/me/ledger?account=platform:fees", nil), 200, "the admin reads the fees").json(t, &fees)
	if len(fees.Entries) != 2 || fees.Entries[0].BalanceAfterMinor != 900 {
		t.Fatalf("fees: %+v", fees)
	}
	for _, c := range []*client{buyer, seller} {
		expect(t, c.do("GET", "/admin/ledger/check", nil), 404, "a non-admin checks")
		expect(t, c.do("GET", "/admin/orders", nil), 404, "a non-admin's queue")
	}
	assertCheckClean(t, admin)
}
