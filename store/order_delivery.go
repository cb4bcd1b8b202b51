package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

// CreateDelivery stores the next version of an order's work with its files, moves the
// order to delivered and stores the order.delivered event, in one transaction under
// the order's row lock, once check accepts the locked order and the named uploads
// (locked too, so none can change meanwhile). An order in.UserID is no party to wraps
// ErrNotFound.
func (db *DB) CreateDelivery(ctx context.Context, in market.NewDelivery, check func(market.Order, []market.DeliveryCandidate) error) (market.Delivery, market.Order, market.Event, error) {
	var d market.Delivery
	var ord market.Order
	var ev market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if ord, err = lockOrder(ctx, tx, in.OrderID, in.UserID); err != nil {
			return err
		}
		files, err := deliveryCandidates(ctx, tx, in.UploadIDs)
		if err != nil {
			return err
		}
		if err := check(ord, files); err != nil {
			return err
		}
		if d, err = insertDelivery(ctx, tx, ord.ID, in); err != nil {
			return err
		}
		err = tx.GetContext(ctx, &ord, `UPDATE orders SET status = 'delivered', delivered_at = now(), updated_at = now()
			WHERE id = $1 RETURNING `+orderColumns, ord.ID)
		if err != nil {
			return fmt.Errorf("mark order delivered: %w", err)
		}
		ev, err = appendOrderEvent(ctx, tx, "order.delivered", orderEvent{Order: ord, Delivery: &d})
		return err
	})
	return d, ord, ev, err
}

// deliveryCandidates locks the named uploads and says which are in a delivery already.
func deliveryCandidates(ctx context.Context, tx *sqlx.Tx, ids []string) ([]market.DeliveryCandidate, error) {
	lower := make([]string, len(ids))
	for i, id := range ids {
		lower[i] = strings.ToLower(id)
	}
	var rows []struct {
		market.Upload
		InDelivery bool `db:"in_delivery"`
	}
	err := tx.SelectContext(ctx, &rows, `SELECT `+prefixed("u.", uploadColumns)+`,
			EXISTS (SELECT 1 FROM delivery_files f WHERE f.upload_id = u.id) AS in_delivery
		FROM uploads u WHERE u.id = ANY($1::uuid[]) FOR UPDATE OF u`, pq.Array(lower))
	if err != nil {
		return nil, fmt.Errorf("delivery uploads: %w", err)
	}
	out := make([]market.DeliveryCandidate, len(rows))
	for i, r := range rows {
		out[i] = market.DeliveryCandidate{Upload: r.Upload, InDelivery: r.InDelivery}
	}
	return out, nil
}

// insertDelivery stores version n+1 of the order's work and its files, in order.
func insertDelivery(ctx context.Context, tx *sqlx.Tx, orderID string, in market.NewDelivery) (market.Delivery, error) {
	var d market.Delivery
	err := tx.GetContext(ctx, &d, `
		INSERT INTO deliveries (order_id, version, note)
		SELECT $1, COALESCE(max(version), 0) + 1, $2 FROM deliveries WHERE order_id = $1
		RETURNING id, order_id, version, note, created_at`, orderID, in.Note)
	if err != nil {
		return d, fmt.Errorf("insert delivery: %w", err)
	}
	for i, id := range in.UploadIDs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO delivery_files (delivery_id, upload_id, position) VALUES ($1, $2, $3)`,
			d.ID, strings.ToLower(id), i); err != nil {
			return d, fmt.Errorf("insert delivery file: %w", err)
		}
	}
	files, err := deliveryFiles(ctx, tx, []string{d.ID})
	d.Files = files[d.ID]
	return d, err
}

// RequestRevision records a buyer's revision request after the latest delivery, moves
// the order to revision_requested and counts the revision, with the
// order.revision_requested event, under the order's row lock, once check accepts the
// locked order. An order in.UserID is no party to wraps ErrNotFound.
func (db *DB) RequestRevision(ctx context.Context, in market.NewRevision, check func(market.Order) error) (market.Order, market.Event, error) {
	var ord market.Order
	var ev market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if ord, err = lockOrder(ctx, tx, in.OrderID, in.UserID); err != nil {
			return err
		}
		if err := check(ord); err != nil {
			return err
		}
		var version int
		err = tx.GetContext(ctx, &version, `
			INSERT INTO revision_requests (order_id, after_version, note)
			SELECT $1, max(version), $2 FROM deliveries WHERE order_id = $1 RETURNING after_version`, ord.ID, in.Note)
		if err != nil {
			return fmt.Errorf("insert revision request: %w", err)
		}
		err = tx.GetContext(ctx, &ord, `UPDATE orders SET status = 'revision_requested', revisions_used = revisions_used + 1,
			updated_at = now() WHERE id = $1 RETURNING `+orderColumns, ord.ID)
		if err != nil {
			return fmt.Errorf("mark revision requested: %w", err)
		}
		ev, err = appendOrderEvent(ctx, tx, "order.revision_requested", orderEvent{Order: ord, Revision: &revisionEvent{Note: in.Note, AfterVersion: version}})
		return err
	})
	return ord, ev, err
}

// Deliveries lists an order's deliveries, newest first, with their files, to its buyer
// or seller; anyone else wraps ErrNotFound.
func (db *DB) Deliveries(ctx context.Context, orderID, userID string) ([]market.Delivery, error) {
	ok, err := db.IsOrderParty(ctx, orderID, userID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("order %s: %w", orderID, ErrNotFound)
	}
	list := []market.Delivery{}
	err = db.x.SelectContext(ctx, &list, `SELECT id, order_id, version, note, created_at FROM deliveries
		WHERE order_id = $1 ORDER BY version DESC`, orderID)
	if err != nil {
		return nil, fmt.Errorf("deliveries of %s: %w", orderID, err)
	}
	ids := make([]string, len(list))
	for i := range list {
		ids[i] = list[i].ID
	}
	files, err := deliveryFiles(ctx, db.x, ids)
	for i := range list {
		list[i].Files = files[list[i].ID]
	}
	return list, err
}

// deliveryFiles returns the files of deliveries by delivery id, each in its order.
func deliveryFiles(ctx context.Context, q querier, deliveryIDs []string) (map[string][]market.DeliveryFile, error) {
	var rows []struct {
		DeliveryID string `db:"delivery_id"`
		market.DeliveryFile
	}
	err := q.SelectContext(ctx, &rows, `
		SELECT f.delivery_id, u.id AS upload_id, u.filename, u.content_type, u.size, u.sha256
		FROM delivery_files f JOIN uploads u ON u.id = f.upload_id
		WHERE f.delivery_id = ANY($1::uuid[]) ORDER BY f.delivery_id, f.position`, pq.Array(deliveryIDs))
	if err != nil {
		return nil, fmt.Errorf("delivery files: %w", err)
	}
	out := map[string][]market.DeliveryFile{}
	for _, id := range deliveryIDs {
		out[id] = []market.DeliveryFile{}
	}
	for _, r := range rows {
		out[r.DeliveryID] = append(out[r.DeliveryID], r.DeliveryFile)
	}
	return out, nil
}
