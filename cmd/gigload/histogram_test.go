package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketBoundsCoverEveryValue(t *testing.T) {
	for _, v := range []uint64{0, 1, 255, 256, 257, 511, 512, 1000, 12345, 1 << 20, 1<<30 + 7} {
		i := bucketOf(v)
		if hi := bucketHigh(i); hi < v {
			t.Errorf("value %d: bucket %d ends at %d", v, i, hi)
		}
		if i > 0 && bucketHigh(i-1) >= v {
			t.Errorf("value %d: previous bucket %d ends at %d, not below it", v, i-1, bucketHigh(i-1))
		}
		if hi := bucketHigh(i); float64(hi-v) > float64(v)/128 {
			t.Errorf("value %d: bucket bound %d is more than 0.8%% off", v, hi)
		}
	}
}

func TestQuantileMatchesSortedSamples(t *testing.T) {
	var h histogram
	rng := rand.New(rand.NewPCG(1, 2))
	samples := make([]uint64, 100_000)
	for i := range samples {
		// A long-tailed spread from 50 µs to about 300 ms.
		samples[i] = 50 + uint64(rng.ExpFloat64()*8000)
		h.Record(time.Duration(samples[i]) * time.Microsecond)
	}
	slices.Sort(samples)
	for _, q := range []float64{0.5, 0.95, 0.99, 0.999, 1} {
		rank := int(q*float64(len(samples))+0.999999) - 1
		want := float64(samples[rank])
		got := float64(h.Quantile(q) / time.Microsecond)
		if got < want || got > want*1.008+1 {
			t.Errorf("q=%v: got %v µs, exact %v µs", q, got, want)
		}
	}
	if h.Count() != uint64(len(samples)) {
		t.Errorf("count %d", h.Count())
	}
	if h.Max() != time.Duration(samples[len(samples)-1])*time.Microsecond {
		t.Errorf("max %v, want %d µs", h.Max(), samples[len(samples)-1])
	}
}

func TestQuantileSmallCases(t *testing.T) {
	var h histogram
	if h.Quantile(0.99) != 0 {
		t.Fatal("empty histogram should report 0")
	}
	for _, ms := range []int{1, 2, 3, 4, 100} {
		h.Record(time.Duration(ms) * time.Millisecond)
	}
	if p50 := h.Quantile(0.5); p50 < 3*time.Millisecond || p50 > 3030*time.Microsecond {
		t.Errorf("p50 %v, want ≈3ms", p50)
	}
	if p99 := h.Quantile(0.99); p99 != 100*time.Millisecond {
		t.Errorf("p99 %v, want the maximum 100ms", p99)
	}
	h.Record(-time.Second)
	if h.Quantile(0.01) != 0 {
		t.Errorf("a negative duration should count as zero")
	}
}
