package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

// A text-only send is one statement that takes the conversation's seq only when every
// check passes: sends refused because of a block, from a non-member, or with a used
// client id take no seq and write nothing, so the channel stays gap-free, and the
// stored message.created event carries the seq it was given, as the published one.
func TestRefusedSendsTakeNoSeq(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	a, b := twoUsers(t, db)
	outsider, err := db.CreateUser(ctx, market.NewUser{Email: "c@x.test", Username: "user_c", DisplayName: "C", IsBuyer: true})
	if err != nil {
		t.Fatal(err)
	}
	conv, _, err := db.OpenDirectConversation(ctx, a, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	send := func(from, clientID string) (market.SentMessage, error) {
		return db.SendMessage(ctx, market.NewMessage{ConversationID: conv.ID, SenderID: from, ClientID: clientID, Text: "hi"})
	}
	first, err := send(a, newUUID(t))
	if err != nil || !first.Created || first.Message.Seq != 1 {
		t.Fatalf("first send: %+v, %v", first, err)
	}
	if _, err := send(outsider.ID, newUUID(t)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("outsider's send: %v, want not found", err)
	}
	if err := db.Block(ctx, b, a); err != nil {
		t.Fatal(err)
	}
	if _, err := send(a, newUUID(t)); market.ErrorCode(err) != market.CodeForbidden {
		t.Fatalf("send to a blocker: %v, want forbidden", err)
	}
	if _, err := send(b, newUUID(t)); market.ErrorCode(err) != market.CodeForbidden {
		t.Fatalf("send from a blocker: %v, want forbidden", err)
	}
	if err := db.Unblock(ctx, b, a); err != nil {
		t.Fatal(err)
	}
	retry, err := send(a, first.Message.ClientID)
	if err != nil || retry.Created || retry.Message.ID != first.Message.ID || len(retry.Events) != 0 {
		t.Fatalf("retry: %+v, %v; want the first message, not created, no events", retry, err)
	}
	second, err := send(b, newUUID(t))
	if err != nil || second.Message.Seq != 2 {
		t.Fatalf("second send: seq %d, %v; want 2 (refused sends took none)", second.Message.Seq, err)
	}
	if len(second.Events) != 2 || second.Events[1].Type != "unread" || len(second.Recipients) != 1 || second.Recipients[0].UserID != a {
		t.Fatalf("second send's events %+v, recipients %+v", second.Events, second.Recipients)
	}
	history, err := db.History(ctx, market.ConversationChannel(conv.ID), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 2 {
		t.Fatalf("%d events on the conversation, want 2", len(history))
	}
	for i, ev := range history {
		var stored, published market.Message
		if err := json.Unmarshal(ev.Data, &stored); err != nil {
			t.Fatal(err)
		}
		sent := []market.SentMessage{first, second}[i]
		if err := json.Unmarshal(sent.Events[0].Data, &published); err != nil {
			t.Fatal(err)
		}
		if ev.Seq != uint64(i+1) || stored.Seq != ev.Seq || stored.ID != sent.Message.ID || published.Seq != ev.Seq ||
			!stored.CreatedAt.Equal(published.CreatedAt) || stored.Text != published.Text {
			t.Fatalf("event %d: seq %d, stored %+v, published %+v", i, ev.Seq, stored, published)
		}
	}
	msgs, err := db.Messages(ctx, conv.ID, a, 0, 10)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("messages: %d, %v; want 2", len(msgs), err)
	}
}
