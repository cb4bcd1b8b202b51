package store

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/gigstream/hub/market"
)

// BenchmarkHistoryStorm is a reconnect storm's recovery reads without the hub: 2,000
// channels (bench-hub's s5), a fifth of them without events and the rest with two,
// read since 0 or since their head. "one" asks History per channel, 16 at a time
// (the hub's RecoveryConcurrency); "many" asks HistoryMany in calls of 256 (the hub's
// batch cap), 16 at a time. ns/op is the time to answer all 2,000 reads.
func BenchmarkHistoryStorm(b *testing.B) {
	ctx := context.Background()
	db := openMigrated(b, Config{})
	reads := make([]market.HistoryRead, 2000)
	for i := range reads {
		reads[i].Channel = "user:" + uuid.NewString()
		if i%5 == 0 {
			continue // no event yet: since 0
		}
		for range 2 {
			if _, err := db.AppendEvent(ctx, reads[i].Channel, "bench", []byte(`{}`)); err != nil {
				b.Fatal(err)
			}
		}
		reads[i].Since = uint64(2 * (i % 2)) // half everything, half nothing missed
	}
	b.Run("one", func(b *testing.B) {
		for b.Loop() {
			inParallel(b, 16, len(reads), 1, func(lo, _ int) error {
				_, err := db.History(ctx, reads[lo].Channel, reads[lo].Since, 500)
				return err
			})
		}
	})
	b.Run("many", func(b *testing.B) {
		for b.Loop() {
			inParallel(b, 16, len(reads), 256, func(lo, hi int) error {
				_, err := db.HistoryMany(ctx, reads[lo:hi], 500)
				return err
			})
		}
	})
}

// inParallel calls f on the ranges [lo, hi) of n items, size at a time, workers at once.
func inParallel(b *testing.B, workers, n, size int, f func(lo, hi int) error) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for lo := range next {
				if err := f(lo, min(lo+size, n)); err != nil {
					b.Error(fmt.Errorf("read %d: %w", lo, err))
				}
			}
		})
	}
	for lo := 0; lo < n; lo += size {
		next <- lo
	}
	close(next)
	wg.Wait()
}
