//go:build drill

package e2e

import (
	"bufio"
	"context"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// soakSample is one scrape of one node's /metrics.
type soakSample struct {
	rss, heap, goroutines, sockets, fds float64
}

func scrapeSample(url string) (soakSample, error) {
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		return soakSample{}, err
	}
	defer resp.Body.Close()
	var s soakSample
	fields := map[string]*float64{
		"process_resident_memory_bytes": &s.rss, "go_memstats_heap_inuse_bytes": &s.heap,
		"go_goroutines": &s.goroutines, "gigstream_hub_connections": &s.sockets, "process_open_fds": &s.fds,
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if p, known := fields[name]; ok && known {
			*p, _ = strconv.ParseFloat(value, 64)
		}
	}
	return s, sc.Err()
}

// median of a few samples' field, to keep one GC cycle from deciding a figure.
func median(samples []soakSample, field func(soakSample) float64) float64 {
	v := make([]float64, len(samples))
	for i, s := range samples {
		v[i] = field(s)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// churn opens a socket, subscribes to the user's own channel and closes it, again and
// again: connection churn on top of the long-lived sockets.
func (l *mixedLoad) churn(ctx context.Context, token, channel string) {
	url := "ws" + strings.TrimPrefix(l.base, "http") + "/ws"
	for ctx.Err() == nil {
		conn, _, err := websocket.DefaultDialer.DialContext(ctx, url, http.Header{"Authorization": {"Bearer " + token}})
		if err == nil {
			l.stats.socketOpens.Add(1)
			_ = conn.WriteJSON(map[string]any{"op": "subscribe", "id": 1, "channel": channel})
			var f frame
			for i := 0; i < 2 && conn.ReadJSON(&f) == nil; i++ { // hello, then the reply
			}
			_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"))
			conn.Close()
		}
		sleepCtx(ctx, time.Duration(100+rand.IntN(200))*time.Millisecond)
	}
}

// TestSoak runs the mixed load through HAProxy across three nodes for SOAK_DURATION
// (default 30m; `make soak`), sampling each node every 15 s, and checks the targets of
// docs/operations.md: resident memory grows less than 5 % from the end of the warm-up
// (the first tenth, at least 1 minute) to the end; goroutines return to where they
// were before the load once it stops (no leak); at most 0.025 % of answers are 5xx; no
// request fails beyond the clients' retries and nothing is lost (as the rolling drill).
// Memory is compared as medians of the first and the last third of the samples.
func TestSoak(t *testing.T) {
	if os.Getenv("SOAK_DURATION") == "" {
		t.Fatal("SOAK_DURATION is not set: run the soak with `make soak` (default 30m)")
	}
	duration, err := time.ParseDuration(os.Getenv("SOAK_DURATION"))
	if err != nil || duration < 2*time.Minute {
		t.Fatalf("SOAK_DURATION %q: want a duration of at least 2m", os.Getenv("SOAK_DURATION"))
	}
	warmup := max(duration/10, time.Minute)
	o := startOrderNode(t, map[string]string{"RATE_LIMIT_USER_PER_MINUTE": "1000000", "RATE_LIMIT_MESSAGES_PER_MINUTE": "1000000"}, true)
	b := startBalancedCluster(t, o, 3)
	nodes := []*Node{b.nodes[0], b.nodes[1], b.nodes[2]}
	idle := make([]soakSample, len(nodes))
	for i, n := range nodes {
		if idle[i], err = scrapeSample(n.URL); err != nil {
			t.Fatal(err)
		}
	}
	l, stopLoad := startLoad(t, o, b.url, 1)
	churnCtx, stopChurn := context.WithCancel(context.Background())
	var churners sync.WaitGroup
	for i := 0; i < 2; i++ {
		id, token := appUser(t, o.n, "churner")
		churners.Add(1)
		go func() { defer churners.Done(); l.churn(churnCtx, token, "user:"+id) }()
	}

	samples := make([][]soakSample, len(nodes)) // per node, from the end of the warm-up
	start := time.Now()
	tick := time.NewTicker(15 * time.Second)
	for time.Since(start) < duration {
		<-tick.C
		if time.Since(start) < warmup {
			continue
		}
		for i, n := range nodes {
			s, err := scrapeSample(n.URL)
			if err != nil {
				t.Fatalf("scrape %s: %v", n.URL, err)
			}
			samples[i] = append(samples[i], s)
		}
	}
	tick.Stop()
	stopChurn()
	churners.Wait()
	stopLoad()
	time.Sleep(10 * time.Second) // sockets closed, jobs idle, timers fired

	r := l.report()
	t.Logf("soak of %s (warm-up %s) across 3 nodes: %d requests (%.0f/s), %d retried, %d failed, %d answered 5xx (%.4f%%)",
		duration, warmup, r.Requests, float64(r.Requests)/duration.Seconds(), r.Retries, r.Failures, r.Status5xx,
		100*float64(r.Status5xx)/float64(max(r.Requests, 1)))
	t.Logf("orders %d, messages %d, uploads %d, socket opens %d (churn), reconnects %d", r.Orders, r.Messages, r.Uploads, r.SocketOpens, r.Reconnects)
	for i, n := range nodes {
		// RSS swings ±15 % between 15-second samples as the GC and the scavenger work, so
		// the ends are medians of the first and the last third after the warm-up.
		third := max(1, len(samples[i])/3)
		first, last := samples[i][:third], samples[i][len(samples[i])-third:]
		rss0, rss1 := median(first, func(s soakSample) float64 { return s.rss }), median(last, func(s soakSample) float64 { return s.rss })
		heap0, heap1 := median(first, func(s soakSample) float64 { return s.heap }), median(last, func(s soakSample) float64 { return s.heap })
		after, err := scrapeSample(n.URL)
		if err != nil {
			t.Fatal(err)
		}
		growth := 100 * (rss1 - rss0) / rss0
		series := make([]string, len(samples[i]))
		for j, s := range samples[i] {
			series[j] = strconv.FormatFloat(s.rss/1e6, 'f', 0, 64)
		}
		t.Logf("node %d: RSS every 15 s after the warm-up, MB: %s", i, strings.Join(series, " "))
		t.Logf("node %d: RSS %.1f → %.1f MB (%+.1f%%), heap in use %.1f → %.1f MB, goroutines idle %.0f / under load %.0f / after %.0f, fds after %.0f",
			i, rss0/1e6, rss1/1e6, growth, heap0/1e6, heap1/1e6, idle[i].goroutines,
			median(last, func(s soakSample) float64 { return s.goroutines }), after.goroutines, after.fds)
		if growth >= 5 {
			t.Errorf("node %d: resident memory grew %.1f%% after the warm-up (target < 5%%)", i, growth)
		}
		if after.goroutines > idle[i].goroutines+20 {
			t.Errorf("node %d: %0.f goroutines after the load, %0.f before: a leak", i, after.goroutines, idle[i].goroutines)
		}
	}
	if ratio := float64(r.Status5xx) / float64(max(r.Requests, 1)); ratio > 0.00025 {
		t.Errorf("%.4f%% of answers were 5xx (target at most 0.025%%)", 100*ratio)
	}
	l.verify(t)
}
