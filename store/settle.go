package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

// refundEvent is the refund part of an order.refunded or order.cancelled event.
type refundEvent struct {
	AmountMinor int64  `json:"amount_minor"`
	Currency    string `json:"currency"`
	Reason      string `json:"reason"`
}

// balanceEvent is the data of balance.updated on a user's channel: what changed, and
// the client re-reads GET /me/balance.
type balanceEvent struct {
	Currency string `json:"currency"`
	Reason   string `json:"reason"`
	OrderID  string `json:"order_id,omitempty"`
}

// SettleOrder takes the one final action on an order, under its row lock: decide sees
// the locked order (with its payment) and the final action taken before, if any; a
// replay changes nothing; a refund of money calls refund while the lock is held, and
// its error rolls everything back. Then it writes, in the same transaction: the
// settlement row (its primary key makes it one per order), the status and split, the
// escrow release in the ledger, the refund row, the order events and the seller's
// balance.updated. A user who is no party to the order (and not in.Admin) gets an
// error wrapping ErrNotFound.
//
// An accept is five round trips: the begin, the lock, one read of what the decision
// needs with the buyer's invoice details (settleStateOf), one statement for all its
// writes (writeAccept: the settlement row, status and order events, the ledger with
// its balance locks, the invoice with its delivery job, the seller's balance.updated),
// and the commit (which numbers the invoice: invoices_take_number). Other final
// actions write those parts a statement each. An accept was twelve round trips, then
// seven.
// All run prepared (settleQueries): one round trip each and no planning per call.
func (db *DB) SettleOrder(ctx context.Context, in market.SettleRequest,
	decide func(market.Order, *market.PriorSettlement) (market.SettleDecision, error),
	refund func(context.Context, market.Order, market.Split) (string, error)) (market.SettledOrder, error) {
	var out market.SettledOrder
	if _, err := db.prepare(ctx, settleQueries...); err != nil {
		return out, err
	}
	err := db.inTx(ctx, func(sqlTx *sqlx.Tx) error {
		tx := preparedTx{Tx: sqlTx, db: db}
		party := in.UserID
		if in.Admin || in.Action == market.SettleAutoComplete {
			party = ""
		}
		ord, err := lockOrder(ctx, tx, in.OrderID, party)
		if err != nil {
			return err
		}
		st, err := settleStateOf(ctx, tx, ord)
		if err != nil {
			return err
		}
		ord.Payment = st.payment()
		d, err := decide(ord, st.prior())
		if err != nil {
			return err
		}
		if d.Replay {
			out.Order, out.Replayed = ord, true
			return nil
		}
		if st.Chargeback {
			return market.Errorf(market.CodeConflict, "a chargeback on this order is open: it settles when the payment provider decides it")
		}
		providerRef := ""
		if d.Paid && d.Split.Refund > 0 {
			if providerRef, err = refund(ctx, ord, d.Split); err != nil {
				return err
			}
		}
		out.Order, out.Events, err = writeSettlement(ctx, tx, in, ord, d, providerRef, st)
		return err
	})
	return out, err
}

// settleQueries are the statements SettleOrder runs prepared (see preparedTx): the
// order's lock, its settle state, an accept's writes (acceptWritesQuery), and the
// parts other final actions write a statement each (the settlement row and events,
// the escrow release with its balance locks, the seller's balance.updated with one
// invoice). Their other statements (refund row, dispute, several invoices) run
// unprepared.
var settleQueries = []string{lockOrderQuery, settleStateQuery, acceptWritesQuery, settleOrderQuery, postLockedLedgerQuery, eventAndInvoiceQuery}

// settleState is what a final action reads under the order's lock besides the order,
// in one query (settleStateQuery): the payment (HasPayment and its columns), the
// final action taken before (HasPrior and its columns), whether a chargeback holds
// the order, and the transaction's time, which the settlement stamps.
type settleState struct {
	HasPayment bool `db:"has_payment"`
	market.PaymentInfo
	HasPrior bool    `db:"has_prior"`
	Action   string  `db:"action"`
	UserID   *string `db:"user_id"`
	Key      string  `db:"idempotency_key"`
	Hash     string  `db:"request_hash"`
	// Chargeback is whether a chargeback on the order is open: it is frozen.
	Chargeback bool      `db:"chargeback"`
	Now        time.Time `db:"now"`
	// Customer is the buyer as the order's invoice prints them (invoiceCustomerQuery's
	// columns), read here so that issuing the invoice costs no statement of its own.
	Customer customerRow `db:"customer"`
}

// settleStateQuery reads order $1's settleState, its buyer $2's as the customer. It is a statement of its own after
// the order's lock, not part of the locking one: a statement that waited for the lock
// would see the rows the lock holder wrote (its settlement row) only in a new
// snapshot.
const settleStateQuery = `
	SELECT p.order_id IS NOT NULL AS has_payment, COALESCE(p.provider, '') AS provider, COALESCE(p.provider_ref, '') AS provider_ref,
		COALESCE(p.client_secret, '') AS client_secret, COALESCE(p.status, '') AS status, COALESCE(p.amount_minor, 0) AS amount_minor,
		COALESCE(p.currency, '') AS currency, COALESCE(p.approve_url, '') AS approve_url, COALESCE(p.capture_ref, '') AS capture_ref,
		s.order_id IS NOT NULL AS has_prior, COALESCE(s.action, '') AS action, s.user_id,
		COALESCE(s.idempotency_key, '') AS idempotency_key, COALESCE(s.request_hash, '') AS request_hash,
		EXISTS (SELECT 1 FROM payment_reversals WHERE order_id = $1 AND status = 'open') AS chargeback,
		now() AS now,
		b.user_id IS NOT NULL AS "customer.has_profile", COALESCE(u.display_name, '') AS "customer.display_name",
		COALESCE(u.id::text, '') AS "customer.user_id", COALESCE(b.name, '') AS "customer.name",
		COALESCE(b.address_line1, '') AS "customer.address_line1", COALESCE(b.address_line2, '') AS "customer.address_line2",
		COALESCE(b.city, '') AS "customer.city", COALESCE(b.postal_code, '') AS "customer.postal_code",
		COALESCE(b.region, '') AS "customer.region", COALESCE(b.country, '') AS "customer.country",
		COALESCE(b.tax_id, '') AS "customer.tax_id", COALESCE(b.updated_at, 'epoch') AS "customer.updated_at"
	FROM (SELECT $1::uuid AS id) o
	LEFT JOIN payments p ON p.order_id = o.id
	LEFT JOIN order_settlements s ON s.order_id = o.id
	LEFT JOIN users u ON u.id = $2
	LEFT JOIN billing_profiles b ON b.user_id = $2`

// settleStateOf reads the locked order's settleState.
func settleStateOf(ctx context.Context, tx txQuerier, ord market.Order) (settleState, error) {
	var st settleState
	if err := tx.GetContext(ctx, &st, settleStateQuery, ord.ID, ord.BuyerID); err != nil {
		return st, fmt.Errorf("payment and settlement of order %s: %w", ord.ID, err)
	}
	return st, nil
}

// payment is the order's payment, or nil when none was recorded yet.
func (st settleState) payment() *market.PaymentInfo {
	if !st.HasPayment {
		return nil
	}
	p := st.PaymentInfo
	return &p
}

// prior is the final action taken on the order before, or nil.
func (st settleState) prior() *market.PriorSettlement {
	if !st.HasPrior {
		return nil
	}
	return &market.PriorSettlement{Action: st.Action, UserID: st.UserID, IdempotencyKey: st.Key, RequestHash: st.Hash}
}

// writeSettlement writes a decided final action on the locked order, stamped with the
// transaction's time (st.Now). What only this order's lock guards comes first
// (settlement row, status, the order's events, refund row, the invoices made ready);
// then what others wait for, each taken as late as it can be and held until commit:
// the balance rows of the escrow release (the platform's last, see lockBalances), the
// seller's user channel, and last the invoices with their delivery jobs, whose numbers
// the commit takes from the year's counter row, which every settlement waits for. The
// invoices come last because the commit runs the deferred triggers in the order their
// rows were written: the numbering then runs after the ledger's checks, and the
// counter row is held for the numbering alone (stored before the ledger, an accept
// held it over the ledger's checks too: 1.1 → 3.1 ms mean per accept at load 14-17).
func writeSettlement(ctx context.Context, tx preparedTx, in market.SettleRequest, ord market.Order, d market.SettleDecision, providerRef string, st settleState) (market.Order, []market.Event, error) {
	customer := st.Customer.party()
	if acceptShaped(in, d) {
		return writeAccept(ctx, tx, in, ord, d, st.Now, customer)
	}
	ord, events, err := recordSettlement(ctx, tx, in, ord, d, providerRef, st.Now)
	if err != nil {
		return ord, nil, err
	}
	invoices, err := prepareInvoicesAt(ctx, tx, ord, d.Invoices, "", st.Now, &customer)
	if err != nil {
		return ord, nil, err
	}
	if d.Paid {
		if err := postLedger(ctx, tx, market.ReleaseEscrow(ord, d.Split)); err != nil {
			return ord, nil, err
		}
	}
	if d.Split.Seller == 0 {
		return ord, events, issueInvoices(ctx, tx, invoices)
	}
	ev, err := issueWithSellerEvent(ctx, tx, ord, invoices)
	if err != nil {
		return ord, nil, err
	}
	return ord, append(events, ev), nil
}

// issueWithSellerEvent stores the seller's balance.updated of a settled order and
// issues its invoices: an accept's one invoice in the event's statement
// (eventAndInvoiceQuery), anything else after it (issueInvoices). It returns the
// stored event.
func issueWithSellerEvent(ctx context.Context, tx preparedTx, ord market.Order, invoices preparedInvoices) (market.Event, error) {
	ev, err := sellerSettledEvent(ctx, ord)
	if err != nil {
		return ev, err
	}
	if len(invoices.docs) != 1 || invoices.docs[0].Kind != market.InvoiceKindInvoice {
		if err := tx.GetContext(ctx, &ev.Seq, appendEventQuery, ev.Channel, ev.Type, ev.Data, ev.Trace); err != nil {
			return ev, fmt.Errorf("store event %s on %s: %w", ev.Type, ev.Channel, err)
		}
		return ev, issueInvoices(ctx, tx, invoices)
	}
	args, err := invoiceArgs(ctx, invoices.ids[0], invoices.docs[0], "")
	if err != nil {
		return ev, err
	}
	if err := tx.GetContext(ctx, &ev.Seq, eventAndInvoiceQuery, append(args, ev.Channel, ev.Type, ev.Data, ev.Trace)...); err != nil {
		return ev, fmt.Errorf("store event %s on %s and invoice: %w", ev.Type, ev.Channel, err)
	}
	return ev, nil
}

// sellerSettledEvent is the seller's balance.updated of a settled order (reason
// order_settled), not stored yet. It returns an encoding error only.
func sellerSettledEvent(ctx context.Context, ord market.Order) (market.Event, error) {
	return newEvent(ctx, market.UserChannel(ord.SellerID), "balance.updated",
		balanceEvent{Currency: ord.Currency, Reason: "order_settled", OrderID: ord.ID})
}

// eventAndInvoiceQuery stores an accept's invoice and its delivery job (invoiceInserts,
// $1-$17) and the seller's event ($18 channel, $19 type, $20 data, $21 trace) under the
// channel's next seq, in one statement, and returns the seq. The invoice's deferred
// triggers are queued by this statement, after the ledger's: the commit numbers it
// after the ledger's checks.
const eventAndInvoiceQuery = invoiceInserts + `,
	s AS (
		INSERT INTO channel_seqs (channel, seq) VALUES ($18, 1)
		ON CONFLICT (channel) DO UPDATE SET seq = channel_seqs.seq + 1
		RETURNING seq)
	INSERT INTO events (channel, seq, type, data, trace) SELECT $18, s.seq, $19::text, $20::jsonb, $21::text FROM s
	RETURNING seq`

// settledOrder is the locked order as the decision leaves it, stamped now: what
// settleOrderQuery's update makes of the row, so that the order's events can be
// encoded before the one statement that stores them with it.
func settledOrder(ord market.Order, d market.SettleDecision, now time.Time) market.Order {
	s := d.Split
	ord.Status, ord.RefundedMinor, ord.FeeMinor, ord.SellerMinor = d.Status, s.Refund, s.Fee, s.Seller
	ord.RefundedFeeMinor, ord.RefundedTaxMinor = s.ServiceFeeRefund, s.TaxRefund
	ord.SettledAt, ord.UpdatedAt = &now, now
	return ord
}

// recordSettlement writes the settlement row (one per order), the order's status and
// split and the decision's events on the order's channel in one statement
// (settleOrderQuery), then the dispute's resolution and the refund row, and returns
// the order as updated with the stored events.
func recordSettlement(ctx context.Context, tx preparedTx, in market.SettleRequest, ord market.Order, d market.SettleDecision, providerRef string, now time.Time) (market.Order, []market.Event, error) {
	args, events, err := settleOrderArgs(ctx, in, ord, d, now)
	if err != nil {
		return ord, nil, err
	}
	var row settledRow
	if err := tx.GetContext(ctx, &row, settleOrderQuery, args...); err != nil {
		return ord, nil, fmt.Errorf("record settlement: %w", err)
	}
	if ord, err = row.apply(ord, events); err != nil {
		return ord, nil, err
	}
	if in.Action == market.SettleResolve {
		if err := resolveDispute(ctx, tx.Tx, in, ord.ID); err != nil {
			return ord, nil, err
		}
	}
	s := d.Split
	if d.Paid && s.Refund > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO refunds (order_id, amount_minor, currency, reason, requested_by, provider_ref)
			VALUES ($1, $2, $3, $4, $5, $6)`, ord.ID, s.BuyerRefund(), ord.Currency, d.Reason, in.UserID, providerRef); err != nil {
			return ord, nil, fmt.Errorf("record refund: %w", err)
		}
	}
	return ord, events, nil
}

// settleOrderArgs are settleOrderQuery's 15 parameters for the decision d on the
// locked order, and the order's events they store (without seqs: settledRow.apply
// sets them). It returns an encoding error only.
func settleOrderArgs(ctx context.Context, in market.SettleRequest, ord market.Order, d market.SettleDecision, now time.Time) ([]any, []market.Event, error) {
	next := settledOrder(ord, d, now)
	var ref *refundEvent
	if d.Paid && d.Split.Refund > 0 {
		ref = &refundEvent{AmountMinor: d.Split.BuyerRefund(), Currency: ord.Currency, Reason: d.Reason}
	}
	channel := market.OrderChannel(ord.ID)
	events, raws := make([]market.Event, len(d.EventTypes)), make([]string, len(d.EventTypes))
	for i, t := range d.EventTypes {
		ev, err := newEvent(ctx, channel, t, settledOrderEvent{orderEvent: orderEvent{Order: next}, Refund: ref}.public())
		if err != nil {
			return nil, nil, err
		}
		events[i], raws[i] = ev, string(ev.Data)
	}
	s := d.Split
	return []any{ord.ID, in.Action, in.UserID, in.IdempotencyKey, in.RequestHash,
		d.Status, s.Refund, s.Fee, s.Seller, s.ServiceFeeRefund, s.TaxRefund,
		channel, pq.Array(d.EventTypes), pq.Array(raws), traceParent(ctx)}, events, nil
}

// settledRow is what settleOrderQuery returns: the updated order and the last seq of
// its events (nil without events).
type settledRow struct {
	market.Order
	LastSeq *uint64 `db:"last_seq"`
}

// apply returns the updated order, keeping the payment of ord (it has no column: the
// payment read under the lock, to whose provider the escrow release posts), and sets
// the seqs of its events, the last one LastSeq. It returns an error when events were
// stored but no seq came back.
func (r settledRow) apply(ord market.Order, events []market.Event) (market.Order, error) {
	payment := ord.Payment
	ord = r.Order
	ord.Payment = payment
	for i := range events {
		if r.LastSeq == nil {
			return ord, fmt.Errorf("record settlement: no seq for the order's %d events", len(events))
		}
		events[i].Seq = *r.LastSeq - uint64(len(events)-1-i)
	}
	return ord, nil
}

// settleOrderQuery stores order $1's settlement row ($2 action, $3 user or empty, $4
// idempotency key, $5 request hash), sets its status $6 and split ($7 refund, $8 fee,
// $9 seller, $10 service fee refund, $11 tax refund) stamped now(), and stores its
// events ($13 types, $14 data in order, $15 trace) on channel $12 under the channel's
// next seqs, in one statement. It returns the updated order and the last seq (NULL
// without events).
const settleOrderQuery = `
	WITH ` + settleOrderCTEs + `
	SELECT settled.*, (SELECT seq FROM order_seq) AS last_seq FROM settled`

// settleOrderCTEs are settleOrderQuery's common table expressions (settlement, settled,
// order_seq, order_events); acceptWritesQuery uses them too.
const settleOrderCTEs = `settlement AS (
		INSERT INTO order_settlements (order_id, action, user_id, idempotency_key, request_hash)
		VALUES ($1, $2, NULLIF($3, '')::uuid, $4, $5)),
	settled AS (
		UPDATE orders SET status = $6, refunded_minor = $7, fee_minor = $8, seller_minor = $9,
			refunded_fee_minor = $10, refunded_tax_minor = $11, settled_at = now(), updated_at = now()
		WHERE id = $1 RETURNING ` + orderColumns + `),
	order_seq AS (
		INSERT INTO channel_seqs (channel, seq) SELECT $12, cardinality($13::text[]) WHERE cardinality($13::text[]) > 0
		ON CONFLICT (channel) DO UPDATE SET seq = channel_seqs.seq + cardinality($13::text[])
		RETURNING seq),
	order_events AS (
		INSERT INTO events (channel, seq, type, data, trace)
		SELECT $12, order_seq.seq - cardinality($13::text[]) + d.n, d.type, d.data::jsonb, $15::text
		FROM order_seq, unnest($13::text[], $14::text[]) WITH ORDINALITY AS d(type, data, n))`

// settledOrderEvent is the data of order.completed, order.cancelled and order.refunded.
type settledOrderEvent struct {
	orderEvent
	Refund *refundEvent `json:"refund,omitempty"`
}

// public strips the buyer's payment secrets.
func (e settledOrderEvent) public() settledOrderEvent {
	e.Order.Payment = nil
	return e
}

// OrdersDeliveredBefore lists up to limit orders delivered before before and still
// delivered, oldest first: the candidates of auto-complete.
func (db *DB) OrdersDeliveredBefore(ctx context.Context, before time.Time, limit int) ([]string, error) {
	ids := []string{}
	err := db.x.SelectContext(ctx, &ids, `SELECT id FROM orders WHERE status = 'delivered' AND delivered_at < $1
		ORDER BY delivered_at LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("orders due for auto-complete: %w", err)
	}
	return ids, nil
}

// ClearEarnings moves the seller's share of up to limit orders settled before
// settledBefore from pending to available, only if it has not cleared yet, and
// returns the stored balance.updated events, one per cleared order, each channel's in
// seq order. Up to clearingBatchSize due orders clear in one transaction whoever their
// sellers are (clearBatch): the orders, then every seller's balance rows, are locked
// once per batch and the transaction committed once per batch instead of once per
// seller (over many sellers, each with one due order, the sweep was one transaction per
// order). clearingWorkers batches run at once. What reversals took of the pending
// balance is not moved, and what moves repays the seller's debt first
// (market.ClearingSplit). A batch that fails leaves the others' work done: their
// events come back with the error.
func (db *DB) ClearEarnings(ctx context.Context, settledBefore time.Time, limit int) ([]market.Event, error) {
	var due []string
	err := db.x.SelectContext(ctx, &due, `SELECT id FROM orders
		WHERE cleared_at IS NULL AND seller_minor > 0 AND settled_at < $1 ORDER BY settled_at LIMIT $2`, settledBefore, limit)
	if err != nil {
		return nil, fmt.Errorf("orders due for clearing: %w", err)
	}
	if _, err := db.prepare(ctx, appendEventsByChannelQuery); err != nil {
		return nil, err
	}
	batches := slices.Collect(slices.Chunk(due, clearingBatchSize))
	cleared, errs := make([][]market.Event, len(batches)), make([]error, len(batches))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(clearingWorkers, len(batches)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(batches); i = int(next.Add(1) - 1) {
				batch := batches[i]
				err := db.inTx(ctx, func(tx *sqlx.Tx) error {
					var err error
					cleared[i], err = clearBatch(ctx, preparedTx{Tx: tx, db: db}, batch)
					return err
				})
				if err != nil {
					cleared[i], errs[i] = nil, fmt.Errorf("clear %d orders (%s…): %w", len(batch), batch[0], err)
				}
			}
		})
	}
	wg.Wait()
	events := slices.Concat(cleared...)
	slices.SortStableFunc(events, func(a, b market.Event) int {
		return cmp.Or(cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.Seq, b.Seq))
	})
	return events, errors.Join(errs...)
}

// clearingWorkers is how many clearing batches run at once, each on a connection of
// its own. A batch is a few round trips, one after the other, so one batch alone
// leaves the database idle while the sweep reads and encodes, and the sweep idle
// while the database works. Batches of one seller wait for each other on the seller's
// balance rows, taken in one global order (lockSellerBalances), then on its channel
// row, so they do not deadlock.
const clearingWorkers = 2

// clearingBatchSize is the most orders one clearing transaction clears: large enough
// that the per-transaction work (locks, commit) is shared, small enough that the
// sellers' rows are not held long.
const clearingBatchSize = 100

// clearBatch clears the due orders ids in tx, whatever their sellers and currencies:
// it locks them (in id order, so sweeps running at once on other nodes wait for each
// other instead of deadlocking), then every seller's balance rows in one global order
// (lockSellerBalances), skips the ones cleared meanwhile, and posts each order's
// clearing in settlement order against its seller's running balances, all of them in
// one statement (writeLedgers).
func clearBatch(ctx context.Context, tx preparedTx, ids []string) ([]market.Event, error) {
	var orders []market.Order
	if err := tx.SelectContext(ctx, &orders, `SELECT `+orderColumns+` FROM orders WHERE id = ANY($1) ORDER BY id FOR UPDATE`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("lock orders: %w", err)
	}
	slices.SortStableFunc(orders, func(a, b market.Order) int { return settledAt(a).Compare(settledAt(b)) })
	bal, err := lockSellerBalances(ctx, tx, orders)
	if err != nil {
		return nil, err
	}
	var cleared []market.Order
	var ledger []market.LedgerTransaction
	for _, ord := range orders {
		if ord.ClearedAt != nil || ord.SellerMinor <= 0 {
			continue // cleared by another node meanwhile
		}
		seller, cur := ord.SellerID, ord.Currency
		pending, debt := balanceKey{market.SellerPendingAccount(seller), cur}, balanceKey{market.SellerDebtAccount(seller), cur}
		toDebt, toAvailable := market.ClearingSplit(ord.SellerMinor, bal[pending], bal[debt])
		if t := market.ClearEarningsOf(ord.ID, seller, toDebt, toAvailable, cur); t != nil {
			ledger = append(ledger, *t)
		}
		bal[pending] -= toDebt + toAvailable
		bal[debt] += toDebt
		cleared = append(cleared, ord)
	}
	if err := writeLedgers(ctx, tx, ledger); err != nil {
		return nil, err
	}
	return markCleared(ctx, tx, cleared)
}

// balanceKey is a balance row's key.
type balanceKey struct{ Account, Currency string }

// lockSellerBalances locks the available, debt and pending balance rows of each
// order's seller in the order's currency, all in one statement, in the one global
// order of lockPostedBalances (currency, then lockBalances' order), and returns
// their balances (absent rows are zero). A pending or available row that does not
// exist yet is created at zero and locked in that order too; a debt row that does
// not exist is not created (the seller owes nothing, and the clearing posts no debt).
// Found by running two batches at once: a row the clearing's postings created was
// locked in the postings' order, after the others, so one batch held a seller's
// pending row and waited for its new available row, which the other batch, whose
// snapshot saw it, had locked first while waiting for the pending row (a deadlock).
func lockSellerBalances(ctx context.Context, tx txQuerier, orders []market.Order) (map[balanceKey]int64, error) {
	var accounts, currencies []string
	for _, o := range orders {
		for _, a := range []string{market.SellerAvailableAccount(o.SellerID), market.SellerDebtAccount(o.SellerID), market.SellerPendingAccount(o.SellerID)} {
			accounts, currencies = append(accounts, a), append(currencies, o.Currency)
		}
	}
	var rows []market.AccountBalance
	err := tx.SelectContext(ctx, &rows, `INSERT INTO ledger_balances (account, currency, balance_minor)
		SELECT account, currency, 0 FROM (SELECT DISTINCT account, currency FROM unnest($1::text[], $2::text[]) AS a(account, currency)) d
		WHERE account NOT LIKE 'seller:%:debt'
			OR EXISTS (SELECT 1 FROM ledger_balances x WHERE x.account = d.account AND x.currency = d.currency)
		ORDER BY currency, account ~ '^(external|platform|tax):', account
		ON CONFLICT (account, currency) DO UPDATE SET balance_minor = ledger_balances.balance_minor
		RETURNING account, currency, balance_minor`, pq.Array(accounts), pq.Array(currencies))
	if err != nil {
		return nil, fmt.Errorf("lock balances: %w", err)
	}
	out := make(map[balanceKey]int64, len(rows))
	for _, r := range rows {
		out[balanceKey{r.Account, r.Currency}] = r.BalanceMinor
	}
	return out, nil
}

// markCleared stamps the cleared orders in one statement and stores a
// balance.updated event for each on its seller's channel, all sellers' in one more
// (appendEventsByChannel, prepared; it was one statement per seller, so a batch over
// 100 sellers took 100 round trips), the channels' counter rows taken in name order so
// that sweeps take them in one order. The events come back by channel, each channel's
// in settlement order.
func markCleared(ctx context.Context, tx txQuerier, orders []market.Order) ([]market.Event, error) {
	if len(orders) == 0 {
		return nil, nil
	}
	ids := make([]string, len(orders))
	bySeller := map[string][]any{}
	for i, o := range orders {
		ids[i] = o.ID
		ch := market.UserChannel(o.SellerID)
		bySeller[ch] = append(bySeller[ch], balanceEvent{Currency: o.Currency, Reason: "earnings_cleared", OrderID: o.ID})
	}
	if _, err := tx.ExecContext(ctx, `UPDATE orders SET cleared_at = now(), updated_at = now() WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("mark cleared: %w", err)
	}
	return appendEventsByChannel(ctx, tx, "balance.updated", bySeller)
}

// settledAt is when the order settled; the zero time when it has not.
func settledAt(o market.Order) time.Time {
	if o.SettledAt == nil {
		return time.Time{}
	}
	return *o.SettledAt
}

var _ market.SettlementStore = (*DB)(nil)
