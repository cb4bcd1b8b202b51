package store_test

import (
	"context"
	"testing"

	"github.com/gigstream/hub/market"
)

// walkPages reads pages of size through read, each after the key of the previous
// page's last item, until an empty page; it fails on an item seen twice or out of
// order (newer reports whether a should come before b) and returns the ids read and
// the number of pages.
func walkPages[T any](t *testing.T, size int, read func(after *market.PageKey, limit int) ([]T, error),
	key func(T) market.PageKey, before func(a, b market.PageKey) bool) (map[string]bool, int) {
	t.Helper()
	seen := map[string]bool{}
	var after, last *market.PageKey
	pages := 0
	for {
		list, err := read(after, size)
		must(t, err)
		if len(list) == 0 {
			return seen, pages
		}
		pages++
		for _, item := range list {
			k := key(item)
			if seen[k.ID] {
				t.Fatalf("%s seen twice", k.ID)
			}
			seen[k.ID] = true
			if last != nil && !before(*last, k) {
				t.Fatalf("%s (%v) after %s (%v): out of order", k.ID, k.At, last.ID, last.At)
			}
			last = &k
		}
		after = last
	}
}

// newestFirst orders keys by (time, id) descending; oldestFirst ascending.
func newestFirst(a, b market.PageKey) bool {
	return a.At.After(b.At) || a.At.Equal(b.At) && a.ID > b.ID
}

func oldestFirst(a, b market.PageKey) bool {
	return a.At.Before(b.At) || a.At.Equal(b.At) && a.ID < b.ID
}

// TestConversationsPageThroughMoreThan200WithTheirCursor: 250 conversations of one
// user, many active in the same instant, walked in pages of 200 (the most GET
// /conversations gives): every one once, most recent first; another user's are not
// among them.
func TestConversationsPageThroughMoreThan200WithTheirCursor(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	_, err := f.raw.Exec(`
		WITH c AS (
			INSERT INTO conversations (kind, direct_key, last_activity_at)
			SELECT 'direct', 'page-test-' || g, now() - (g % 40) * interval '1 second'
			FROM generate_series(1, 251) AS g RETURNING id, direct_key)
		INSERT INTO conversation_members (conversation_id, user_id)
		SELECT id, CASE WHEN direct_key = 'page-test-251' THEN $2::uuid ELSE $1::uuid END FROM c`, f.buyer, f.seller)
	must(t, err)
	read := func(after *market.PageKey, limit int) ([]market.Conversation, error) {
		list, _, err := f.db.Conversations(ctx, f.buyer, after, limit)
		return list, err
	}
	key := func(c market.Conversation) market.PageKey { return market.PageKey{At: c.UpdatedAt, ID: c.ID} }
	seen, pages := walkPages(t, 200, read, key, newestFirst)
	if len(seen) != 250 || pages != 2 {
		t.Fatalf("walked %d conversations in %d pages, want 250 in 2", len(seen), pages)
	}
}

// TestWithdrawalsInReviewPageThroughMoreThan200WithTheirCursor: 250 withdrawals in
// review (and one paid, which is not), walked in pages of 200 (the most GET
// /admin/withdrawals gives): every one once, oldest first.
func TestWithdrawalsInReviewPageThroughMoreThan200WithTheirCursor(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	_, err := f.raw.Exec(`
		INSERT INTO withdrawals (user_id, idempotency_key, request_hash, amount_minor, currency, status, created_at)
		SELECT $1, 'page-' || g, 'h', 100, 'USD', CASE WHEN g = 251 THEN 'paid' ELSE 'review' END,
			now() - (g % 40) * interval '1 second'
		FROM generate_series(1, 251) AS g`, f.seller)
	must(t, err)
	s := f.settlement(&fakeMoney{}, market.SettlementConfig{})
	admin := market.User{ID: newAdmin(t, f), IsAdmin: true}
	read := func(after *market.PageKey, limit int) ([]market.Withdrawal, error) {
		return s.WithdrawalsInReview(ctx, admin, after, limit)
	}
	key := func(w market.Withdrawal) market.PageKey { return market.PageKey{At: w.CreatedAt, ID: w.ID} }
	seen, pages := walkPages(t, 200, read, key, oldestFirst)
	if len(seen) != 250 || pages != 2 {
		t.Fatalf("walked %d withdrawals in %d pages, want 250 in 2", len(seen), pages)
	}
}

// TestOwnWithdrawalsPageThroughMoreThan200WithTheirCursor: a seller's 250
// withdrawals of every status, many made in the same instant, walked in pages of 200
// (the most GET /me/withdrawals gives) along the keyset (created_at, id): every one
// once, newest first, none missing; another user's withdrawal is not among them.
func TestOwnWithdrawalsPageThroughMoreThan200WithTheirCursor(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	_, err := f.raw.Exec(`
		INSERT INTO withdrawals (user_id, idempotency_key, request_hash, amount_minor, currency, status, created_at)
		SELECT CASE WHEN g = 251 THEN $2::uuid ELSE $1::uuid END, 'own-' || g, 'h', 100, 'USD',
			(ARRAY['review', 'pending', 'paid', 'failed'])[1 + g % 4], now() - (g % 40) * interval '1 second'
		FROM generate_series(1, 251) AS g`, f.seller, f.buyer)
	must(t, err)
	s := f.settlement(&fakeMoney{}, market.SettlementConfig{})
	read := func(after *market.PageKey, limit int) ([]market.Withdrawal, error) {
		return s.Withdrawals(ctx, f.seller, after, limit)
	}
	key := func(w market.Withdrawal) market.PageKey { return market.PageKey{At: w.CreatedAt, ID: w.ID} }
	seen, pages := walkPages(t, 200, read, key, newestFirst)
	if len(seen) != 250 || pages != 2 {
		t.Fatalf("walked %d withdrawals in %d pages, want 250 in 2", len(seen), pages)
	}
	var theirs string
	must(t, f.raw.QueryRow(`SELECT id FROM withdrawals WHERE user_id = $1`, f.buyer).Scan(&theirs))
	if seen[theirs] {
		t.Fatal("another user's withdrawal is in the seller's list")
	}
}
