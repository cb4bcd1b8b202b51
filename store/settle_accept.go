package store

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/gigstream/hub/market"
)

// acceptShaped reports whether a decided final action has an accept's writes: paid,
// nothing refunded, a seller share, no dispute to resolve, and one invoice to issue.
// writeSettlement writes those in one statement (writeAccept); any other shape takes
// a statement per part.
func acceptShaped(in market.SettleRequest, d market.SettleDecision) bool {
	return d.Paid && d.Split.Refund == 0 && d.Split.Seller > 0 && in.Action != market.SettleResolve &&
		len(d.Invoices) == 1 && d.Invoices[0].Kind == market.InvoiceKindInvoice
}

// writeAccept is writeSettlement for an acceptShaped decision on the locked order, in
// one round trip (acceptWritesQuery): the settlement row, status and the order's
// events, the escrow release with its balance locks, the invoice with its delivery
// job, and the seller's balance.updated. Before, these were three statements. It
// returns the updated order and the stored events, the seller's last.
func writeAccept(ctx context.Context, tx preparedTx, in market.SettleRequest, ord market.Order, d market.SettleDecision, now time.Time,
	customer market.InvoiceParty) (market.Order, []market.Event, error) {
	invoices, err := prepareInvoicesAt(ctx, tx, ord, d.Invoices, "", now, &customer)
	if err != nil {
		return ord, nil, err
	}
	args, events, err := settleOrderArgs(ctx, in, ord, d, now)
	if err != nil {
		return ord, nil, err
	}
	release := market.ReleaseEscrow(ord, d.Split)
	if err := release.Validate(); err != nil {
		return ord, nil, fmt.Errorf("ledger transaction %s: %w", release.Reference, err)
	}
	inv, err := invoiceArgs(ctx, invoices.ids[0], invoices.docs[0], "")
	if err != nil {
		return ord, nil, err
	}
	ev, err := sellerSettledEvent(ctx, ord)
	if err != nil {
		return ord, nil, err
	}
	args = append(append(append(args, ledgerArgs(release)...), inv...), ev.Channel, ev.Type, ev.Data, ev.Trace)
	var row struct {
		settledRow
		SellerSeq uint64 `db:"seller_seq"`
	}
	if err := tx.GetContext(ctx, &row, acceptWritesQuery, args...); err != nil {
		return ord, nil, fmt.Errorf("record settlement %s with %s and invoice: %w", in.Action, release.Reference, err)
	}
	if ord, err = row.apply(ord, events); err != nil {
		return ord, nil, err
	}
	ev.Seq = row.SellerSeq
	return ord, append(events, ev), nil
}

// acceptWritesQuery is writeAccept's statement, made of the statements a settlement
// writes otherwise: settleOrderCTEs ($1-$15, settleOrderArgs), the escrow release
// (ledgerCTEs and ledgerPostingsInsert, $16-$21, ledgerArgs), the invoice and its
// delivery job (invoiceCTEs, $22-$38, invoiceArgs) and the seller's event ($39
// channel, $40 type, $41 data, $42 trace) under the channel's next seq. It returns
// the updated order, the last seq of its events and the seller event's seq.
//
// The rows are written in the order the statements wrote them, each part reading the
// one before (a count of its rows), because two orders matter. Locks: the balance rows
// (in lockBalances' order) come before the seller's channel row, as in the clearing
// sweep, so the two wait for each other instead of deadlocking. Deferred triggers,
// which the commit runs in the order their rows were written: the invoice comes after
// the ledger's postings, so the commit numbers it after the ledger's checks and holds
// the series' counter row for the numbering alone (see writeSettlement). The balance
// trigger (ledger_apply_postings) and the event outbox's run once at the end of the
// statement, on rows it holds already.
var acceptWritesQuery = `
	WITH ` + settleOrderCTEs + `,
	` + shiftParams(ledgerCTEs, 15) + `,
	ledger_posted AS (` + shiftParams(ledgerPostingsInsert, 15) + `
		RETURNING 1),
	` + shiftParams(invoiceCTEs, 21) + `
		FROM (SELECT count(*) FROM ledger_posted) posted
		RETURNING 1),
	seller_seq AS (
		INSERT INTO channel_seqs (channel, seq) SELECT $39, 1 FROM (SELECT count(*) FROM invoice_row) issued
		ON CONFLICT (channel) DO UPDATE SET seq = channel_seqs.seq + 1
		RETURNING seq),
	seller_event AS (
		INSERT INTO events (channel, seq, type, data, trace)
		SELECT $39, seller_seq.seq, $40::text, $41::jsonb, $42::text FROM seller_seq
		RETURNING seq)
	SELECT settled.*, (SELECT seq FROM order_seq) AS last_seq, (SELECT seq FROM seller_event) AS seller_seq FROM settled`

// paramRef is a statement's parameter reference, $1 and up.
var paramRef = regexp.MustCompile(`\$[0-9]+`)

// shiftParams renumbers query's parameters by by ($1 becomes $(1+by)), so that
// statements whose parameters both start at $1 can be parts of one statement. The
// queries it is used on hold no dollar sign but their parameters'.
func shiftParams(query string, by int) string {
	return paramRef.ReplaceAllStringFunc(query, func(p string) string {
		n, _ := strconv.Atoi(p[1:])
		return "$" + strconv.Itoa(n+by)
	})
}
