package market

import (
	"math"
	"testing"
)

func TestPlatformFeeRoundsHalfUpInMinorUnits(t *testing.T) {
	for _, c := range []struct {
		amount int64
		bps    int
		want   int64
	}{
		{4500, 1000, 450},
		{1, 1000, 0}, {4, 1000, 0}, {5, 1000, 1}, {6, 1000, 1}, {14, 1000, 1}, {15, 1000, 2},
		{1, 5000, 1}, // 0.5 rounds up
		{3, 5000, 2}, // 1.5 → 2
		{99, 1, 0}, {5000, 1, 1}, {4999, 1, 0},
		{12345, 0, 0}, {12345, -5, 0}, {0, 1000, 0}, {-10, 1000, 0},
		{12345, 10_000, 12345}, {12345, 20_000, 12345}, // clamped at 100 %
		{math.MaxInt64, 1000, 922337203685477581},
		{math.MaxInt64, 10_000, math.MaxInt64},
	} {
		got := PlatformFee(c.amount, c.bps)
		if got != c.want {
			t.Errorf("PlatformFee(%d, %d) = %d, want %d", c.amount, c.bps, got, c.want)
		}
		if seller := c.amount - got; c.amount > 0 && (seller < 0 || got < 0) {
			t.Errorf("PlatformFee(%d, %d): seller %d, fee %d", c.amount, c.bps, seller, got)
		}
	}
}
