package main

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// subBucketBits sets the histogram's precision, as in HdrHistogram: values
// below 2^subBucketBits are exact, and above that each power-of-two range is
// split into 2^(subBucketBits-1) equal buckets, so a value is off by less
// than 1/2^(subBucketBits-1) of itself (0.8 % with 8 bits).
const subBucketBits = 8

const (
	subBuckets  = 1 << subBucketBits
	halfBuckets = subBuckets / 2
	// maxExponent covers values up to 2^(maxExponent+subBucketBits) µs.
	maxExponent = 32
	bucketCount = subBuckets + maxExponent*halfBuckets
)

// histogram counts durations in microseconds in log-linear buckets. Record is
// safe for concurrent use (atomic adds), so every reader goroutine can share
// one histogram without a lock.
type histogram struct {
	counts [bucketCount]atomic.Uint64
	total  atomic.Uint64
	max    atomic.Uint64
}

// bucketOf returns the bucket index of v (in µs).
func bucketOf(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	exp := bits.Len64(v) - subBucketBits // ≥ 1; v>>exp is in [halfBuckets, subBuckets)
	if exp > maxExponent {
		return bucketCount - 1
	}
	return subBuckets + (exp-1)*halfBuckets + int(v>>uint(exp)) - halfBuckets
}

// bucketHigh is the largest value that falls in bucket i; percentiles report
// it, so they never understate a latency.
func bucketHigh(i int) uint64 {
	if i < subBuckets {
		return uint64(i)
	}
	j := i - subBuckets
	exp := uint(j/halfBuckets + 1)
	low := uint64(j%halfBuckets+halfBuckets) << exp
	return low + 1<<exp - 1
}

// Record adds one duration; negative durations (clock steps) count as zero.
func (h *histogram) Record(d time.Duration) {
	v := uint64(0)
	if d > 0 {
		v = uint64(d / time.Microsecond)
	}
	h.counts[bucketOf(v)].Add(1)
	h.total.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count is the number of recorded values.
func (h *histogram) Count() uint64 { return h.total.Load() }

// Max is the largest recorded value.
func (h *histogram) Max() time.Duration { return time.Duration(h.max.Load()) * time.Microsecond }

// Quantile returns the value at quantile q (0 < q ≤ 1): the smallest bucket
// bound with at least ceil(q·count) values at or below it, capped at the
// exact maximum. It returns 0 for an empty histogram.
func (h *histogram) Quantile(q float64) time.Duration {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return time.Duration(min(bucketHigh(i), h.max.Load())) * time.Microsecond
		}
	}
	return h.Max()
}
