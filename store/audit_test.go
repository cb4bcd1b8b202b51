package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

func TestStatementAuditAndQueue(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	s := f.settlement(&fakeMoney{}, market.SettlementConfig{ClearingPeriod: time.Millisecond})
	audit := market.NewAudit(f.db)
	seller := market.User{ID: f.seller}
	for i := range 2 {
		o := f.deliveredOrder(t, time.Now())
		if _, _, err := s.Accept(ctx, o.ID, f.buyer, "acc-"+string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(5 * time.Millisecond)
	if n, err := s.ClearEarnings(ctx, 10); err != nil || n != 2 {
		t.Fatalf("clear: %d %v", n, err)
	}
	// Two completions (+900 pending each), two clearings (-900 pending, +900 available each).
	all, err := audit.Statement(ctx, seller, "", 0, 10)
	if err != nil || len(all) != 6 {
		t.Fatalf("statement: %d entries, %v", len(all), err)
	}
	top := all[0]
	if top.Kind != "clearing" || top.OrderID == nil || top.Account != market.SellerAvailableAccount(f.seller) || top.BalanceAfterMinor != 1800 {
		t.Fatalf("newest entry: %+v", top)
	}
	page, err := audit.Statement(ctx, seller, "", all[2].PostingID, 10)
	if err != nil || len(page) != 3 || page[0].PostingID != all[3].PostingID {
		t.Fatalf("second page: %+v %v", page, err)
	}
	if _, err := audit.Statement(ctx, seller, "platform:fees", 0, 10); market.ErrorCode(err) != market.CodeForbidden {
		t.Fatalf("a seller reads the fees: %v", err)
	}
	admin := market.User{ID: newAdmin(t, f), IsAdmin: true}
	if fees, err := audit.Statement(ctx, admin, "platform:fees", 0, 10); err != nil || len(fees) != 2 || fees[0].BalanceAfterMinor != 200 {
		t.Fatalf("the admin reads the fees: %+v %v", fees, err)
	}
	if _, err := audit.Statement(ctx, admin, "nobody", 0, 10); market.ErrorCode(err) != market.CodeInvalid {
		t.Fatalf("a bad account: %v", err)
	}
	check, err := audit.CheckLedger(ctx, admin)
	if err != nil || !check.OK || len(check.Currencies) != 1 || check.Currencies[0].SumMinor != 0 {
		t.Fatalf("check: %+v %v", check, err)
	}
	if _, err := audit.CheckLedger(ctx, seller); market.ErrorCode(err) != market.CodeNotFound {
		t.Fatalf("a seller checks: %v", err)
	}
	d := f.deliveredOrder(t, time.Now())
	if _, err := market.NewDisputes(f.db, nil, nil).Open(ctx, d.ID, f.buyer, "this is not finished", "k"); err != nil {
		t.Fatal(err)
	}
	q, err := audit.AdminOrders(ctx, admin, market.OrderDisputed, nil, 10)
	if err != nil || len(q) != 1 || q[0].ID != d.ID {
		t.Fatalf("queue: %+v %v", q, err)
	}
	if rest, err := audit.AdminOrders(ctx, admin, market.OrderDisputed, &market.PageKey{At: q[0].UpdatedAt, ID: q[0].ID}, 10); err != nil || len(rest) != 0 {
		t.Fatalf("after the last: %+v %v", rest, err)
	}
	if _, err := audit.AdminOrders(ctx, seller, market.OrderDisputed, nil, 10); market.ErrorCode(err) != market.CodeNotFound {
		t.Fatalf("a seller's queue: %v", err)
	}
}
