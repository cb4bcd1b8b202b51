package e2e

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// metricRef finds the node's own metric names in PromQL (recording rules, named
// gigstream:…, are not metrics a node exports and do not match).
var metricRef = regexp.MustCompile(`\b(?:gigstream|go|process)_[a-z0-9_]+\b`)

// TestDashboardAndAlertsUseExportedMetrics checks that every metric name the Grafana
// dashboard and the Prometheus rules in deploy/ use is one a running node exports. The
// node first serves a request, a socket with a recovered subscription and a close, so the
// families that appear only once used (by route, by close code) are in its exposition.
func TestDashboardAndAlertsUseExportedMetrics(t *testing.T) {
	n := startCluster(t, 1, realtimeEnv(nil))[0]
	id, token := appUser(t, n, "metrics")
	sock := mustDial(t, n, token)
	since := uint64(0)
	sock.subscribe("user:"+id, &since)
	publish(t, n, "user:"+id, 1, true)
	sock.events("user:"+id, 1, 10*time.Second)
	_ = sock.conn.Close()

	var exported map[string]bool
	deadline := time.Now().Add(10 * time.Second)
	for {
		exported = scrapeNames(t, n.URL+"/metrics")
		if exported["gigstream_hub_disconnects_total"] || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, file := range []string{"../deploy/grafana/gigstream.json", "../deploy/prometheus/gigstream-rules.yaml", "../deploy/prometheus/gigstream-rules.test.yaml"} {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		used := map[string]bool{}
		for _, name := range metricRef.FindAllString(string(raw), -1) {
			used[name] = true
		}
		if len(used) < 5 {
			t.Errorf("%s uses only %d metric names; the pattern no longer finds them", file, len(used))
		}
		for _, name := range sortedKeys(used) {
			if !exported[name] {
				t.Errorf("%s uses %s, which the node does not export", file, name)
			}
		}
	}
}

// scrapeNames returns the sample names of a Prometheus text exposition (a histogram
// shows as its _bucket, _sum and _count).
func scrapeNames(t *testing.T, url string) map[string]bool {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, body)
	}
	names := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	return names
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
