package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gigstream/hub/market"
)

// TestHistoryOfAFreshChannelIsNeverGoneWhileItsFirstEventCommits: readers ask for a
// brand-new channel's history since 0 while its first event is being committed. Every
// answer must be either nothing yet or the event; "gone" would make a client reload
// for nothing, since retention has deleted nothing.
func TestHistoryOfAFreshChannelIsNeverGoneWhileItsFirstEventCommits(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	for round := range 150 {
		channel := fmt.Sprintf("user:%s", newUUID(t))
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := db.AppendEvent(ctx, channel, "probe", []byte(`{}`)); err != nil {
				t.Error(err)
			}
		}()
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for {
					events, err := db.History(ctx, channel, 0, 10)
					if errors.Is(err, market.ErrHistoryGone) {
						t.Errorf("round %d: history of a fresh channel reported gone", round)
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					if len(events) == 1 && events[0].Seq == 1 {
						return
					}
					if len(events) != 0 {
						t.Errorf("round %d: history = %+v", round, events)
						return
					}
				}
			}()
		}
		close(start)
		wg.Wait()
		if t.Failed() {
			return
		}
	}
}

// TestHistoryManyAnswersEachReadAsHistoryDoes: one HistoryMany call over a fresh
// channel, a channel read from several points with a page limit, and a channel whose
// first events retention deleted gives, read by read, what History gives: the same
// events, and gone exactly where History says gone.
func TestHistoryManyAnswersEachReadAsHistoryDoes(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	appendN := func(channel string, n int) {
		for range n {
			if _, err := db.AppendEvent(ctx, channel, "probe", []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
		}
	}
	pruned, busy, fresh := "user:"+newUUID(t), "conversation:"+newUUID(t), "order:"+newUUID(t)
	appendN(pruned, 3)
	if _, err := db.PruneEvents(ctx, 0); err != nil {
		t.Fatal(err)
	}
	appendN(pruned, 2) // seqs 4 and 5 kept, 1-3 gone
	appendN(busy, 7)
	reads := []market.HistoryRead{
		{Channel: fresh, Since: 0}, {Channel: busy, Since: 0}, {Channel: busy, Since: 2},
		{Channel: busy, Since: 6}, {Channel: busy, Since: 7}, {Channel: busy, Since: 9},
		{Channel: pruned, Since: 0}, {Channel: pruned, Since: 2}, {Channel: pruned, Since: 3},
		{Channel: pruned, Since: 5},
	}
	const limit = 3
	pages, err := db.HistoryMany(ctx, reads, limit)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != len(reads) {
		t.Fatalf("%d pages for %d reads", len(pages), len(reads))
	}
	gone := 0
	for i, r := range reads {
		want, wantErr := db.History(ctx, r.Channel, r.Since, limit)
		got := pages[i]
		if errors.Is(got.Err, market.ErrHistoryGone) != errors.Is(wantErr, market.ErrHistoryGone) ||
			(got.Err == nil) != (wantErr == nil) {
			t.Errorf("read %+v: err %v, History says %v", r, got.Err, wantErr)
			continue
		}
		if errors.Is(got.Err, market.ErrHistoryGone) {
			gone++
		}
		if fmt.Sprint(seqsOf(got.Events)) != fmt.Sprint(seqsOf(want)) {
			t.Errorf("read %+v: seqs %v, History says %v", r, seqsOf(got.Events), seqsOf(want))
		}
		for _, ev := range got.Events {
			if ev.Channel != r.Channel || ev.Type != "probe" || string(ev.Data) != `{}` {
				t.Errorf("read %+v: event %+v", r, ev)
			}
		}
	}
	if gone != 2 { // pruned since 0 and since 2
		t.Errorf("%d reads gone, want 2", gone)
	}
}

func seqsOf(events []market.Event) []uint64 {
	out := make([]uint64, len(events))
	for i, ev := range events {
		out[i] = ev.Seq
	}
	return out
}
