package market

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Reconciliation compares what GigStream's ledger says moved at a payment provider
// with what the provider's own records show, object by object, and keeps the
// differences for admins until the two agree again. It catches what webhooks missed:
// an event that never came, a refund made in the provider's dashboard while our
// endpoint was down, a transfer reversal that failed half-way.
//
// A provider's records are read in one of two ways. Stripe's balance transactions
// list every movement of the platform's balance with the object that caused it
// (a ProviderLedger: listed by date, so objects GigStream never heard of show up
// too). PayPal is read object by object (an ObjectLedger: each PayPal order with its
// captures and refunds, each payout batch with its item), since every PayPal object
// that holds money is one GigStream created through the API.
type Reconciliation struct {
	store    ReconciliationStore
	listed   []ProviderLedger
	byObject []ObjectLedger
	window   time.Duration
	now      func() time.Time
	running  chan struct{}
}

// Reconciled kinds of provider objects.
const (
	// ReconcilePayment is a buyer's payment: a Stripe PaymentIntent, with its charge,
	// refunds and disputes. Amounts are what the provider holds for it: money in minus
	// money returned.
	ReconcilePayment = "payment"
	// ReconcileTransfer is a withdrawal's transfer to a seller's connected account:
	// what was sent minus what was reversed.
	ReconcileTransfer = "transfer"
	// ReconcilePayout is a PayPal withdrawal's payout batch: its item's amount while
	// pending or paid, nothing once PayPal returned it.
	ReconcilePayout = "payout"
)

// ProviderLine is one movement of money at a provider, as the provider records it,
// attributed to the object it belongs to: AmountMinor (GigStream's minor units of
// Currency, signed) is money the provider took in for a payment (+) or gave back (−),
// or money sent to a seller by a transfer (+) or reversed (−).
type ProviderLine struct {
	Kind        string    // ReconcilePayment, ReconcileTransfer or ReconcilePayout
	ObjectRef   string    // the PaymentIntent's, PayPal order's, transfer's or payout batch's id
	LineRef     string    // the provider's own id of the line (a balance transaction, a capture, a refund)
	AmountMinor int64     // signed, see above
	Currency    string    // ISO 4217, upper case
	At          time.Time // when the provider recorded it
}

// ProviderLedger lists a provider's records: every line created at or after since.
// It returns an error when the provider cannot be reached or answers nonsense; a
// run then records nothing.
type ProviderLedger interface {
	Provider() string
	Lines(ctx context.Context, since time.Time) ([]ProviderLine, error)
}

// ObjectLedger reads a provider's records of the objects GigStream knows there: the
// lines of each of objects (any order, none for an object the provider holds nothing
// of). It returns an error when the provider cannot be reached or answers nonsense;
// a run then records nothing.
type ObjectLedger interface {
	Provider() string
	LinesOf(ctx context.Context, objects []ReconcileObject) ([]ProviderLine, error)
}

// ReconcileObject is what GigStream's ledger says of one provider object: the net
// amount that moved through it at the provider (same sign rules as ProviderLine).
type ReconcileObject struct {
	Kind         string    `db:"kind"`
	ObjectRef    string    `db:"object_ref"`
	Currency     string    `db:"currency"`
	OursMinor    int64     `db:"ours_minor"`
	OrderID      *string   `db:"order_id"`
	WithdrawalID *string   `db:"withdrawal_id"`
	CreatedAt    time.Time `db:"created_at"`
}

// ReconcileDifference is an object whose amounts disagree: ours from the ledger,
// theirs from the provider. An object the provider knows and GigStream does not has
// OursMinor 0 and no order or withdrawal.
type ReconcileDifference struct {
	ID           string     `json:"id" db:"id"`
	Provider     string     `json:"provider" db:"provider"`
	Kind         string     `json:"kind" db:"object_kind"`
	ObjectRef    string     `json:"object_ref" db:"object_ref"`
	OrderID      *string    `json:"order_id" db:"order_id"`
	WithdrawalID *string    `json:"withdrawal_id" db:"withdrawal_id"`
	Currency     string     `json:"currency" db:"currency"`
	OursMinor    int64      `json:"ours_minor" db:"ours_minor"`
	TheirsMinor  int64      `json:"theirs_minor" db:"theirs_minor"`
	FirstSeenAt  time.Time  `json:"first_seen_at" db:"first_seen_at"`
	LastSeenAt   time.Time  `json:"last_seen_at" db:"last_seen_at"`
	ResolvedAt   *time.Time `json:"resolved_at" db:"resolved_at"`
}

// ReconciliationRun is the outcome of one run.
type ReconciliationRun struct {
	Provider      string                `json:"provider"`
	WindowStart   time.Time             `json:"window_start"`
	ProviderLines int                   `json:"provider_lines"`
	Compared      int                   `json:"compared"`
	OutsideWindow int                   `json:"outside_window"`
	Differences   []ReconcileDifference `json:"differences"`
	Resolved      int                   `json:"resolved"`
}

// ReconciliationSummary is the open differences per provider and currency, for the
// drift gauges: how many, and the sum of |ours − theirs|.
type ReconciliationSummary struct {
	Provider   string `db:"provider"`
	Currency   string `db:"currency"`
	Open       int    `db:"open"`
	DriftMinor int64  `db:"drift_minor"`
}

// ReconciliationStore is the ledger's side of a run; store/ implements it.
type ReconciliationStore interface {
	// ReconcileObjects returns GigStream's amount of every object of provider
	// created at or after since, and of the objects named in refs whatever their age
	// (keyed kind → refs).
	ReconcileObjects(ctx context.Context, provider string, since time.Time, refs map[string][]string) ([]ReconcileObject, error)
	// RecordReconciliation keeps diffs open (inserting new ones, refreshing the
	// amounts of those still open) and resolves every other open difference of
	// provider among the compared objects. It returns diffs as recorded and how many
	// differences it resolved.
	RecordReconciliation(ctx context.Context, provider string, compared []ReconcileObject, diffs []ReconcileDifference) ([]ReconcileDifference, int, error)
	ReconciliationDifferences(ctx context.Context, open bool, before *PageKey, limit int) ([]ReconcileDifference, error)
	ReconciliationSummary(ctx context.Context) ([]ReconciliationSummary, error)
}

// ErrReconciliationRunning is returned by Run while another run of this node is
// under way: a conflict.
var ErrReconciliationRunning = Errorf(CodeConflict, "a reconciliation is already running on this node; retry when it ends")

// NewReconciliation compares the records of the listed providers and of those read
// by object with the ledger, over objects created within window (30 days when ≤ 0).
func NewReconciliation(s ReconciliationStore, window time.Duration, listed []ProviderLedger, byObject []ObjectLedger) *Reconciliation {
	if window <= 0 {
		window = 30 * 24 * time.Hour
	}
	return &Reconciliation{store: s, listed: listed, byObject: byObject, window: window, now: time.Now, running: make(chan struct{}, 1)}
}

// Providers names the providers reconciled, in the order Run runs them.
func (r *Reconciliation) Providers() []string {
	out := make([]string, 0, len(r.listed)+len(r.byObject))
	for _, p := range r.listed {
		out = append(out, p.Provider())
	}
	for _, p := range r.byObject {
		out = append(out, p.Provider())
	}
	return out
}

// Run reconciles every provider, or only the one named by only when it is not "",
// and returns a run per provider reconciled. A provider that fails records nothing;
// the others still run. Errors: ErrReconciliationRunning; invalid naming "provider"
// for a provider not reconciled here; each failed provider's error, joined.
func (r *Reconciliation) Run(ctx context.Context, only string) ([]ReconciliationRun, error) {
	if only != "" && !slices.Contains(r.Providers(), only) {
		return nil, FieldError(CodeInvalid, "provider", "must be one of the providers reconciled here: "+strings.Join(r.Providers(), ", "))
	}
	select {
	case r.running <- struct{}{}:
		defer func() { <-r.running }()
	default:
		return nil, ErrReconciliationRunning
	}
	start := r.now().Add(-r.window).UTC().Truncate(time.Second)
	runs := []ReconciliationRun{}
	var errs []error
	add := func(run ReconciliationRun, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		runs = append(runs, run)
	}
	for _, p := range r.listed {
		if only == "" || only == p.Provider() {
			add(r.runListed(ctx, p, start))
		}
	}
	for _, p := range r.byObject {
		if only == "" || only == p.Provider() {
			add(r.runByObject(ctx, p, start))
		}
	}
	return runs, errors.Join(errs...)
}

// runListed lists the provider's lines since the window's start, reads the ledger's
// side of every object created since then (and of any older object a line names),
// and records what differs. Every object of the window is compared whole: its lines
// all come after its creation, so all are in the listing. A line of an object
// created before the window is counted in OutsideWindow, not compared (its earlier
// lines are not listed). A line naming an object GigStream does not know is a
// difference. Errors: the provider's or the database's failure, wrapped (nothing is
// recorded then).
func (r *Reconciliation) runListed(ctx context.Context, p ProviderLedger, start time.Time) (ReconciliationRun, error) {
	run := ReconciliationRun{Provider: p.Provider(), WindowStart: start}
	lines, err := p.Lines(ctx, start)
	if err != nil {
		return run, fmt.Errorf("reconcile %s: list the provider's lines: %w", run.Provider, err)
	}
	refs := map[string][]string{}
	seen := map[[2]string]bool{}
	for _, l := range lines {
		if r := [2]string{l.Kind, l.ObjectRef}; !seen[r] {
			seen[r] = true
			refs[l.Kind] = append(refs[l.Kind], l.ObjectRef)
		}
	}
	objects, err := r.store.ReconcileObjects(ctx, run.Provider, start, refs)
	if err != nil {
		return run, fmt.Errorf("reconcile %s: read the ledger's side: %w", run.Provider, err)
	}
	return r.record(ctx, run, lines, objects)
}

// runByObject reads the ledger's side of every object created since the window's
// start, asks the provider for its lines of exactly those objects, and records what
// differs. Errors: the provider's or the database's failure, wrapped (nothing is
// recorded then).
func (r *Reconciliation) runByObject(ctx context.Context, p ObjectLedger, start time.Time) (ReconciliationRun, error) {
	run := ReconciliationRun{Provider: p.Provider(), WindowStart: start}
	objects, err := r.store.ReconcileObjects(ctx, run.Provider, start, nil)
	if err != nil {
		return run, fmt.Errorf("reconcile %s: read the ledger's side: %w", run.Provider, err)
	}
	lines, err := p.LinesOf(ctx, objects)
	if err != nil {
		return run, fmt.Errorf("reconcile %s: read the provider's records: %w", run.Provider, err)
	}
	return r.record(ctx, run, lines, objects)
}

// record compares lines with objects and records the differences.
func (r *Reconciliation) record(ctx context.Context, run ReconciliationRun, lines []ProviderLine, objects []ReconcileObject) (ReconciliationRun, error) {
	run.ProviderLines = len(lines)
	type key struct{ kind, ref, currency string }
	theirs := map[key]int64{}
	for _, l := range lines {
		theirs[key{l.Kind, l.ObjectRef, l.Currency}] += l.AmountMinor
	}
	var compared []ReconcileObject
	known := map[key]bool{}
	for _, o := range objects {
		k := key{o.Kind, o.ObjectRef, o.Currency}
		known[k] = true
		if o.CreatedAt.Before(run.WindowStart) {
			if _, ok := theirs[k]; ok {
				run.OutsideWindow++
			}
			continue
		}
		compared = append(compared, o)
		if t := theirs[k]; t != o.OursMinor {
			run.Differences = append(run.Differences, ReconcileDifference{Provider: run.Provider, Kind: o.Kind,
				ObjectRef: o.ObjectRef, OrderID: o.OrderID, WithdrawalID: o.WithdrawalID, Currency: o.Currency,
				OursMinor: o.OursMinor, TheirsMinor: t})
		}
	}
	rest := make([]key, 0)
	for k := range theirs {
		if !known[k] {
			rest = append(rest, k)
		}
	}
	sort.Slice(rest, func(i, j int) bool {
		return rest[i].ref < rest[j].ref || rest[i].ref == rest[j].ref && rest[i].currency < rest[j].currency
	})
	for _, k := range rest {
		// A line in a currency the object never had at GigStream: ours is 0 there.
		o, ok := objectOf(objects, k.kind, k.ref)
		if ok && o.CreatedAt.Before(run.WindowStart) {
			run.OutsideWindow++
			continue
		}
		d := ReconcileDifference{Provider: run.Provider, Kind: k.kind, ObjectRef: k.ref, Currency: k.currency, TheirsMinor: theirs[k]}
		if ok {
			d.OrderID, d.WithdrawalID = o.OrderID, o.WithdrawalID
		}
		compared = append(compared, ReconcileObject{Kind: k.kind, ObjectRef: k.ref, Currency: k.currency})
		run.Differences = append(run.Differences, d)
	}
	run.Compared = len(compared)
	recorded, resolved, err := r.store.RecordReconciliation(ctx, run.Provider, compared, run.Differences)
	if err != nil {
		return run, fmt.Errorf("reconcile %s: record: %w", run.Provider, err)
	}
	run.Differences, run.Resolved = recorded, resolved
	return run, nil
}

// objectOf finds the object of kind named ref among objects, in any currency.
func objectOf(objects []ReconcileObject, kind, ref string) (ReconcileObject, bool) {
	for _, o := range objects {
		if o.Kind == kind && o.ObjectRef == ref {
			return o, true
		}
	}
	return ReconcileObject{}, false
}

// Differences lists up to limit differences (open ones, or all), newest first,
// after before. Errors: not found for anyone but an admin.
func (r *Reconciliation) Differences(ctx context.Context, caller User, open bool, before *PageKey, limit int) ([]ReconcileDifference, error) {
	if !caller.IsAdmin {
		return nil, errAdminOnly
	}
	return r.store.ReconciliationDifferences(ctx, open, before, limit)
}

// RunAs runs a reconciliation now for an admin, of every provider or only the one
// named. Errors: not found for anyone but an admin; those of Run.
func (r *Reconciliation) RunAs(ctx context.Context, caller User, only string) ([]ReconciliationRun, error) {
	if !caller.IsAdmin {
		return nil, errAdminOnly
	}
	return r.Run(ctx, only)
}
