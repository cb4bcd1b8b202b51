package market

import (
	"context"
	"errors"
	"testing"
	"time"
)

type fakeProviderLedger struct {
	lines []ProviderLine
	err   error
	since time.Time
}

func (f *fakeProviderLedger) Provider() string { return ProviderStripe }
func (f *fakeProviderLedger) Lines(_ context.Context, since time.Time) ([]ProviderLine, error) {
	f.since = since
	return f.lines, f.err
}

type fakeReconcileStore struct {
	objects  []ReconcileObject
	refs     map[string][]string
	compared []ReconcileObject
	diffs    []ReconcileDifference
	records  int
}

func (f *fakeReconcileStore) ReconcileObjects(_ context.Context, _ string, _ time.Time, refs map[string][]string) ([]ReconcileObject, error) {
	f.refs = refs
	return f.objects, nil
}
func (f *fakeReconcileStore) RecordReconciliation(_ context.Context, _ string, compared []ReconcileObject, diffs []ReconcileDifference) ([]ReconcileDifference, int, error) {
	f.records++
	f.compared, f.diffs = compared, diffs
	return diffs, 0, nil
}
func (f *fakeReconcileStore) ReconciliationDifferences(context.Context, bool, *PageKey, int) ([]ReconcileDifference, error) {
	return nil, nil
}
func (f *fakeReconcileStore) ReconciliationSummary(context.Context) ([]ReconciliationSummary, error) {
	return nil, nil
}

// Run compares whole objects of the window, counts lines of older objects without
// comparing them, reports objects the provider has and GigStream does not, and a
// line in a currency the object never had; it records nothing when the provider fails.
func TestReconciliationRunComparesObjects(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	inWindow, old := now.Add(-time.Hour), now.Add(-60*24*time.Hour)
	order := func(s string) *string { return &s }
	store := &fakeReconcileStore{objects: []ReconcileObject{
		{Kind: ReconcilePayment, ObjectRef: "pi_equal", Currency: "USD", OursMinor: 4000, OrderID: order("o1"), CreatedAt: inWindow},
		{Kind: ReconcilePayment, ObjectRef: "pi_refunded_outside", Currency: "USD", OursMinor: 5000, OrderID: order("o2"), CreatedAt: inWindow},
		{Kind: ReconcilePayment, ObjectRef: "pi_unpaid", Currency: "USD", OursMinor: 0, OrderID: order("o3"), CreatedAt: inWindow},
		{Kind: ReconcilePayment, ObjectRef: "pi_paid_no_charge", Currency: "EUR", OursMinor: 900, OrderID: order("o4"), CreatedAt: inWindow},
		{Kind: ReconcilePayment, ObjectRef: "pi_old", Currency: "USD", OursMinor: 7000, OrderID: order("o5"), CreatedAt: old},
		{Kind: ReconcileTransfer, ObjectRef: "tr_ok", Currency: "EUR", OursMinor: 1200, CreatedAt: inWindow},
		{Kind: ReconcilePayment, ObjectRef: "pi_other_currency", Currency: "USD", OursMinor: 100, OrderID: order("o6"), CreatedAt: inWindow},
	}}
	provider := &fakeProviderLedger{lines: []ProviderLine{
		{Kind: ReconcilePayment, ObjectRef: "pi_equal", Currency: "USD", AmountMinor: 5000},
		{Kind: ReconcilePayment, ObjectRef: "pi_equal", Currency: "USD", AmountMinor: -1000},
		{Kind: ReconcilePayment, ObjectRef: "pi_refunded_outside", Currency: "USD", AmountMinor: 5000},
		{Kind: ReconcilePayment, ObjectRef: "pi_refunded_outside", Currency: "USD", AmountMinor: -2500},
		{Kind: ReconcilePayment, ObjectRef: "pi_old", Currency: "USD", AmountMinor: -700},
		{Kind: ReconcileTransfer, ObjectRef: "tr_ok", Currency: "EUR", AmountMinor: 1200},
		{Kind: ReconcilePayment, ObjectRef: "pi_stranger", Currency: "GBP", AmountMinor: 300},
		{Kind: ReconcilePayment, ObjectRef: "pi_other_currency", Currency: "USD", AmountMinor: 100},
		{Kind: ReconcilePayment, ObjectRef: "pi_other_currency", Currency: "JPY", AmountMinor: 50},
	}}
	r := NewReconciliation(store, 30*24*time.Hour, []ProviderLedger{provider}, nil)
	r.now = func() time.Time { return now }
	runs, err := r.Run(context.Background(), "")
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %+v, err %v", runs, err)
	}
	run := runs[0]
	if !provider.since.Equal(now.Add(-30 * 24 * time.Hour)) {
		t.Fatalf("listed since %v", provider.since)
	}
	type got struct {
		ours, theirs int64
		order        string
	}
	diffs := map[string]got{}
	for _, d := range run.Differences {
		o := ""
		if d.OrderID != nil {
			o = *d.OrderID
		}
		diffs[d.ObjectRef+"/"+d.Currency] = got{d.OursMinor, d.TheirsMinor, o}
	}
	want := map[string]got{
		"pi_refunded_outside/USD": {5000, 2500, "o2"},
		"pi_paid_no_charge/EUR":   {900, 0, "o4"},
		"pi_stranger/GBP":         {0, 300, ""},
		"pi_other_currency/JPY":   {0, 50, "o6"},
	}
	if len(diffs) != len(want) {
		t.Fatalf("differences %+v, want %+v", diffs, want)
	}
	for k, w := range want {
		if diffs[k] != w {
			t.Errorf("%s: %+v, want %+v", k, diffs[k], w)
		}
	}
	if run.OutsideWindow != 1 || run.ProviderLines != 9 || run.Compared != 8 {
		t.Fatalf("run %+v: want 1 line outside the window, 9 lines, 8 compared", run)
	}
	if len(store.refs[ReconcilePayment]) != 5 || len(store.refs[ReconcileTransfer]) != 1 {
		t.Fatalf("refs asked of the store: %v", store.refs)
	}

	provider.err = errors.New("stripe is down")
	records := store.records
	if _, err := r.Run(context.Background(), ""); err == nil || store.records != records {
		t.Fatalf("a failed listing: err %v, records %d → %d", err, records, store.records)
	}
}

type fakeObjectLedger struct {
	lines []ProviderLine
	err   error
	asked []ReconcileObject
}

func (f *fakeObjectLedger) Provider() string { return ProviderPayPal }
func (f *fakeObjectLedger) LinesOf(_ context.Context, objects []ReconcileObject) ([]ProviderLine, error) {
	f.asked = objects
	return f.lines, f.err
}

// A provider read object by object is asked about exactly the ledger's objects of
// the window; what it holds of each is compared like a listing. Run runs each
// provider, or only the one named; an unknown name is a field error, and one
// provider's failure leaves the other's run recorded.
func TestReconciliationByObjectComparesKnownObjects(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	w := func(s string) *string { return &s }
	store := &fakeReconcileStore{objects: []ReconcileObject{
		{Kind: ReconcilePayment, ObjectRef: "PP-EQUAL", Currency: "USD", OursMinor: 4500, OrderID: w("o1"), CreatedAt: now.Add(-time.Hour)},
		{Kind: ReconcilePayment, ObjectRef: "PP-REFUNDED", Currency: "USD", OursMinor: 4500, OrderID: w("o2"), CreatedAt: now.Add(-time.Hour)},
		{Kind: ReconcilePayment, ObjectRef: "PP-CAPTURED", Currency: "USD", OursMinor: 0, OrderID: w("o3"), CreatedAt: now.Add(-time.Hour)},
		{Kind: ReconcilePayout, ObjectRef: "PB-RETURNED", Currency: "USD", OursMinor: 1500, WithdrawalID: w("w1"), CreatedAt: now.Add(-time.Hour)},
		{Kind: ReconcilePayout, ObjectRef: "PB-PAID", Currency: "USD", OursMinor: 1000, WithdrawalID: w("w2"), CreatedAt: now.Add(-time.Hour)},
	}}
	paypal := &fakeObjectLedger{lines: []ProviderLine{
		{Kind: ReconcilePayment, ObjectRef: "PP-EQUAL", Currency: "USD", AmountMinor: 4500},
		{Kind: ReconcilePayment, ObjectRef: "PP-REFUNDED", Currency: "USD", AmountMinor: 4500},
		{Kind: ReconcilePayment, ObjectRef: "PP-REFUNDED", Currency: "USD", AmountMinor: -1000},
		{Kind: ReconcilePayment, ObjectRef: "PP-CAPTURED", Currency: "USD", AmountMinor: 4500},
		{Kind: ReconcilePayout, ObjectRef: "PB-RETURNED", Currency: "USD", AmountMinor: 1500},
		{Kind: ReconcilePayout, ObjectRef: "PB-RETURNED", Currency: "USD", AmountMinor: -1500},
		{Kind: ReconcilePayout, ObjectRef: "PB-PAID", Currency: "USD", AmountMinor: 1000},
	}}
	stripe := &fakeProviderLedger{}
	r := NewReconciliation(store, 30*24*time.Hour, []ProviderLedger{stripe}, []ObjectLedger{paypal})
	r.now = func() time.Time { return now }
	if got := r.Providers(); len(got) != 2 || got[0] != ProviderStripe || got[1] != ProviderPayPal {
		t.Fatalf("providers %v", got)
	}
	runs, err := r.Run(context.Background(), ProviderPayPal)
	if err != nil || len(runs) != 1 || runs[0].Provider != ProviderPayPal {
		t.Fatalf("runs %+v, err %v", runs, err)
	}
	if len(paypal.asked) != len(store.objects) || !stripe.since.IsZero() {
		t.Fatalf("asked PayPal about %d objects, want %d; stripe listed since %v", len(paypal.asked), len(store.objects), stripe.since)
	}
	got := map[string][2]int64{}
	for _, d := range runs[0].Differences {
		got[d.ObjectRef] = [2]int64{d.OursMinor, d.TheirsMinor}
	}
	want := map[string][2]int64{"PP-REFUNDED": {4500, 3500}, "PP-CAPTURED": {0, 4500}, "PB-RETURNED": {1500, 0}}
	if len(got) != len(want) || got["PP-REFUNDED"] != want["PP-REFUNDED"] || got["PP-CAPTURED"] != want["PP-CAPTURED"] || got["PB-RETURNED"] != want["PB-RETURNED"] {
		t.Fatalf("differences %v, want %v", got, want)
	}
	if runs[0].Compared != 5 || runs[0].ProviderLines != 7 {
		t.Fatalf("run %+v: want 5 compared, 7 lines", runs[0])
	}

	if _, err := r.Run(context.Background(), "adyen"); err == nil || ErrorCode(err) != CodeInvalid {
		t.Fatalf("unknown provider: %v", err)
	}
	stripe.err = errors.New("stripe is down")
	records := store.records
	runs, err = r.Run(context.Background(), "")
	if err == nil || len(runs) != 1 || runs[0].Provider != ProviderPayPal || store.records != records+1 {
		t.Fatalf("stripe down: runs %+v, err %v, records %d → %d", runs, err, records, store.records)
	}
}
