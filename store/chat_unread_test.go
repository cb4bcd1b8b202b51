package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

// The unread counters are kept in the transactions that change them. Under many
// concurrent senders, readers and deleters in crossing conversations (every pair of
// six users talks, so locks of one user's counters are taken from many conversations
// at once), no call fails (no deadlock), and afterwards every member's count and every
// user's total equal a recount from the messages; the next unread event carries them.
func TestUnreadCountersStayExactUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	users := manyUsers(t, db, 6)
	var convs []market.Conversation
	for i := range users {
		for j := i + 1; j < len(users); j++ {
			c, _, err := db.OpenDirectConversation(ctx, users[i], users[j], nil)
			if err != nil {
				t.Fatal(err)
			}
			convs = append(convs, c)
		}
	}
	var wg sync.WaitGroup
	for w := range 24 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range 40 {
				c := convs[rng.IntN(len(convs))]
				me := c.Participants[rng.IntN(2)].ID
				if err := randomChatStep(ctx, db, rng, c.ID, me); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, u := range users {
		checkUnread(t, db, u)
	}
	// One more message to each user: its unread event carries the exact figures.
	for _, c := range convs {
		from, to := c.Participants[0].ID, c.Participants[1].ID
		sent, err := db.SendMessage(ctx, market.NewMessage{ConversationID: c.ID, SenderID: from, ClientID: newUUID(t), Text: "last"})
		if err != nil {
			t.Fatal(err)
		}
		total, count := recount(t, db, to, c.ID)
		var got struct{ Total, Count int }
		last := sent.Events[len(sent.Events)-1]
		if err := json.Unmarshal(last.Data, &got); err != nil || last.Type != "unread" {
			t.Fatalf("last event %s %s: %v", last.Type, last.Data, err)
		}
		if got.Total != total || got.Count != count {
			t.Fatalf("unread event for %s: total %d count %d, recount %d and %d", to, got.Total, got.Count, total, count)
		}
	}
}

// randomChatStep sends, reads up to a random seq, or deletes one's own latest message.
func randomChatStep(ctx context.Context, db *store.DB, rng *rand.Rand, convID, me string) error {
	switch rng.IntN(5) {
	case 0, 1, 2:
		_, err := db.SendMessage(ctx, market.NewMessage{ConversationID: convID, SenderID: me, ClientID: newUUID(nil), Text: "hi"})
		return err
	case 3:
		msgs, err := db.Messages(ctx, convID, me, 0, 1)
		if err != nil || len(msgs) == 0 {
			return err
		}
		_, _, err = db.MarkRead(ctx, convID, me, uint64(rng.IntN(int(msgs[0].Seq)+2)))
		return err
	default:
		msgs, err := db.Messages(ctx, convID, me, 0, 10)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.SenderID == me && !m.Deleted {
				_, _, err := db.DeleteMessage(ctx, convID, m.ID, me, time.Now().Add(-time.Hour))
				if market.ErrorCode(err) == market.CodeConflict {
					return nil // another worker of the same user deleted it first
				}
				return err
			}
		}
		return nil
	}
}

// checkUnread compares userID's conversation list (counters) with a recount.
func checkUnread(t *testing.T, db *store.DB, userID string) {
	t.Helper()
	list, total, err := db.Conversations(context.Background(), userID, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, c := range list {
		_, want := recount(t, db, userID, c.ID)
		if c.UnreadCount != want {
			t.Errorf("user %s conversation %s: unread %d, recount %d", userID, c.ID, c.UnreadCount, want)
		}
		sum += want
	}
	if total != sum {
		t.Errorf("user %s: total unread %d, recount %d", userID, total, sum)
	}
}

// recount counts userID's unread messages from the messages themselves: over all
// their conversations, and in convID.
func recount(t *testing.T, db *store.DB, userID, convID string) (total, inConv int) {
	t.Helper()
	ctx := context.Background()
	list, _, err := db.Conversations(ctx, userID, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		msgs, err := db.Messages(ctx, c.ID, userID, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range msgs {
			if m.Seq > c.LastReadSeq && m.SenderID != userID && !m.Deleted {
				n++
			}
		}
		total += n
		if c.ID == convID {
			inConv = n
		}
	}
	return total, inConv
}

func manyUsers(t *testing.T, db *store.DB, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		u, err := db.CreateUser(context.Background(), market.NewUser{
			Email: fmt.Sprintf("u%d@x.test", i), Username: fmt.Sprintf("user_%d", i), DisplayName: "U", IsBuyer: true})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	return ids
}
