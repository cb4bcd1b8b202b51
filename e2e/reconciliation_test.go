package e2e

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gigstream/hub/payments/stripetest"
)

// runReconciliation has an admin reconcile provider now and returns its run.
func runReconciliation(t *testing.T, admin *client, provider, what string) apiReconciliationRun {
	t.Helper()
	var out struct{ Runs []apiReconciliationRun }
	expect(t, admin.do("POST", "/admin/reconciliation/runs?provider="+provider, nil), 200, what).json(t, &out)
	if len(out.Runs) != 1 || out.Runs[0].Provider != provider {
		t.Fatalf("%s: runs %+v, want one of %s", what, out.Runs, provider)
	}
	return out.Runs[0]
}

// apiReconciliationRun is one provider's run in POST /admin/reconciliation/runs's
// answer.
type apiReconciliationRun struct {
	Provider      string                   `json:"provider"`
	ProviderLines int                      `json:"provider_lines"`
	Compared      int                      `json:"compared"`
	Differences   []apiReconcileDifference `json:"differences"`
	Resolved      int                      `json:"resolved"`
}

// apiReconcileDifference is one difference as admins see it.
type apiReconcileDifference struct {
	ID           string     `json:"id"`
	Kind         string     `json:"kind"`
	WithdrawalID *string    `json:"withdrawal_id"`
	ObjectRef    string     `json:"object_ref"`
	OrderID      *string    `json:"order_id"`
	Currency     string     `json:"currency"`
	OursMinor    int64      `json:"ours_minor"`
	TheirsMinor  int64      `json:"theirs_minor"`
	ResolvedAt   *time.Time `json:"resolved_at"`
}

// A change made only at Stripe is reported: reconciliation reads Stripe's balance
// transactions (from a recording fake, since stripe-mock keeps no state) and
// compares each payment with the ledger. A refund made in Stripe's dashboard whose
// webhook never came, and a charge whose payment_intent.succeeded never came, both
// show as open differences (API and /metrics); once the missed webhooks arrive the
// next run resolves them. Only admins see or run it.
func TestReconciliationReportsWhatChangedOnlyAtStripe(t *testing.T) {
	fake := stripetest.New(t)
	o := startOrderNode(t, map[string]string{"STRIPE_API_BASE": fake.URL, "RECONCILE_INTERVAL": "0",
		"LEDGER_CHECK_INTERVAL": "10s"}, true)
	admin := &client{t: t, base: o.n.URL, bearer: o.adminToken(t)}
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	run := func(what string) apiReconciliationRun {
		t.Helper()
		return runReconciliation(t, admin, "stripe", what)
	}

	// A paid order: Stripe charged it and the ledger funded its escrow. Nothing differs.
	r, ord := o.placeOrder(t, uuid.NewString())
	expect(t, r, 201, "place")
	pi := ord.Payment.PaymentIntentID
	if err := fake.Succeed(pi); err != nil {
		t.Fatal(err)
	}
	o.pay(t, ord)
	charged, _ := fake.Intent(pi)
	// A placed order nobody paid: nothing at Stripe, nothing in the ledger.
	r, _ = o.placeOrder(t, uuid.NewString())
	expect(t, r, 201, "place an unpaid order")
	if got := run("first run"); len(got.Differences) != 0 || got.Compared < 2 || got.ProviderLines != 1 {
		t.Fatalf("first run: %+v, want 2 payments compared, 1 line, no difference", got)
	}

	// Stripe's dashboard refunds 1000 of it; the webhook never arrives.
	if _, err := fake.RefundOutside(pi, 1000); err != nil {
		t.Fatal(err)
	}
	// Another order is charged at Stripe, but payment_intent.succeeded never arrives.
	r, lost := o.placeOrder(t, uuid.NewString())
	expect(t, r, 201, "place the order whose webhook is lost")
	if err := fake.Succeed(lost.Payment.PaymentIntentID); err != nil {
		t.Fatal(err)
	}
	got := run("run after the provider-side changes")
	byRef := map[string]apiReconcileDifference{}
	for _, d := range got.Differences {
		byRef[d.ObjectRef] = d
	}
	refund, ok := byRef[pi]
	if !ok || refund.OursMinor != charged.Amount || refund.TheirsMinor != charged.Amount-1000 || refund.Kind != "payment" ||
		refund.OrderID == nil || *refund.OrderID != ord.ID || refund.Currency != "USD" {
		t.Fatalf("dashboard refund not reported as a difference of order %s: %+v", ord.ID, got.Differences)
	}
	missed, ok := byRef[lost.Payment.PaymentIntentID]
	if !ok || missed.OursMinor != 0 || missed.TheirsMinor != charged.Amount || missed.OrderID == nil || *missed.OrderID != lost.ID {
		t.Fatalf("charge without its webhook not reported: %+v", got.Differences)
	}
	if len(got.Differences) != 2 {
		t.Fatalf("%d differences, want 2: %+v", len(got.Differences), got.Differences)
	}

	// Admins list them (a second run keeps one row per object); nobody else sees the routes.
	run("second run")
	var list struct{ Differences []apiReconcileDifference }
	expect(t, admin.do("GET", "/admin/reconciliation/differences", nil), 200, "open differences").json(t, &list)
	if len(list.Differences) != 2 {
		t.Fatalf("open differences after two runs: %+v", list.Differences)
	}
	expect(t, buyer.do("GET", "/admin/reconciliation/differences", nil), 404, "differences as a buyer")
	expect(t, buyer.do("POST", "/admin/reconciliation/runs", nil), 404, "a run as a buyer")
	expect(t, admin.do("GET", "/admin/reconciliation/differences?open=maybe", nil), 400, "open=maybe")

	// /metrics shows the drift (every node reads it on the ledger check's schedule).
	series := `gigstream_reconciliation_drift_minor{currency="USD",provider="stripe"}`
	want := float64(1000 + charged.Amount)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := get(t, o.n.URL+"/metrics")
		v, found := metricValue(string(body), series)
		if found && v == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v (found %v), want %v", series, v, found, want)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// The missed webhooks arrive: the ledger now agrees, and the next run resolves both.
	o.signedStripe(t, chargeRefundedWebhook(ord, 1000), "the late charge.refunded")
	o.pay(t, lost)
	if got := run("run after the late webhooks"); len(got.Differences) != 0 || got.Resolved != 2 {
		t.Fatalf("after the late webhooks: %+v, want no difference and 2 resolved", got)
	}
	expect(t, admin.do("GET", "/admin/reconciliation/differences", nil), 200, "open differences").json(t, &list)
	if len(list.Differences) != 0 {
		t.Fatalf("still open: %+v", list.Differences)
	}
	expect(t, admin.do("GET", "/admin/reconciliation/differences?open=false", nil), 200, "all differences").json(t, &list)
	if len(list.Differences) != 2 || list.Differences[0].ResolvedAt == nil || list.Differences[1].ResolvedAt == nil {
		t.Fatalf("resolved differences: %+v", list.Differences)
	}
}
