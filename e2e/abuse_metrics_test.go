package e2e

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// metricsCall is one request of the mixed load: the route pattern it hits is what the
// node must label it with.
type metricsCall struct{ method, path, route string }

var metricsLoad = []metricsCall{
	{http.MethodGet, "/gigs", "/gigs"},
	{http.MethodGet, "/categories", "/categories"},
	{http.MethodPost, "/auth/login", "/auth/login"},
	{http.MethodPut, "/me/notifications", "/me/notifications"},
	{http.MethodDelete, "/me/sessions/00000000-0000-0000-0000-000000000000", "/me/sessions/:id"},
	{http.MethodDelete, "/gigs/00000000-0000-0000-0000-000000000000", "/gigs/:id"},
	{http.MethodPost, "/conversations", "/conversations"},
	{http.MethodGet, "/healthz", "/healthz"},
}

var requestsLine = regexp.MustCompile(`^gigstream_http_requests_total\{method="([^"]*)",route="([^"]*)",status="(\d+)"\} `)

// TestMetricsSurviveConcurrentMixedTraffic: eight clients send a few hundred mixed
// GET/POST/PUT/DELETE requests at once; /metrics then still answers 200 and every
// request counter is labelled with the method and route pattern that were really used.
// (Label strings once shared request buffers that the server reuses: a POST route was
// counted as "DELE" and the registry refused to expose duplicate series.)
func TestMetricsSurviveConcurrentMixedTraffic(t *testing.T) {
	n := startCluster(t, 1, withGenerous(nil))[0]
	want := map[string]bool{}
	for _, c := range metricsLoad {
		want[c.method+" "+c.route] = true
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{}
			for i := range 300 {
				c := metricsLoad[(w+i)%len(metricsLoad)]
				req, _ := http.NewRequest(c.method, n.URL+c.path, strings.NewReader(`{"x":1}`))
				req.Header.Set("Content-Type", "application/json")
				resp, err := hc.Do(req)
				if err != nil {
					t.Errorf("%s %s: %v", c.method, c.path, err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	for range 3 { // a scrape must keep working, not only the first one
		resp, body := get(t, n.URL+"/metrics")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/metrics after concurrent traffic = %d: %s", resp.StatusCode, body)
		}
		seen := 0
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		for sc.Scan() {
			m := requestsLine.FindStringSubmatch(sc.Text())
			if m == nil || m[2] == "/metrics" || m[2] == "/readyz" {
				continue
			}
			if !want[m[1]+" "+m[2]] {
				t.Errorf("counter labelled with a method and route nobody sent: %s", sc.Text())
			}
			seen++
		}
		if seen == 0 {
			t.Fatalf("no request counters in /metrics:\n%s", body)
		}
	}
}
