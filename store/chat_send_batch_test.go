package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/gigstream/hub/market"
)

// batchWorld is a migrated database with users u[0..n) and a direct conversation
// between u[0] and each other user (conv[i] with u[i], i ≥ 1).
func batchWorld(t *testing.T, n int) (*DB, []string, []string) {
	t.Helper()
	ctx := context.Background()
	db := openMigrated(t, Config{})
	users := make([]string, n)
	for i := range users {
		u, err := db.CreateUser(ctx, market.NewUser{Email: fmt.Sprintf("b%d@x.test", i),
			Username: fmt.Sprintf("batch_%d", i), DisplayName: "B", IsBuyer: true})
		if err != nil {
			t.Fatal(err)
		}
		users[i] = u.ID
	}
	convs := make([]string, n)
	for i := 1; i < n; i++ {
		c, _, err := db.OpenDirectConversation(ctx, users[0], users[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		convs[i] = c.ID
	}
	return db, users, convs
}

func pending(ctx context.Context, conv, sender, clientID string) *pendingSend {
	return &pendingSend{ctx: ctx, in: market.NewMessage{ConversationID: conv, SenderID: sender, ClientID: clientID, Text: "hi " + sender},
		done: make(chan sendResult, 1)}
}

// A batch statement writes each send as if they had run one after another in the
// batch's order: one message and seq per conversation, and a recipient of several
// sends gets as many unread events with consecutive seqs on their user channel, each
// with the count and total it would have had, equal to what History returns.
func TestSendBatchWritesEachSendAsIfAlone(t *testing.T) {
	ctx := context.Background()
	db, u, conv := batchWorld(t, 4)
	// Two earlier messages from u[0] leave u[1] 2 unread, which u[1]'s send clears.
	for range 2 {
		if _, err := db.SendMessage(ctx, market.NewMessage{ConversationID: conv[1], SenderID: u[0], ClientID: uuid.NewString(), Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	batch := []*pendingSend{
		pending(ctx, conv[1], u[1], uuid.NewString()),
		pending(ctx, conv[2], u[2], uuid.NewString()),
		pending(ctx, conv[3], u[3], uuid.NewString()),
	}
	outs, err := db.sendMany(batch)
	if err != nil {
		t.Fatal(err)
	}
	wantSeq := []uint64{3, 1, 1}
	var u0Events []market.Event
	for i, r := range outs {
		if r.err != nil {
			t.Fatalf("send %d: %v", i, r.err)
		}
		if !r.out.Created || r.out.Message.Seq != wantSeq[i] || len(r.out.Recipients) != 1 || r.out.Recipients[0].UserID != u[0] {
			t.Fatalf("send %d: %+v", i, r.out)
		}
		if len(r.out.Events) != 2 || r.out.Events[0].Type != "message.created" || r.out.Events[1].Type != "unread" {
			t.Fatalf("send %d events: %+v", i, r.out.Events)
		}
		var stored market.Message
		if err := json.Unmarshal(r.out.Events[0].Data, &stored); err != nil || stored.Seq != wantSeq[i] || stored.ID != r.out.Message.ID {
			t.Fatalf("send %d message.created data %s (%v)", i, r.out.Events[0].Data, err)
		}
		u0Events = append(u0Events, r.out.Events[1])
	}
	history, err := db.History(ctx, market.UserChannel(u[0]), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 3 {
		t.Fatalf("u0's channel has %d events, want 3: %+v", len(history), history)
	}
	for i, ev := range u0Events {
		var d struct {
			Total          int    `json:"total"`
			Count          int    `json:"count"`
			ConversationID string `json:"conversation_id"`
		}
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		if ev.Seq != uint64(i+1) || d.Total != i+1 || d.Count != 1 || d.ConversationID != conv[i+1] {
			t.Errorf("u0's unread event %d: seq %d %+v, want seq %d total %d count 1", i, ev.Seq, d, i+1, i+1)
		}
		if h := history[i]; h.Seq != ev.Seq || string(h.Data) != string(ev.Data) {
			t.Errorf("u0's stored event %d: %d %s, returned %d %s", i, h.Seq, h.Data, ev.Seq, ev.Data)
		}
	}
	var totals []struct {
		UserID string `db:"user_id"`
		Total  int    `db:"total"`
	}
	if err := db.x.SelectContext(ctx, &totals, `SELECT user_id, total FROM unread_totals ORDER BY user_id`); err != nil {
		t.Fatal(err)
	}
	for _, tt := range totals {
		want := 0
		if tt.UserID == u[0] {
			want = 3
		}
		if tt.Total != want {
			t.Errorf("unread total of %s: %d, want %d", tt.UserID, tt.Total, want)
		}
	}
}

// One failing send does not lose or half-write another: refused sends (not a member,
// a used client id) are answered as alone while the others in the statement are
// stored; a send that makes the whole statement fail (a malformed client id) has the
// others run again one by one, each stored once.
func TestFailingSendInABatchLeavesTheOthers(t *testing.T) {
	ctx := context.Background()
	db, u, conv := batchWorld(t, 5)
	used := uuid.NewString()
	if _, err := db.SendMessage(ctx, market.NewMessage{ConversationID: conv[4], SenderID: u[4], ClientID: used, Text: "first"}); err != nil {
		t.Fatal(err)
	}
	batch := []*pendingSend{
		pending(ctx, conv[1], u[1], uuid.NewString()),
		pending(ctx, conv[2], u[3], uuid.NewString()), // u[3] is not in conv[2]
		pending(ctx, conv[4], u[4], used),
	}
	outs, err := db.sendMany(batch)
	if err != nil {
		t.Fatal(err)
	}
	if outs[0].err != nil || outs[0].out.Message.Seq != 1 {
		t.Errorf("good send: %+v %v", outs[0].out, outs[0].err)
	}
	if !errors.Is(outs[1].err, ErrNotFound) {
		t.Errorf("non-member's send: %v, want not found", outs[1].err)
	}
	if !errors.Is(outs[2].err, errRetry) {
		t.Errorf("used client id: %v, want a retry", outs[2].err)
	}

	batch = []*pendingSend{
		pending(ctx, conv[2], u[2], uuid.NewString()),
		pending(ctx, conv[3], u[3], "not-a-uuid"),
		pending(ctx, conv[1], u[0], uuid.NewString()),
	}
	if _, err := db.sendMany(batch); err == nil {
		t.Fatal("a malformed client id did not fail the batch statement")
	}
	db.sendBatch(batch)
	for i, p := range batch {
		r := <-p.done
		if (r.err != nil) != (i == 1) {
			t.Errorf("send %d after the failed statement: %v", i, r.err)
		}
	}
	var counts []int
	if err := db.x.SelectContext(ctx, &counts, `SELECT count(*) FROM messages GROUP BY conversation_id ORDER BY count(*)`); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(counts) != "[1 1 2]" { // conv[2], conv[4]: one; conv[1]: two; conv[3]: none
		t.Errorf("messages per conversation: %v, want [1 1 2]", counts)
	}
	var seqs []uint64
	if err := db.x.SelectContext(ctx, &seqs, `SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq`, conv[1]); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seqs) != "[1 2]" {
		t.Errorf("conv[1] seqs %v, want [1 2]", seqs)
	}
}

// A send whose context ended before its batch was taken is answered with the
// context's error and writes nothing.
func TestQueuedSendRespectsItsContext(t *testing.T) {
	db, u, conv := batchWorld(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := db.SendMessage(ctx, market.NewMessage{ConversationID: conv[1], SenderID: u[1], ClientID: uuid.NewString(), Text: "late"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("send with a cancelled context: %v, want context.Canceled", err)
	}
	var n int
	if err := db.x.GetContext(context.Background(), &n, `SELECT count(*) FROM messages`); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d messages stored by a cancelled send", n)
	}
}

// The queue never puts two sends into one conversation in a batch, keeps arrival
// order, and caps a batch at sendBatchMax.
func TestSendQueueTakesOnePerConversation(t *testing.T) {
	ctx := context.Background()
	b := &sendBatcher{running: 1}
	for i := range sendBatchMax + 3 {
		conv := fmt.Sprint("c", i)
		if i < 3 {
			conv = "same"
		}
		b.queue = append(b.queue, pending(ctx, conv, "s", fmt.Sprint(i)))
	}
	first := b.take(nil)
	if len(first) != sendBatchMax || first[0].in.ClientID != "0" || first[1].in.ClientID != "3" {
		t.Fatalf("first batch: %d sends, starting %s, %s", len(first), first[0].in.ClientID, first[1].in.ClientID)
	}
	second := b.take(first)
	if len(second) != 2 || second[0].in.ClientID != "1" || second[1].in.ClientID != fmt.Sprint(sendBatchMax+2) {
		t.Fatalf("second batch: %d sends", len(second))
	}
	if third := b.take(second); len(third) != 1 || third[0].in.ClientID != "2" {
		t.Fatalf("third batch: %d sends", len(third))
	}
	if rest := b.take(nil); len(rest) != 0 || b.running != 0 {
		t.Fatalf("empty queue gave %d sends, %d running", len(rest), b.running)
	}
}

// A send that finds no batch running starts one; while one runs, sends wait for its
// next batch, and another batch starts only once a full batch waits, up to
// sendBatchWorkers at once.
func TestSendQueueStartsAnotherBatchOnlyForAFullOne(t *testing.T) {
	ctx := context.Background()
	b := &sendBatcher{}
	if !b.enqueue(pending(ctx, "c", "s", "first")) || b.running != 1 {
		t.Fatalf("the first send started no batch (%d running)", b.running)
	}
	b.take(nil) // the running goroutine takes it
	for i := range sendBatchMax - 1 {
		if b.enqueue(pending(ctx, fmt.Sprint("c", i), "s", fmt.Sprint(i))) {
			t.Fatalf("send %d of a batch short of full started another batch", i)
		}
	}
	if !b.enqueue(pending(ctx, "full", "s", "full")) || b.running != 2 {
		t.Fatalf("a full batch waiting started no second batch (%d running)", b.running)
	}
	for b.running < sendBatchWorkers {
		b.enqueue(pending(ctx, "more", "s", "more"))
	}
	for i := range 2 * sendBatchMax {
		if b.enqueue(pending(ctx, fmt.Sprint("d", i), "s", fmt.Sprint("d", i))) {
			t.Fatalf("a batch started beyond sendBatchWorkers (%d running)", b.running)
		}
	}
}

// While a batch runs, another goroutine's batch takes no send of its conversations:
// the later send waits for the earlier one's commit (else the later batch could take
// the conversation's seq first), and is taken once that batch is done.
func TestSendQueueLeavesRunningConversations(t *testing.T) {
	ctx := context.Background()
	b := &sendBatcher{running: 2}
	b.queue = append(b.queue, pending(ctx, "x", "s", "x1"), pending(ctx, "y", "s", "y1"))
	first := b.take(nil)
	if len(first) != 2 {
		t.Fatalf("first batch: %d sends, want 2", len(first))
	}
	b.queue = append(b.queue, pending(ctx, "x", "s", "x2"), pending(ctx, "z", "s", "z1"))
	second := b.take(nil) // another goroutine, while first runs
	if len(second) != 1 || second[0].in.ClientID != "z1" {
		t.Fatalf("batch taken while x's first send runs: %v, want only z1", clientIDs(second))
	}
	third := b.take(first)
	if len(third) != 1 || third[0].in.ClientID != "x2" {
		t.Fatalf("batch taken once x's first send is done: %v, want x2", clientIDs(third))
	}
}

func clientIDs(batch []*pendingSend) []string {
	var ids []string
	for _, p := range batch {
		ids = append(ids, p.in.ClientID)
	}
	return ids
}
