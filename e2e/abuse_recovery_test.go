package e2e

import (
	"sync"
	"testing"
	"time"
)

// TestFreshConversationSubscribeRecoversWhileTheFirstMessageCommits: one member
// subscribes with since 0 to many brand-new conversations while the other members
// send their first messages. Nothing is ever missing, so every answer must say
// "recovered": true and every first message must arrive once.
func TestFreshConversationSubscribeRecoversWhileTheFirstMessageCommits(t *testing.T) {
	n := startCluster(t, 1, withGenerous(nil))[0]
	bID, bTok := appUser(t, n, "member")
	const rounds = 40
	convs, senders := make([]string, rounds), make([]*client, rounds)
	for i := range rounds {
		_, tok := appUser(t, n, "first")
		senders[i] = &client{t: t, base: n.URL, bearer: tok}
		var c struct{ ID string }
		expect(t, senders[i].do("POST", "/conversations", map[string]string{"participant_id": bID}), 201, "open").json(t, &c)
		convs[i] = c.ID
	}
	sock := mustDial(t, n, bTok)
	var zero uint64
	var wg sync.WaitGroup
	for i := range rounds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := senders[i].do("POST", "/conversations/"+convs[i]+"/messages", map[string]string{"client_id": newClientID(), "text": "first words"})
			if r.status != 201 {
				t.Errorf("send: %d %s", r.status, r.body)
			}
		}()
		channel := "conversation:" + convs[i]
		reply := sock.subscribe(channel, &zero)
		if reply.Op != "reply" || reply.Recovered == nil || !*reply.Recovered {
			t.Errorf("subscribe %s since 0 while its first message commits: %+v", channel, reply)
		}
	}
	wg.Wait()
	for i := range rounds {
		assertSeqs(t, "first message", sock.events("conversation:"+convs[i], 1, 10*time.Second), 1, 1)
	}
	if extra, ok := sock.take(func(f frame) bool { return f.Op == "event" }, 300*time.Millisecond); ok {
		t.Fatalf("an event arrived twice: %+v", extra)
	}
}
