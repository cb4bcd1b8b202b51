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
