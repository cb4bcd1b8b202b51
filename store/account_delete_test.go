package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

// refusedFor fails unless deleting userID is refused naming field, with nothing changed.
func refusedFor(t *testing.T, f orderFixture, userID, field string) {
	t.Helper()
	_, err := f.db.AnonymizeUser(context.Background(), userID)
	var e *market.Error
	if !errors.As(err, &e) || e.Code != market.CodeConflict || e.Field != field {
		t.Fatalf("deleting %s: %v, want a conflict naming %s", userID, err, field)
	}
	var deleted, published int
	must(t, f.raw.QueryRow(`SELECT (SELECT count(*) FROM users WHERE id = $1 AND deleted_at IS NOT NULL),
		(SELECT count(*) FROM gigs WHERE id = $2 AND status = 'published')`, userID, f.gig).Scan(&deleted, &published))
	if deleted != 0 || published != 1 {
		t.Fatalf("a refused deletion changed state: deleted %d, published gigs %d", deleted, published)
	}
}

func TestDeletionRefusedWhileMoneyMoves(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	o := f.deliveredOrder(t, time.Now())
	refusedFor(t, f, f.buyer, "orders")
	refusedFor(t, f, f.seller, "orders")

	s := f.settlement(&fakeMoney{}, market.SettlementConfig{ClearingPeriod: time.Hour})
	_, _, err := s.Accept(ctx, o.ID, f.buyer, "k1")
	must(t, err)
	refusedFor(t, f, f.seller, "balance") // pending earnings

	_, err = f.raw.Exec(`INSERT INTO withdrawals (user_id, idempotency_key, request_hash, amount_minor, currency)
		VALUES ($1, 'w1', 'h', 100, 'USD')`, f.buyer)
	must(t, err)
	refusedFor(t, f, f.buyer, "withdrawals")
	_, err = f.raw.Exec(`UPDATE withdrawals SET status = 'paid' WHERE user_id = $1`, f.buyer)
	must(t, err)
	if _, err := f.db.AnonymizeUser(ctx, f.buyer); err != nil {
		t.Fatalf("the buyer of a completed order, nothing pending: %v", err)
	}
	if _, err := f.db.AnonymizeUser(ctx, f.buyer); !errors.Is(err, market.ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestDeletionPausesGigsAndRemovesReachButKeepsMoney(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	o := f.completedOrder(t)
	_, _, err := f.db.CreateReview(ctx, market.NewReview{OrderID: o.ID, BuyerID: f.buyer, Rating: 5}, allow)
	must(t, err)
	// A seller without earnings: their own published gig.
	u, err := f.db.CreateUser(ctx, market.NewUser{Email: "solo@x.test", Username: "solo_seller", DisplayName: "Solo", IsSeller: true})
	must(t, err)
	var gig string
	must(t, f.raw.QueryRow(`INSERT INTO gigs (seller_id, category_id, slug, title, description, status, published_at)
		SELECT $1, category_id, 'solo-gig', 'A gig of the solo seller', 'd', 'published', now() FROM gigs LIMIT 1 RETURNING id`, u.ID).Scan(&gig))
	f.chatted(t) // the buyer's device token and notification
	s, err := f.db.CreateSession(ctx, market.Session{UserID: f.buyer, TokenHash: make([]byte, 32), CSRFToken: "c", Kind: "bearer", ExpiresAt: time.Now().Add(time.Hour)})
	must(t, err)
	var before int64
	must(t, f.raw.QueryRow(`SELECT COALESCE(sum(abs(amount_minor)), 0) FROM ledger_postings`).Scan(&before))

	if _, err := f.db.AnonymizeUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	ended, err := f.db.AnonymizeUser(ctx, f.buyer)
	must(t, err)
	if len(ended) != 1 || ended[0] != s.ID {
		t.Fatalf("ended sessions %v, want [%s]", ended, s.ID)
	}
	var status string
	var tokens, notes, orders, reviews int
	var after int64
	must(t, f.raw.QueryRow(`SELECT (SELECT status FROM gigs WHERE id = $1),
		(SELECT count(*) FROM device_tokens WHERE user_id = $2), (SELECT count(*) FROM notifications WHERE user_id = $2),
		(SELECT count(*) FROM orders WHERE buyer_id = $2), (SELECT count(*) FROM reviews WHERE buyer_id = $2 AND rating = 5),
		(SELECT COALESCE(sum(abs(amount_minor)), 0) FROM ledger_postings)`, gig, f.buyer).
		Scan(&status, &tokens, &notes, &orders, &reviews, &after))
	if status != "paused" || tokens != 0 || notes != 0 || orders != 1 || reviews != 1 || after != before {
		t.Fatalf("gig %s, tokens %d, notifications %d, orders %d, reviews %d, postings %d→%d", status, tokens, notes, orders, reviews, before, after)
	}
	if _, err := f.db.UserByEmail(ctx, "buyer@x.test"); !errors.Is(err, market.ErrNotFound) {
		t.Fatalf("the old address still finds the user: %v", err)
	}
}

// Deleting an account removes the rows of the uploads no order needs (the avatar, gig
// media, a rejected upload) and queues, in the same transaction, one object_delete job
// with their objects, posters and renditions included; an upload an order points at
// stays. Uploads still in flight lose their rows (a body that finishes later finds none
// to settle) and their tus uploads expire at once.
func TestDeletionRemovesUploadsNoOrderNeedsAndQueuesTheirObjects(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	_, err := f.db.MigrateJobs(ctx, slog.New(slog.DiscardHandler))
	must(t, err)
	o := f.completedOrder(t)
	sum := strings.Repeat("ab", 32)
	insert := func(owner, kind, status string, key, poster, order any) string {
		t.Helper()
		var id string
		clean := status == "clean"
		must(t, f.raw.QueryRow(`INSERT INTO uploads (owner_id, kind, status, object_key, poster_key, order_id, size, sha256, content_type)
			VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 THEN 1 END, CASE WHEN $7 THEN $8 END, CASE WHEN $7 THEN 'image/png' END) RETURNING id`,
			owner, kind, status, key, poster, order, clean, sum).Scan(&id))
		return id
	}
	insert(f.buyer, "avatar", "clean", "u/b/avatar", nil, nil)
	insert(f.buyer, "gig_video", "clean", "u/b/video", "u/b/poster", nil)
	insert(f.buyer, "attachment", "rejected", nil, nil, nil)
	kept := []string{insert(f.buyer, "attachment", "clean", "u/b/order-file", nil, o.ID)}
	// In flight: a raw body still streaming, and a tus upload between PATCHes.
	insert(f.buyer, "avatar", "uploading", nil, nil, nil)
	tusRow := insert(f.buyer, "avatar", "uploading", nil, nil, nil)
	_, err = f.raw.Exec(`INSERT INTO tus_uploads (id, owner_id, status, expires_at, state) VALUES ('tus-1', $1, 'uploading', now() + interval '1 day', '{}')`, f.buyer)
	must(t, err)
	_, err = f.raw.Exec(`UPDATE uploads SET tus_id = 'tus-1' WHERE id = $1`, tusRow)
	must(t, err)

	if _, err := f.db.AnonymizeUser(ctx, f.buyer); err != nil {
		t.Fatal(err)
	}
	var left []string
	rows, err := f.raw.Query(`SELECT id FROM uploads WHERE owner_id = $1 ORDER BY id`, f.buyer)
	must(t, err)
	for rows.Next() {
		var id string
		must(t, rows.Scan(&id))
		left = append(left, id)
	}
	must(t, rows.Err())
	slices.Sort(kept)
	if !slices.Equal(left, kept) {
		t.Errorf("the deleted user's uploads left: %v, want only %v (the order's)", left, kept)
	}
	var expired bool
	must(t, f.raw.QueryRow(`SELECT expires_at <= now() FROM tus_uploads WHERE id = 'tus-1'`).Scan(&expired))
	if !expired {
		t.Error("the deleted user's unfinished tus upload does not expire now (the expiry sweep would keep its parts for a day)")
	}
	var jobs []string
	rows, err = f.raw.Query(`SELECT args::text FROM river_job WHERE kind = 'object_delete'`)
	must(t, err)
	for rows.Next() {
		var args string
		must(t, rows.Scan(&args))
		jobs = append(jobs, args)
	}
	must(t, rows.Err())
	if len(jobs) != 1 {
		t.Fatalf("object_delete jobs: %v, want one", jobs)
	}
	var args struct{ Keys []string }
	must(t, json.Unmarshal([]byte(jobs[0]), &args))
	slices.Sort(args.Keys)
	if want := []string{"u/b/avatar", "u/b/poster", "u/b/video"}; !slices.Equal(args.Keys, want) {
		t.Errorf("object_delete keys %v, want %v", args.Keys, want)
	}
}
