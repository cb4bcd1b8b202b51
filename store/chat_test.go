package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

func twoUsers(t testing.TB, db *store.DB) (string, string) {
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

// A send retried while the first attempt still holds the seq lock reads its checks
// from before that attempt committed: whichever way the race goes, every attempt
// answers with the one message stored, and nothing is written twice (one message,
// one message.created event, one unread for the recipient).
func TestConcurrentRetriesOfOneSendStoreItOnce(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	a, b := twoUsers(t, db)
	conv, _, err := db.OpenDirectConversation(ctx, a, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		clientID := newUUID(t)
		const attempts = 8
		ids := make(chan string, attempts)
		var wg sync.WaitGroup
		for range attempts {
			wg.Go(func() {
				sent, err := db.SendMessage(ctx, market.NewMessage{ConversationID: conv.ID, SenderID: a, ClientID: clientID, Text: "once"})
				if err != nil {
					t.Error(err)
					return
				}
				ids <- sent.Message.ID
			})
		}
		wg.Wait()
		close(ids)
		first := ""
		for id := range ids {
			if first == "" {
				first = id
			}
			if id != first {
				t.Fatalf("round %d: attempts answered with messages %s and %s", round, first, id)
			}
		}
		msgs, err := db.Messages(ctx, conv.ID, b, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != round+1 {
			t.Fatalf("round %d: %d messages stored, want %d", round, len(msgs), round+1)
		}
		events, err := db.History(ctx, market.ConversationChannel(conv.ID), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != round+1 || events[len(events)-1].Seq != uint64(round+1) {
			t.Fatalf("round %d: %d events on the conversation (last %+v), want %d", round, len(events), events[len(events)-1], round+1)
		}
		unread, err := db.History(ctx, market.UserChannel(b), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range unread {
			if ev.Type == "unread" {
				n++
			}
		}
		if n != round+1 {
			t.Fatalf("round %d: %d unread events for the recipient, want %d", round, n, round+1)
		}
	}
}
