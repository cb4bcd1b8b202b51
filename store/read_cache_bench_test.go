package store_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

// BenchmarkReadCache measures one hot gig page and one seller's profile read through
// the read cache (hits) and straight from PostgreSQL, and reports p50 and p99 per read
// beside ns/op. The profile's presence is off in both (no hub here).
func BenchmarkReadCache(b *testing.B) {
	ctx := context.Background()
	f := newReadCacheFixture(b)
	g := f.published(b, "A hot gig read again and again")
	for range 11 {
		f.published(b, "Another gig of the same seller")
	}
	plain := market.NewProfiles(f.db, f.direct, nil, nil, nil)
	time.Sleep(300 * time.Millisecond) // the setup's notices have passed
	for _, c := range []struct {
		name string
		read func() error
	}{
		{"gig/cached", func() error { _, err := f.gigs.Show(ctx, g.Slug, ""); return err }},
		{"gig/uncached", func() error { _, err := f.direct.Show(ctx, g.Slug, ""); return err }},
		{"profile/cached", func() error { _, err := f.profile.Public(ctx, "user_b"); return err }},
		{"profile/uncached", func() error { _, err := plain.Public(ctx, "user_b"); return err }},
	} {
		b.Run(c.name, func(b *testing.B) { benchLatency(b, c.read) })
	}
}

// BenchmarkSessionLookup compares what each authenticated request pays today (the
// prepared session-and-user query) with the best a cache could do (one Redis GET of
// the same row as JSON), to decide whether caching sessions pays.
func BenchmarkSessionLookup(b *testing.B) {
	ctx := context.Background()
	f := newReadCacheFixture(b)
	now := time.Now()
	hash := []byte("0123456789abcdef0123456789abcdef")
	s, err := f.db.CreateSession(ctx, market.Session{TokenHash: hash, UserID: f.seller, CSRFToken: "c", Kind: market.SessionBearer,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)})
	must(b, err)
	_, u, err := f.db.SessionWithUser(ctx, hash)
	must(b, err)
	row, err := json.Marshal(struct {
		S market.Session
		U market.User
	}{s, u})
	must(b, err)
	key := "session:" + s.ID
	_, gen, err := f.cache.Load(ctx, key)
	must(b, err)
	_, err = f.cache.Fill(ctx, key, gen, row, time.Minute)
	must(b, err)
	b.Run("postgres", func(b *testing.B) {
		benchLatency(b, func() error { _, _, err := f.db.SessionWithUser(ctx, hash); return err })
	})
	b.Run("redis", func(b *testing.B) {
		benchLatency(b, func() error {
			v, _, err := f.cache.Load(ctx, key)
			if err == nil {
				var out struct {
					S market.Session
					U market.User
				}
				err = json.Unmarshal(v, &out)
			}
			return err
		})
	})
}

// benchLatency runs read b.N times, one at a time, and reports its p50 and p99.
func benchLatency(b *testing.B, read func() error) {
	times := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		if err := read(); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds()), "p99-µs")
}
