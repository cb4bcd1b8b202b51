package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/gigstream/hub/store/storetest"
)

// searchLoad is a node serving a catalogue generated into a fresh database, driven by
// vegeta at offered (open-loop) rates: the harness of BenchmarkSearchHTTP and of its
// scaled-down twin in make test, TestSearchUnderOfferedLoad.
type searchLoad struct {
	node      *Node
	db        *sql.DB
	gigs      int
	generated time.Duration // GenerateCatalogue (COPY)
	ready     time.Duration // process start to /readyz 200
	indexLoad time.Duration // the node's own "search index loaded" figure
	rssKiB    int           // the node's resident memory once ready
	queries   []string      // distinct search queries, used once each
	prefixes  []string      // suggest texts
	next      int           // the next unused query
}

// newSearchLoad generates gigs published gigs from sellers sellers and starts a node
// on them with per-address budgets (all routes, and search) no benchmark reaches.
func newSearchLoad(tb testing.TB, gigs, sellers, queries int) *searchLoad {
	tb.Helper()
	return newSearchLoadEnv(tb, gigs, sellers, queries, nil)
}

// newSearchLoadEnv is newSearchLoad with more of the node's environment (PPROF_ADDR
// to profile it, for one).
func newSearchLoadEnv(tb testing.TB, gigs, sellers, queries int, more map[string]string) *searchLoad {
	tb.Helper()
	overrides := map[string]string{"RATE_LIMIT_IP_PER_MINUTE": "1000000", "RATE_LIMIT_SEARCH_PER_MINUTE": "1000000"}
	for k, v := range more {
		overrides[k] = v
	}
	env := migratedEnv(tb, overrides)
	dsn := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "DATABASE_URL="); ok {
			dsn = v
		}
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	l := &searchLoad{db: db, gigs: gigs}
	start := time.Now()
	if _, err := storetest.GenerateCatalogue(context.Background(), db, storetest.CatalogueSpec{Gigs: gigs, Sellers: sellers, Seed: 14}); err != nil {
		tb.Fatalf("generate catalogue: %v", err)
	}
	l.generated = time.Since(start)
	start = time.Now()
	l.node = StartNode(tb, bin, env)
	l.node.WaitReady(tb)
	l.ready = time.Since(start)
	l.indexLoad = l.loggedIndexLoad(tb)
	l.rssKiB = residentKiB(l.node.cmd.Process.Pid)
	l.queries = storetest.SearchQueries(14, queries)
	l.prefixes = storetest.SuggestPrefixes(14, queries)
	return l
}

// loggedIndexLoad reads how long the node took to build its index, and checks it
// holds every gig.
func (l *searchLoad) loggedIndexLoad(tb testing.TB) time.Duration {
	tb.Helper()
	for _, line := range strings.Split(l.node.Logs(), "\n") {
		var rec struct {
			Msg  string
			Gigs int
			Took time.Duration
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "search index loaded" {
			if rec.Gigs != l.gigs {
				tb.Fatalf("the index holds %d gigs, not %d", rec.Gigs, l.gigs)
			}
			return rec.Took
		}
	}
	tb.Fatalf("the node never logged its index load\n%s", l.node.Logs())
	return 0
}

// residentKiB is a process's resident memory (VmRSS), 0 when unknown.
func residentKiB(pid int) int {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	return 0
}

// The kinds of request in a mix, as the results are split.
const (
	kindSearch  = "search"  // /gigs with q and facets
	kindSuggest = "suggest" // /search/suggest
	kindProfile = "profile" // /users/{username}
)

// coldMix is n requests of the stated mix, each search with a query not asked before
// (so no result cache entry can answer it): of every ten, four plain searches with
// facets, one in USD (price buckets), one for gigs delivered within 3 days rated 4.5 or
// more, one in a top-level category sorted by rating, and three suggests.
func (l *searchLoad) coldMix(tb testing.TB, n int) []vegeta.Target {
	tb.Helper()
	rnd := rand.New(rand.NewPCG(uint64(l.next), 14))
	parents := []string{"graphics-design", "programming-tech", "video-animation", "writing-translation", "digital-marketing"}
	out := make([]vegeta.Target, 0, n)
	for i := range n {
		var path string
		switch i % 10 {
		case 0, 2, 4, 6:
			path = "/gigs?facets=true&q=" + url.QueryEscape(l.query(tb))
		case 8:
			path = "/gigs?facets=true&currency=USD&q=" + url.QueryEscape(l.query(tb))
		case 1:
			path = "/gigs?facets=true&delivery_days=3&min_rating=4.5&q=" + url.QueryEscape(l.query(tb))
		case 5:
			path = "/gigs?facets=true&sort=rating&category=" + parents[rnd.IntN(len(parents))] + "&q=" + url.QueryEscape(l.query(tb))
		default:
			path = "/search/suggest?q=" + url.QueryEscape(l.prefixes[rnd.IntN(len(l.prefixes))])
		}
		out = append(out, vegeta.Target{Method: http.MethodGet, URL: l.node.URL + path})
	}
	return out
}

// query is the next query never asked.
func (l *searchLoad) query(tb testing.TB) string {
	tb.Helper()
	if l.next == len(l.queries) {
		tb.Fatalf("all %d distinct queries are used", len(l.queries))
	}
	l.next++
	return l.queries[l.next-1]
}

// popularMix is n searches with facets drawn from the first `popular` queries, the
// first ones far more often (a Zipf law), as real traffic repeats its head.
func (l *searchLoad) popularMix(n, popular int) []vegeta.Target {
	rnd := rand.New(rand.NewPCG(7, 14))
	zipf := rand.NewZipf(rnd, 1.2, 1, uint64(popular-1))
	out := make([]vegeta.Target, n)
	seen := map[string]bool{}
	for i := range out {
		q := l.queries[len(l.queries)-1-int(zipf.Uint64())] // the tail of the list: never used cold
		out[i] = popularTarget(l.node.URL, q, i, seen[q])
		seen[q] = true
	}
	return out
}

// loadFigures are the latencies of one attack by kind, sorted, and its failures.
type loadFigures struct {
	latencies map[string][]time.Duration
	repeats   []time.Duration // of searches tagged repeat=true (popularTarget)
	failures  []string
	hits      float64 // result cache hits and misses during the attack (node metrics)
	misses    float64
	cpu       time.Duration // the node's CPU time (user and system) during the attack
	requests  int
}

// cpuPerRequest is the node's CPU time per request of the attack: unlike latency, it
// hardly moves with what else the machine runs.
func (f loadFigures) cpuPerRequest() time.Duration {
	return f.cpu / time.Duration(max(f.requests, 1))
}

// quantile is the q-quantile of kind's latencies (nearest rank), 0 without any.
func (f loadFigures) quantile(kind string, q float64) time.Duration {
	return quantile(f.latencies[kind], q)
}

// worstP99 is the highest p99 of the kinds.
func (f loadFigures) worstP99() time.Duration {
	var worst time.Duration
	for kind := range f.latencies {
		worst = max(worst, f.quantile(kind, 0.99))
	}
	return worst
}

// attack offers targets at rate requests per second, each once, in order, and checks
// every answer: a 200 whose body has what its route promises.
func (l *searchLoad) attack(tb testing.TB, rate int, targets []vegeta.Target) loadFigures {
	tb.Helper()
	hits0, misses0 := l.cacheCounts(tb)
	cpu0 := processCPU(l.node.cmd.Process.Pid)
	atk := vegeta.NewAttacker(vegeta.Timeout(30*time.Second), vegeta.KeepAlive(true), vegeta.MaxBody(1<<20))
	duration := time.Duration(len(targets)) * time.Second / time.Duration(rate)
	f := loadFigures{latencies: map[string][]time.Duration{}}
	for res := range atk.Attack(vegeta.NewStaticTargeter(targets...), vegeta.Rate{Freq: rate, Per: time.Second}, duration, "search") {
		kind := kindSearch
		if strings.Contains(res.URL, "/search/suggest") {
			kind = kindSuggest
		} else if strings.Contains(res.URL, "/users/") {
			kind = kindProfile
		}
		f.latencies[kind] = append(f.latencies[kind], res.Latency)
		f.requests++
		if strings.HasSuffix(res.URL, "&repeat=true") {
			f.repeats = append(f.repeats, res.Latency)
		}
		if problem := checkAnswer(kind, res); problem != "" && len(f.failures) < 10 {
			f.failures = append(f.failures, problem)
		}
	}
	for kind := range f.latencies {
		slices.Sort(f.latencies[kind])
	}
	f.cpu = processCPU(l.node.cmd.Process.Pid) - cpu0
	hits1, misses1 := l.cacheCounts(tb)
	f.hits, f.misses = hits1-hits0, misses1-misses0
	return f
}

// processCPU is the user and system CPU time a process has used (/proc/PID/stat, in
// clock ticks of 10 ms), 0 when unknown.
func processCPU(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name (which may hold spaces) start at state, the 3rd.
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	user, _ := strconv.Atoi(fields[11]) // utime, the 14th field
	system, _ := strconv.Atoi(fields[12])
	return time.Duration(user+system) * 10 * time.Millisecond
}

// checkAnswer is what is wrong with an answer, "" when nothing is.
func checkAnswer(kind string, res *vegeta.Result) string {
	if res.Code != http.StatusOK {
		return fmt.Sprintf("%s: %d %s %.200s", res.URL, res.Code, res.Error, res.Body)
	}
	var body struct {
		Gigs        []json.RawMessage
		Total       *int
		Facets      *struct{ Categories []json.RawMessage }
		Suggestions []json.RawMessage
		Username    string
	}
	if err := json.Unmarshal(res.Body, &body); err != nil {
		return fmt.Sprintf("%s: %v", res.URL, err)
	}
	if kind == kindSearch && (body.Total == nil || body.Facets == nil || len(body.Gigs) > *body.Total) {
		return fmt.Sprintf("%s: no total or facets: %.200s", res.URL, res.Body)
	}
	if kind == kindSuggest && body.Suggestions == nil {
		return fmt.Sprintf("%s: no suggestions: %.200s", res.URL, res.Body)
	}
	if kind == kindProfile && body.Username == "" {
		return fmt.Sprintf("%s: no username: %.200s", res.URL, res.Body)
	}
	return ""
}

// cacheCounts reads the node's result cache hits and misses.
func (l *searchLoad) cacheCounts(tb testing.TB) (hits, misses float64) {
	tb.Helper()
	body := l.metrics(tb)
	hits, _ = metricValue(body, "gigstream_search_cache_hits_total")
	misses, _ = metricValue(body, "gigstream_search_cache_misses_total")
	return hits, misses
}

// metrics is the node's /metrics.
func (l *searchLoad) metrics(tb testing.TB) string {
	tb.Helper()
	resp, err := http.Get(l.node.URL + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// TestSearchUnderOfferedLoad is BenchmarkSearchHTTP scaled down to run in make test:
// a generated catalogue of 3,000 gigs, a cold mix, then popular queries, at a rate a
// race-detector binary keeps up with. Every answer must be a 200 with its total and
// facets (or suggestions), every cold search a cache miss, and the repeats hits.
func TestSearchUnderOfferedLoad(t *testing.T) {
	l := newSearchLoad(t, 3000, 300, 400)
	cold := l.attack(t, 20, l.coldMix(t, 60))
	if len(cold.failures) > 0 {
		t.Fatalf("cold mix failures:\n%s", strings.Join(cold.failures, "\n"))
	}
	searches := float64(len(cold.latencies[kindSearch]))
	if len(cold.latencies[kindSuggest]) == 0 || cold.misses != searches || cold.hits != 0 {
		t.Errorf("cold mix: %v searches, %d suggests, cache hits %v misses %v", searches, len(cold.latencies[kindSuggest]), cold.hits, cold.misses)
	}
	popular := l.attack(t, 20, l.popularMix(60, 5))
	if len(popular.failures) > 0 {
		t.Fatalf("popular mix failures:\n%s", strings.Join(popular.failures, "\n"))
	}
	if popular.hits+popular.misses != 60 || popular.misses > 5 || popular.hits < 55 || len(popular.repeats) < 55 {
		t.Errorf("popular mix of 5 queries: %v hits, %v misses", popular.hits, popular.misses)
	}
	t.Logf("index of %d gigs loaded in %v; cold search p99 %v, suggest p99 %v, popular p99 %v",
		l.gigs, l.indexLoad, cold.quantile(kindSearch, 0.99), cold.quantile(kindSuggest, 0.99), popular.quantile(kindSearch, 0.99))
}
