package e2e

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

var slowCounter = regexp.MustCompile(`(?m)^gigstream_hub_slow_consumer_disconnects_total (\d+)`)

func TestSlowConsumerIsCutWhileOthersGetEverything(t *testing.T) {
	n := startCluster(t, 1, realtimeEnv(map[string]string{"WS_SEND_QUEUE_BYTES": "262144"}))[0]
	id, token := appUser(t, n, "slow")
	channel := "user:" + id

	// A client that subscribes and then stops reading.
	url := "ws" + strings.TrimPrefix(n.URL, "http") + "/ws"
	stalled, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	if err := stalled.WriteJSON(map[string]any{"op": "subscribe", "id": 1, "channel": channel}); err != nil {
		t.Fatal(err)
	}
	healthy := mustDial(t, n, token)
	healthy.subscribe(channel, nil)

	const events = 1500
	big := strings.Repeat("x", 8<<10)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= events; i++ {
			publishData(t, n, channel, map[string]any{"i": i, "pad": big})
		}
	}()
	got := healthy.events(channel, events, 60*time.Second)
	wg.Wait()
	for i, ev := range got {
		if !strings.Contains(string(ev.Data), `"i":`+strconv.Itoa(i+1)+`,`) {
			t.Fatalf("healthy client: event %d out of order: %.40s", i+1, ev.Data)
		}
	}
	_, metrics := get(t, n.URL+"/metrics")
	m := slowCounter.FindSubmatch(metrics)
	if m == nil || string(m[1]) == "0" {
		t.Fatalf("no slow-consumer disconnect counted: %s", m)
	}
	// The stalled socket is really closed: once its buffers drain, reading ends.
	_ = stalled.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		if _, _, err := stalled.ReadMessage(); err != nil {
			if ce, ok := err.(*websocket.CloseError); ok && ce.Code != 4000 && ce.Code != websocket.CloseAbnormalClosure {
				t.Fatalf("stalled client closed with %d, want 4000 or a cut connection", ce.Code)
			}
			if strings.Contains(err.Error(), "timeout") {
				t.Fatal("the stalled client's connection was never closed")
			}
			break
		}
	}
}

func TestShutdownTellsClientsToReconnectElsewhere(t *testing.T) {
	n := startCluster(t, 1, realtimeEnv(nil))[0]
	_, token := appUser(t, n, "drain")
	s := mustDial(t, n, token)
	if err := n.Stop(t); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if code := s.closeCode(10 * time.Second); code != 1001 {
		t.Fatalf("close code on shutdown %d, want 1001 (going away: reconnect)", code)
	}
}
