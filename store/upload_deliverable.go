package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gigstream/hub/market"
)

// OrderForUpload returns an order's seller and status, or wraps ErrNotFound (also for
// a malformed id).
func (db *DB) OrderForUpload(ctx context.Context, orderID string) (string, market.OrderStatus, error) {
	if !isUUID(orderID) {
		return "", "", fmt.Errorf("order %q: %w", orderID, ErrNotFound)
	}
	var row struct {
		SellerID string             `db:"seller_id"`
		Status   market.OrderStatus `db:"status"`
	}
	err := db.x.GetContext(ctx, &row, `SELECT seller_id, status FROM orders WHERE id = $1`, orderID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", fmt.Errorf("order %s: %w", orderID, ErrNotFound)
	}
	if err != nil {
		return "", "", fmt.Errorf("order %s: %w", orderID, err)
	}
	return row.SellerID, row.Status, nil
}

// DeliveredTo reports whether the upload is a file of some delivery of an order that
// userID buys: then the buyer may download it.
func (db *DB) DeliveredTo(ctx context.Context, uploadID, userID string) (bool, error) {
	if !isUUID(uploadID) || !isUUID(userID) {
		return false, nil
	}
	var ok bool
	err := db.x.GetContext(ctx, &ok, `
		SELECT EXISTS (SELECT 1 FROM delivery_files f
			JOIN deliveries d ON d.id = f.delivery_id
			JOIN orders o ON o.id = d.order_id
			WHERE f.upload_id = $1 AND o.buyer_id = $2)`, uploadID, userID)
	if err != nil {
		return false, fmt.Errorf("delivered upload %s: %w", uploadID, err)
	}
	return ok, nil
}
