package market

import "math/big"

// DefaultPlatformFeeBPS is the platform's fee when none is configured: 1000 basis
// points, 10 %.
const DefaultPlatformFeeBPS = 1000

// PlatformFee is the platform's share of amount minor units at bps basis points
// (1/100 of a percent), in integer maths, rounded half-up in minor units:
// fee = floor((amount × bps + 5000) / 10000). So at 10 %, 5 → 1 (0.5 rounds up),
// 4 → 0, 1 → 0, 15 → 2, 4500 → 450. The seller gets amount − fee, which is never
// negative because bps is clamped to 0…10000; a non-positive amount has no fee. The
// intermediate product is exact (no overflow) for any int64 amount.
func PlatformFee(amount int64, bps int) int64 {
	if amount <= 0 || bps <= 0 {
		return 0
	}
	bps = min(bps, 10_000)
	p := new(big.Int).Mul(big.NewInt(amount), big.NewInt(int64(bps)))
	p.Add(p, big.NewInt(5_000))
	return p.Quo(p, big.NewInt(10_000)).Int64()
}
