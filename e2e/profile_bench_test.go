package e2e

import (
	"os"
	"testing"
	"time"
)

// BenchmarkProfileHTTP is the profile phase of BenchmarkSearchHTTP on a smaller
// catalogue (10,000 gigs of 1,000 sellers, the same ten gigs a seller), to weigh what
// a profile costs the node without building 100,000 gigs: 1,000 cold profiles, then
// 1,000 reads of 50 cached ones, at 40 and 100 requests/s offered (40: on the shared
// machine 100 cold profiles/s made the node shed load), over HTTP with gzip
// accepted (vegeta's Go client). Beside latency it reports the node's CPU and Go heap
// allocation per request, which move far less with the machine's load than latency.
func BenchmarkProfileHTTP(b *testing.B) {
	if os.Getenv("E2E_RACE") != "0" {
		b.Skip("the node must be built without the race detector: E2E_RACE=0")
	}
	load := loadAverage()
	l := newSearchLoad(b, 10_000, 1_000, 10)
	alloc := func() float64 {
		v, _ := metricValue(l.metrics(b), "go_memstats_alloc_bytes_total")
		return v
	}
	a0 := alloc()
	coldF, cachedF, a1, _ := l.profilePhases(b, alloc)
	a2 := alloc()
	b.ReportMetric(ms(coldF.quantile(kindProfile, 0.5)), "cold-p50-ms")
	b.ReportMetric(ms(cachedF.quantile(kindProfile, 0.5)), "cached-p50-ms")
	b.ReportMetric(float64(coldF.cpuPerRequest().Microseconds()), "cold-cpu-us/req")
	b.ReportMetric(float64(cachedF.cpuPerRequest().Microseconds()), "cached-cpu-us/req")
	b.ReportMetric((a1-a0)/float64(max(coldF.requests, 1))/1024, "cold-KiB/req")
	b.ReportMetric((a2-a1)/float64(max(cachedF.requests, 1))/1024, "cached-KiB/req")
	b.Logf("profiles: cold (40/s) p50 %v p99 %v, cached (100/s) p50 %v p99 %v; load average before %s, after %s (2 cores)",
		coldF.quantile(kindProfile, 0.5), coldF.quantile(kindProfile, 0.99),
		cachedF.quantile(kindProfile, 0.5), cachedF.quantile(kindProfile, 0.99), load, loadAverage())
	for range b.N {
		// Once: the attacks above are the measurement.
	}
}

// profilePhases offers the cold and then the cached profiles of benchProfiles and
// returns their figures, with after() read between the two and after both.
func (l *searchLoad) profilePhases(b *testing.B, after func() float64) (cold, cached loadFigures, afterCold, afterCached float64) {
	names := l.sellerNames(b)
	if len(names) < 1000 {
		b.Fatalf("%d sellers, want 1,000", len(names))
	}
	coldT, cachedT := profileTargets(l.node.URL, names)
	cold = l.attack(b, 40, coldT)
	failOn(b, "profiles cold", cold)
	afterCold = after()
	time.Sleep(100 * time.Millisecond)
	cached = l.attack(b, 100, cachedT)
	failOn(b, "profiles cached", cached)
	return cold, cached, afterCold, after()
}
