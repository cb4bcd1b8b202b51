package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

func twoUsers(t *testing.T, db *store.DB) (string, string) {
	t.Helper()
	ctx := context.Background()
	a, err := db.CreateUser(ctx, market.NewUser{Email: "a@x.test", Username: "user_a", DisplayName: "A", IsBuyer: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.CreateUser(ctx, market.NewUser{Email: "b@x.test", Username: "user_b", DisplayName: "B", IsSeller: true})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID, b.ID
}

func TestOrderThreadIsCreatedOnce(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	a, b := twoUsers(t, db)
	order := "8d1f5a52-6c55-4c4b-9a53-3f2f3f0b8a01"
	first, err := db.EnsureOrderConversation(ctx, order, a, b)
	if err != nil {
		t.Fatal(err)
	}
	again, err := db.EnsureOrderConversation(ctx, order, a, b)
	if err != nil || again != first {
		t.Fatalf("second call: %s, %v; want %s", again, err, first)
	}
	if ok, _ := db.IsMember(ctx, first, b); !ok {
		t.Fatal("the seller is not a member of the order thread")
	}
}

// Concurrent senders in one conversation get dense, distinct seqs, and every message
// is in history: the per-channel lock serializes them.
func TestConcurrentSendsGetDenseSeqs(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	a, b := twoUsers(t, db)
	conv, _, err := db.OpenDirectConversation(ctx, a, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	const each = 25
	var wg sync.WaitGroup
	for _, sender := range []string{a, b} {
		for i := 0; i < each; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := db.SendMessage(ctx, market.NewMessage{ConversationID: conv.ID, SenderID: sender, ClientID: newUUID(t), Text: "x"}); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	msgs, err := db.Messages(ctx, conv.ID, a, 0, 200)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2*each {
		t.Fatalf("%d messages, want %d", len(msgs), 2*each)
	}
	events, err := db.History(ctx, market.ConversationChannel(conv.ID), 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	for i, ev := range events {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d: not dense", i, ev.Seq)
		}
	}
}
