package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/gigstream/hub/market"
)

// BenchmarkSendMessage is durable chat's write without the HTTP and hub layers: 16
// senders at once (8 × GOMAXPROCS on 2 cores) into 100 two-member conversations,
// the shape of bench-hub's c5-chat. ns/op is the machine's throughput (its inverse);
// the send's latency is ns/op × the senders in flight.
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
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			p := pairs[i%conversations]
			from := p.from
			if i/conversations%2 == 1 {
				from = p.to
			}
			if _, err := db.SendMessage(ctx, market.NewMessage{ConversationID: p.conv, SenderID: from,
				ClientID: uuid.NewString(), Text: "hello there"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
