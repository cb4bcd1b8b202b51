package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gigstream/hub/market"
)

// BenchmarkSendMessage is durable chat's write without the HTTP and hub layers: 16
// senders at once (8 × GOMAXPROCS on 2 cores) into 100 two-member conversations,
// the shape of bench-hub's c5-chat. ns/op is the machine's throughput (its inverse);
// besides it the benchmark reports msgs/s and the send call's p50 and p99 in ms.
func BenchmarkSendMessage(b *testing.B) {
	ctx := context.Background()
	db := openMigrated(b, Config{})
	const conversations = 100
	type pair struct{ conv, from, to string }
	pairs := make([]pair, conversations)
	for i := range pairs {
		var ids [2]string
		for j := range ids {
			u, err := db.CreateUser(ctx, market.NewUser{Email: fmt.Sprintf("s%d.%d@x.test", i, j),
				Username: fmt.Sprintf("send_%d_%d", i, j), DisplayName: "S", IsBuyer: true})
			if err != nil {
				b.Fatal(err)
			}
			ids[j] = u.ID
		}
		c, _, err := db.OpenDirectConversation(ctx, ids[0], ids[1], nil)
		if err != nil {
			b.Fatal(err)
		}
		pairs[i] = pair{c.ID, ids[0], ids[1]}
	}
	var next atomic.Int64
	var mu sync.Mutex
	var took []time.Duration
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		defer func() {
			mu.Lock()
			took = append(took, mine...)
			mu.Unlock()
		}()
		for pb.Next() {
			i := next.Add(1)
			p := pairs[i%conversations]
			from := p.from
			if i/conversations%2 == 1 {
				from = p.to
			}
			t0 := time.Now()
			if _, err := db.SendMessage(ctx, market.NewMessage{ConversationID: p.conv, SenderID: from,
				ClientID: uuid.NewString(), Text: "hello there"}); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	reportLatencies(b, took, elapsed)
}

// reportLatencies adds msgs/s and the p50 and p99 of took (in ms) to a benchmark's
// result.
func reportLatencies(b *testing.B, took []time.Duration, elapsed time.Duration) {
	if len(took) == 0 || elapsed <= 0 {
		return
	}
	slices.Sort(took)
	at := func(q float64) float64 {
		return float64(took[int(q*float64(len(took)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(len(took))/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(at(0.50), "p50_ms")
	b.ReportMetric(at(0.99), "p99_ms")
}
