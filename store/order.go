package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gigstream/hub/market"
)

const orderColumns = `id, buyer_id, seller_id, gig_id, package_id, gig_title, package_tier, package_title,
	price_minor, currency, revisions_allowed, revisions_used, delivery_days, status, due_at, paid_at,
	delivered_at, created_at, updated_at, refunded_minor, fee_minor, seller_minor, settled_at, cleared_at,
	service_fee_minor, tax_minor, price_minor + service_fee_minor + tax_minor AS total_minor, tax_rate_bps, tax_country,
	reverse_charge, refunded_fee_minor, refunded_tax_minor`

// orderEvent is the data of an order.* event: the order as both parties see it (no
// payment secrets), and what the transition added.
type orderEvent struct {
	Order    market.Order     `json:"order"`
	Delivery *market.Delivery `json:"delivery,omitempty"`
	Revision *revisionEvent   `json:"revision,omitempty"`
}

type revisionEvent struct {
	Note         string `json:"note"`
	AfterVersion int    `json:"after_version"`
}

// appendOrderEvent stores an order.* event on the order's channel in tx.
func appendOrderEvent(ctx context.Context, tx *sqlx.Tx, eventType string, data orderEvent) (market.Event, error) {
	data.Order.Payment = nil
	return appendEvent(ctx, tx, market.OrderChannel(data.Order.ID), eventType, data)
}

// PlaceOrder stores a new order for in.BuyerID under its idempotency key, with its
// order.placed event, once check accepts the gig offer; the key's row is taken first,
// so a concurrent request with the same key waits and then finds this order; price
// checks the offer and returns the quote the order charges. When the
// key was used before, it returns that order (Created false) and the request hash it
// was made with, changing nothing. A gig without a package of the tier is not found.
func (db *DB) PlaceOrder(ctx context.Context, in market.NewOrder, price func(market.GigOffer) (market.Quote, error)) (market.PlacedOrder, error) {
	var out market.PlacedOrder
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO order_idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, in.BuyerID, in.IdempotencyKey, in.RequestHash)
		if err != nil {
			return fmt.Errorf("take idempotency key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return earlierOrder(ctx, tx, in, &out)
		}
		return insertOrder(ctx, tx, in, price, &out)
	})
	if err != nil {
		return market.PlacedOrder{}, err
	}
	if out.Order.Payment, err = paymentOf(ctx, db.x, out.Order.ID); err != nil {
		return market.PlacedOrder{}, err
	}
	return out, nil
}

// earlierOrder loads the order an earlier request with the same key made.
func earlierOrder(ctx context.Context, tx *sqlx.Tx, in market.NewOrder, out *market.PlacedOrder) error {
	var key struct {
		RequestHash string `db:"request_hash"`
		OrderID     string `db:"order_id"`
	}
	err := tx.GetContext(ctx, &key, `SELECT request_hash, order_id FROM order_idempotency_keys WHERE user_id = $1 AND key = $2`,
		in.BuyerID, in.IdempotencyKey)
	if err != nil {
		return fmt.Errorf("idempotency key: %w", err)
	}
	out.RequestHash = key.RequestHash
	return tx.GetContext(ctx, &out.Order, `SELECT `+orderColumns+` FROM orders WHERE id = $1`, key.OrderID)
}

const offerSQL = `
	SELECT g.id, g.seller_id, g.status, g.title, p.id AS package_id, p.tier, p.title AS package_title,
		p.price_minor, p.currency, p.revisions, p.delivery_days
	FROM gig_packages p JOIN gigs g ON g.id = p.gig_id
	WHERE g.id = $1 AND p.tier = $2
	FOR SHARE OF g, p`

type offerRow struct {
	GigID        string `db:"id"`
	PackageID    string `db:"package_id"`
	SellerID     string `db:"seller_id"`
	Status       string `db:"status"`
	Title        string `db:"title"`
	Tier         string `db:"tier"`
	PackageTitle string `db:"package_title"`
	PriceMinor   int64  `db:"price_minor"`
	Currency     string `db:"currency"`
	Revisions    int    `db:"revisions"`
	DeliveryDays int    `db:"delivery_days"`
}

// insertOrder snapshots the package into a new order, links the key and stores the
// order.placed event.
func insertOrder(ctx context.Context, tx *sqlx.Tx, in market.NewOrder, price func(market.GigOffer) (market.Quote, error), out *market.PlacedOrder) error {
	var g offerRow
	if !isUUID(in.GigID) {
		return market.FieldError(market.CodeNotFound, "gig_id", "no such published gig")
	}
	err := tx.GetContext(ctx, &g, offerSQL, in.GigID, in.Tier)
	if errors.Is(err, sql.ErrNoRows) {
		return market.FieldError(market.CodeNotFound, "tier", "this gig has no package of that tier")
	}
	if err != nil {
		return fmt.Errorf("gig offer: %w", err)
	}
	q, err := price(market.GigOffer{GigID: g.GigID, SellerID: g.SellerID, GigStatus: g.Status,
		GigTitle: g.Title, PackageTitle: g.PackageTitle, PriceMinor: g.PriceMinor, Currency: g.Currency})
	if err != nil {
		return err
	}
	err = tx.GetContext(ctx, &out.Order, `
		INSERT INTO orders (buyer_id, seller_id, gig_id, package_id, gig_title, package_tier, package_title,
			price_minor, currency, revisions_allowed, delivery_days,
			service_fee_minor, tax_minor, tax_rate_bps, tax_country, reverse_charge)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING `+orderColumns,
		in.BuyerID, g.SellerID, g.GigID, g.PackageID, g.Title, g.Tier, g.PackageTitle, g.PriceMinor, g.Currency, g.Revisions, g.DeliveryDays,
		q.ServiceFeeMinor, q.TaxMinor, q.TaxRateBPS, q.TaxCountry, q.ReverseCharge)
	if err != nil {
		return fmt.Errorf("insert order: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE order_idempotency_keys SET order_id = $3 WHERE user_id = $1 AND key = $2`,
		in.BuyerID, in.IdempotencyKey, out.Order.ID); err != nil {
		return fmt.Errorf("link idempotency key: %w", err)
	}
	out.Created, out.RequestHash = true, in.RequestHash
	ev, err := appendOrderEvent(ctx, tx, "order.placed", orderEvent{Order: out.Order})
	out.Events = []market.Event{ev}
	return err
}

// Order returns an order to its buyer or seller, with its payment; anyone else (and a
// malformed id) wraps ErrNotFound.
func (db *DB) Order(ctx context.Context, orderID, userID string) (market.Order, error) {
	if !isUUID(orderID) {
		return market.Order{}, fmt.Errorf("order %q: %w", orderID, ErrNotFound)
	}
	var o market.Order
	err := db.x.GetContext(ctx, &o, `SELECT `+orderColumns+` FROM orders WHERE id = $1 AND (buyer_id = $2 OR seller_id = $2)`, orderID, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("order %s: %w", orderID, ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("order %s: %w", orderID, err)
	}
	o.Payment, err = paymentOf(ctx, db.x, o.ID)
	return o, err
}

// Orders lists up to limit of userID's orders, newest first, as buyer, seller or
// either (role ""), after the key (created_at, id) of the last one seen (nil: from
// the newest).
func (db *DB) Orders(ctx context.Context, userID, role string, after *market.PageKey, limit int) ([]market.Order, error) {
	var at *time.Time
	var id *string
	if after != nil {
		at, id = &after.At, &after.ID
	}
	list := []market.Order{}
	err := db.x.SelectContext(ctx, &list, `SELECT `+orderColumns+` FROM orders
		WHERE (($2 IN ('', 'buyer') AND buyer_id = $1) OR ($2 IN ('', 'seller') AND seller_id = $1))
		  AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, $5::uuid))
		ORDER BY created_at DESC, id DESC LIMIT $3`, userID, role, limit, at, id)
	if err != nil {
		return nil, fmt.Errorf("orders: %w", err)
	}
	ids := make([]string, len(list))
	for i := range list {
		ids[i] = list[i].ID
	}
	pays, err := paymentsOf(ctx, db.x, ids)
	for i := range list {
		list[i].Payment = pays[list[i].ID]
	}
	return list, err
}

// IsOrderParty reports whether userID buys or sells the order.
func (db *DB) IsOrderParty(ctx context.Context, orderID, userID string) (bool, error) {
	if !isUUID(orderID) {
		return false, nil
	}
	var ok bool
	err := db.x.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM orders WHERE id = $1 AND (buyer_id = $2 OR seller_id = $2))`, orderID, userID)
	if err != nil {
		return false, fmt.Errorf("order party: %w", err)
	}
	return ok, nil
}

// lockOrderQuery locks order $1 where user $2 is a party to it ($2 empty: anyone).
const lockOrderQuery = `SELECT ` + orderColumns + ` FROM orders
	WHERE id = $1 AND ($2 = '' OR buyer_id::text = $2 OR seller_id::text = $2) FOR UPDATE`

// lockOrder returns the order row locked until tx ends: every change of an order
// starts here, so changes of one order serialize. With userID set, an order that user
// is no party to wraps ErrNotFound.
func lockOrder(ctx context.Context, tx txQuerier, orderID, userID string) (market.Order, error) {
	var o market.Order
	if !isUUID(orderID) {
		return o, fmt.Errorf("order %q: %w", orderID, ErrNotFound)
	}
	err := tx.GetContext(ctx, &o, lockOrderQuery, orderID, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("order %s: %w", orderID, ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("lock order %s: %w", orderID, err)
	}
	return o, nil
}

var _ market.OrderStore = (*DB)(nil)
