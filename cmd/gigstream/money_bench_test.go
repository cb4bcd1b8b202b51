package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gigstream/hub/market"
)

// benchOrders places, pays (webhook) and delivers n orders of the world, untimed.
func (w *moneyWorld) benchOrders(n int) []moneyOrder {
	r := rand.New(rand.NewPCG(w.seed, 7))
	for range n {
		w.must(w.opPlace(r))
	}
	for _, o := range w.placed {
		w.must(w.fake.Succeed(o.intent))
	}
	w.quiesce()
	for _, o := range w.placed {
		up, _, err := w.db.CreateUpload(w.ctx, market.NewUpload{OwnerID: o.seller, Kind: market.UploadDeliverable, Filename: "w.zip", OrderID: &o.id})
		w.must(err)
		_, _, err = w.db.SettleUpload(w.ctx, up.ID, market.StoredObject{Key: "k/" + up.ID, Size: 3, SHA256: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			ContentType: "application/zip", Filename: "w.zip"})
		w.must(err)
		_, err = w.orders.Deliver(w.ctx, market.NewDelivery{OrderID: o.id, UserID: o.seller, Note: "done", UploadIDs: []string{up.ID}})
		w.must(err)
	}
	return w.placed
}

// resetStatements empties pg_stat_statements where the server loads it, so that what
// it shows after a benchmark is the timed part's statements only (the untimed setup
// places, pays and delivers the orders). Without the extension it does nothing.
func (w *moneyWorld) resetStatements() {
	_, _ = w.raw.Exec(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`)
	_, _ = w.raw.Exec(`SELECT pg_stat_statements_reset()`)
}

// benchWorkers is how many goroutines parallel runs: MONEY_BENCH_WORKERS when set to
// a positive number, else moneyWorkers (8).
func benchWorkers(b *testing.B) int {
	v := os.Getenv("MONEY_BENCH_WORKERS")
	if v == "" {
		return moneyWorkers
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("MONEY_BENCH_WORKERS=%q: want a positive number", v)
	}
	return n
}

// parallel runs f over items on benchWorkers goroutines and returns each call's
// latency.
func parallel[T any](b *testing.B, items []T, f func(T) error) []time.Duration {
	var mu sync.Mutex
	var lat []time.Duration
	next := make(chan T)
	var wg sync.WaitGroup
	for range benchWorkers(b) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range next {
				t0 := time.Now()
				if err := f(it); err != nil {
					b.Error(err)
				}
				mu.Lock()
				lat = append(lat, time.Since(t0))
				mu.Unlock()
			}
		}()
	}
	for _, it := range items {
		next <- it
	}
	close(next)
	wg.Wait()
	slices.Sort(lat)
	return lat
}

func p99(lat []time.Duration) float64 {
	if len(lat) == 0 {
		return 0
	}
	return float64(lat[len(lat)*99/100].Microseconds()) / 1000
}

// BenchmarkSettleOrders is settled orders per second on real Postgres through the
// binary's settlement: b.N delivered orders are accepted by their buyers (escrow →
// seller pending + platform fee, invoice numbered and queued) from 8 goroutines
// (MONEY_BENCH_WORKERS sets another number), then cleared (pending → available), one
// ledger transaction each step. It reports
// orders/s, ledger transactions/s, each phase's rate (accepts/s on 8 goroutines, then
// clearings/s of the one sweep) and the accept's p99. It runs over the money world's
// 12 sellers, where the 8 workers queue on each seller's rows (pending balance, user
// channel), and over 1,000 sellers, as in a marketplace where an order's seller is
// rarely busy with another.
func BenchmarkSettleOrders(b *testing.B) {
	for _, sellers := range []int{moneySellers, 1000} {
		b.Run(fmt.Sprintf("sellers=%d", sellers), func(b *testing.B) { benchSettleOrders(b, sellers) })
	}
}

func benchSettleOrders(b *testing.B, sellers int) {
	w := newMoneyWorldOf(b, 1, sellers)
	orders := w.benchOrders(max(b.N, 1))
	w.resetStatements()
	b.ResetTimer()
	start := time.Now()
	lat := parallel(b, orders, func(o moneyOrder) error {
		_, _, err := w.settlement.Accept(w.ctx, o.id, o.buyer, uuid.NewString())
		return err
	})
	accepted := time.Since(start)
	n, err := w.settlement.ClearEarnings(w.ctx, len(orders)+1)
	w.must(err)
	took := time.Since(start)
	b.StopTimer()
	if n != len(orders) {
		b.Fatalf("cleared %d of %d", n, len(orders))
	}
	b.ReportMetric(float64(len(orders))/took.Seconds(), "orders/s")
	b.ReportMetric(float64(2*len(orders))/took.Seconds(), "ledger_tx/s")
	b.ReportMetric(float64(len(orders))/accepted.Seconds(), "accepts/s")
	b.ReportMetric(float64(len(orders))/(took-accepted).Seconds(), "clearings/s")
	b.ReportMetric(p99(lat), "accept_p99_ms")
}

// BenchmarkWithdrawals is withdrawals per second on real Postgres through the binary's
// settlement and Stripe Connect adapter (against the in-process Stripe fake): each of
// b.N withdrawals reserves under the seller's lock, transfers and pays out at the
// fake and posts available → transit, from 8 goroutines (MONEY_BENCH_WORKERS) over
// 12 sellers. It reports
// withdrawals/s and the p99 of one withdrawal.
func BenchmarkWithdrawals(b *testing.B) {
	w := newMoneyWorld(b, 2)
	w.quiesce() // payouts enabled
	for _, s := range w.sellers {
		// Earnings to withdraw, posted as one balanced transaction.
		_, err := w.raw.Exec(`WITH t AS (INSERT INTO ledger_transactions (kind, reference) VALUES ('clearing', 'bench:' || $1) RETURNING id)
			INSERT INTO ledger_postings (transaction_id, account, amount_minor, currency)
			SELECT t.id, v.a, v.x, 'USD' FROM t, (VALUES ('external:stripe', -100000000::bigint), ('seller:' || $1 || ':available', 100000000::bigint)) v(a, x)`, s)
		w.must(err)
	}
	jobs := make([]string, max(b.N, 1))
	for i := range jobs {
		jobs[i] = w.sellers[i%len(w.sellers)]
	}
	w.resetStatements()
	b.ResetTimer()
	start := time.Now()
	lat := parallel(b, jobs, func(seller string) error {
		_, _, err := w.settlement.Withdraw(w.ctx, market.NewWithdrawal{UserID: seller, AmountMinor: 100, Currency: "USD", IdempotencyKey: uuid.NewString()})
		return err
	})
	took := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(len(jobs))/took.Seconds(), "withdrawals/s")
	b.ReportMetric(p99(lat), "withdraw_p99_ms")
}
