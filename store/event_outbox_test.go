package store_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/gigstream/hub/market"
)

// TestOutboxKeepsEventsAppendOnly: every durable event, however it is written (the
// one-statement chat send writes two, the publish API one), is unpublished until
// MarkPublished, which takes it out of the relay's reach without rewriting its row (the
// row's xmin stays the insert's), and the relay still finds the one never marked, with
// its data and trace.
func TestOutboxKeepsEventsAppendOnly(t *testing.T) {
	ctx := context.Background()
	db, url := migratedDBAt(t)
	raw, err := sql.Open("postgres", url)
	must(t, err)
	t.Cleanup(func() { _ = raw.Close() })

	a, b := twoUsers(t, db)
	conv, _, err := db.OpenDirectConversation(ctx, a, b, nil)
	must(t, err)
	sent, err := db.SendMessage(ctx, market.NewMessage{ConversationID: conv.ID, SenderID: a, ClientID: newUUID(t), Text: "hi"})
	must(t, err)
	if len(sent.Events) != 2 {
		t.Fatalf("send stored %d events, want the message and the unread event", len(sent.Events))
	}
	probe, err := db.AppendEvent(ctx, "order:"+newUUID(t), "probe", []byte(`{"n": 1}`))
	must(t, err)
	all := append(append([]market.Event{}, sent.Events...), probe)

	type key struct {
		channel string
		seq     uint64
	}
	xmins := func() map[key]string {
		t.Helper()
		out := map[key]string{}
		for _, ev := range all {
			var xmin string
			must(t, raw.QueryRow(`SELECT xmin::text FROM events WHERE channel = $1 AND seq = $2`, ev.Channel, ev.Seq).Scan(&xmin))
			out[key{ev.Channel, ev.Seq}] = xmin
		}
		return out
	}
	before := xmins()

	unpublished, err := db.Unpublished(ctx, 0, 100)
	must(t, err)
	if len(unpublished) != len(all) {
		t.Fatalf("%d unpublished events before any mark, want %d: %+v", len(unpublished), len(all), unpublished)
	}
	must(t, db.MarkPublished(ctx, sent.Events))
	unpublished, err = db.Unpublished(ctx, 0, 100)
	must(t, err)
	if len(unpublished) != 1 || unpublished[0].Channel != probe.Channel || unpublished[0].Seq != probe.Seq ||
		string(unpublished[0].Data) != `{"n": 1}` || unpublished[0].Type != "probe" {
		t.Fatalf("unpublished after marking the send's events: %+v, want only %+v", unpublished, probe)
	}
	must(t, db.MarkPublished(ctx, []market.Event{probe}))
	if unpublished, err = db.Unpublished(ctx, 0, 100); err != nil || len(unpublished) != 0 {
		t.Fatalf("unpublished after marking all: %+v, %v", unpublished, err)
	}
	for k, x := range xmins() {
		if before[k] != x {
			t.Errorf("event %s/%d rewritten when marked published (xmin %s, then %s)", k.channel, k.seq, before[k], x)
		}
	}
	history, err := db.History(ctx, market.ConversationChannel(conv.ID), 0, 10)
	if err != nil || len(history) != 1 || history[0].Seq != sent.Message.Seq {
		t.Fatalf("history after marking: %+v, %v", history, err)
	}
}
