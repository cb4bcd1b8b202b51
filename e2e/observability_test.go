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

	"github.com/google/uuid"
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

// TestMoneyAndUploadMetrics: /metrics counts webhooks by provider and outcome and the
// payments they settled, upload verdicts, and exports the ledger check's drift gauges
// (zero on a sound ledger) with the time of the last check.
func TestMoneyAndUploadMetrics(t *testing.T) {
	o := startOrderNode(t, nil, true)
	r, ord := o.placeOrder(t, uuid.NewString())
	expect(t, r, 201, "place order")
	body := paymentWebhook("evt_"+uuid.NewString(), "payment_intent.succeeded", ord, o.price, o.currency)
	for range 2 { // the second delivery is a duplicate
		expect(t, o.sendWebhook(t, body, stripeSignature(body, webhookSecret, time.Now())), 200, "payment webhook")
	}
	expect(t, o.sendWebhook(t, body, stripeSignature(body, "whsec_forged", time.Now())), 400, "forged webhook")
	expect(t, uploadRaw(t, o.n, o.seller, "kind=deliverable&order_id="+ord.ID+"&filename=ok.bin", randomBytes(t, 4096)), 201, "clean upload")
	expect(t, uploadRaw(t, o.n, o.seller, "kind=deliverable&order_id="+ord.ID+"&filename=bad.com", eicar()), 422, "infected upload")

	_, raw := get(t, o.n.URL+"/metrics")
	want := map[string]float64{
		`gigstream_webhooks_total{outcome="applied",provider="stripe"}`:       1,
		`gigstream_webhooks_total{outcome="duplicate",provider="stripe"}`:     1,
		`gigstream_webhooks_total{outcome="bad_signature",provider="stripe"}`: 1,
		`gigstream_webhooks_total{outcome="error",provider="stripe"}`:         0,
		`gigstream_payments_total{outcome="succeeded",provider="stripe"}`:     1,
		`gigstream_payments_total{outcome="failed",provider="stripe"}`:        0,
		`gigstream_upload_verdicts_total{verdict="clean"}`:                    1,
		`gigstream_upload_verdicts_total{verdict="rejected"}`:                 1,
		`gigstream_upload_verdicts_total{verdict="error"}`:                    0,
		`gigstream_ledger_unbalanced_currencies`:                              0,
		`gigstream_ledger_overdrawn_accounts`:                                 0,
		`gigstream_ledger_mismatched_balances`:                                0,
	}
	for series, w := range want {
		if v, found := metricValue(string(raw), series); !found || v != w {
			t.Errorf("%s = %v (found %v), want %v", series, v, found, w)
		}
	}
	if v, _ := metricValue(string(raw), "gigstream_ledger_check_last_success_timestamp_seconds"); time.Since(time.Unix(int64(v), 0)) > 5*time.Minute {
		t.Errorf("the ledger check last succeeded at %v: it did not run at start", v)
	}
}
