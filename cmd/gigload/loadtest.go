package main

import (
	"context"
	"fmt"
	"time"
)

// loadTest runs the phases of one measurement: users, connect (with RSS
// readings), idle, publish, drain; then it closes the sockets.
func loadTest(ctx context.Context, cfg config, logf func(string, ...any)) (*result, error) {
	need := cfg.Channels
	if cfg.Chat {
		need = 2 * cfg.Channels // a receiver and a sender per conversation
	}
	var users []user
	var err error
	if cfg.Target == targetCentrifugo {
		users, err = centrifugoUsersFor(ctx, cfg, need)
	} else {
		users, err = ensureUsers(ctx, cfg.PubNodes[0], cfg.UsersFile, need, cfg.SeedWorkers, logf)
	}
	if err != nil {
		return nil, err
	}
	if cfg.Target == targetGigStream && cfg.WSAuth == "token" {
		ok, err := fetchConnTokens(ctx, cfg.SubNodes[0], users[:cfg.Channels], cfg.SeedWorkers)
		if err != nil {
			return nil, err
		}
		if !ok {
			logf("the hub issues no connection tokens; sockets open with the bearer session")
		} else {
			logf("%d connection tokens fetched", cfg.Channels)
		}
	}
	if cfg.Chat {
		if err := openConversations(ctx, cfg.PubNodes[0], users[:cfg.Channels], users[cfg.Channels:2*cfg.Channels], logf); err != nil {
			return nil, err
		}
	}
	res := &result{
		Label: cfg.Label, Target: cfg.Target, SubNodes: cfg.SubNodes, PubNodes: cfg.PubNodes,
		Conns: cfg.Conns, Channels: cfg.Channels, SharedUsers: cfg.Conns > cfg.Channels,
	}
	if res.SharedUsers {
		res.Notes = append(res.Notes, fmt.Sprintf("%d sockets share %d user(s): each socket subscribes to its own user's channel, so about %d sockets are on each channel",
			cfg.Conns, cfg.Channels, cfg.Conns/cfg.Channels))
	}
	errs := &errorLog{}
	d := &deliveries{latency: &histogram{}, errs: errs, durable: cfg.Durable}
	var f fleet
	defer f.closeAll(d)

	if err := connectInSteps(ctx, cfg, users, &f, d, res, logf); err != nil {
		return nil, err
	}
	if cfg.KillPID > 0 {
		d.storm = newStorm(cfg)
		f.connectRange(ctx, cfg, []string{cfg.Victim}, users[:cfg.Channels], cfg.Conns, cfg.Conns+cfg.VictimConns, d)
		res.Conns, res.Connected = cfg.Conns+cfg.VictimConns, len(f.sockets)
		logf("%d victim sockets on %s, %d others on %v", cfg.VictimConns, cfg.Victim, cfg.Conns, cfg.SubNodes)
	}
	if cfg.Idle > 0 {
		logf("holding %d idle sockets for %v", len(f.sockets), cfg.Idle)
		if err := sleepCtx(ctx, cfg.Idle); err != nil {
			return nil, err
		}
	}
	if cfg.Rate > 0 {
		if err := publishAndMeasure(ctx, cfg, users, &f, d, res, logf); err != nil {
			return nil, err
		}
	}
	res.LoadAverage = loadAverage()
	res.Dropped = d.dropped.Load()
	res.ErrorKinds, res.Errors, res.ErrorSamples = errs.snapshot()
	return res, nil
}

// connectInSteps opens the sockets up to each of cfg.ConnSteps, reading the
// servers' RSS before and after each step (after cfg.Settle).
func connectInSteps(ctx context.Context, cfg config, users []user, f *fleet, d *deliveries, res *result, logf func(string, ...any)) error {
	var (
		before   int64
		goBefore goMemory
		err      error
	)
	if len(cfg.ServerPIDs) > 0 {
		if before, err = totalRSSKiB(cfg.ServerPIDs); err != nil {
			return err
		}
	}
	if cfg.GoMetrics {
		if goBefore, err = readGoMemory(ctx, cfg.SubNodes, cfg.MetricsToken); err != nil {
			return err
		}
	}
	from := 0
	var busy cpuSample // CPU counters summed over the connect steps only
	var busySeconds float64
	for _, to := range cfg.ConnSteps {
		a, err := takeCPUSample(cfg.ServerPIDs)
		if err != nil {
			return err
		}
		started := time.Now()
		f.connectRange(ctx, cfg, cfg.SubNodes, users[:cfg.Channels], from, to, d)
		b, err := takeCPUSample(cfg.ServerPIDs)
		if err != nil {
			return err
		}
		busy, busySeconds = busy.add(b.sub(a)), busySeconds+time.Since(started).Seconds()
		from = to
		logf("%d/%d sockets connected and subscribed (%.0f/s so far)", len(f.sockets), to, float64(to)/f.setup.Seconds())
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if len(cfg.ServerPIDs) == 0 {
			continue
		}
		if err := sleepCtx(ctx, cfg.Settle); err != nil {
			return err
		}
		after, err := totalRSSKiB(cfg.ServerPIDs)
		if err != nil {
			return err
		}
		n := float64(max(len(f.sockets), 1))
		step := rssStep{Conns: len(f.sockets), BeforeKiB: before, AfterKiB: after, PerConnKiB: float64(after-before) / n}
		if cfg.GoMetrics {
			m, err := readGoMemory(ctx, cfg.SubNodes, cfg.MetricsToken)
			if err != nil {
				return err
			}
			step.HeapPerConnKiB = (m.HeapInuse - goBefore.HeapInuse) / 1024 / n
			step.StackPerConnKiB = (m.StackInuse - goBefore.StackInuse) / 1024 / n
			step.GoroutinesPerConn = (m.Goroutines - goBefore.Goroutines) / n
		}
		res.RSS = append(res.RSS, step)
	}
	cpu := cpuBetween(cpuSample{}, busy, busySeconds)
	res.ConnectCPU = &cpu
	res.Connected = len(f.sockets)
	res.SetupSeconds = f.setup.Seconds()
	res.SetupPerSec = float64(res.Connected) / res.SetupSeconds
	if n := len(res.RSS); n > 0 {
		res.RSSPerConnKiB = res.RSS[n-1].PerConnKiB
	}
	return nil
}

// publishAndMeasure publishes at cfg.Rate for cfg.Duration, waits up to
// cfg.Drain for the last deliveries, and fills the publish, delivery and CPU
// figures.
func publishAndMeasure(ctx context.Context, cfg config, users []user, f *fleet, d *deliveries, res *result, logf func(string, ...any)) error {
	pub := newPublisher(cfg, users[:cfg.Channels], d.errs)
	if cfg.Chat {
		pub.senders = users[cfg.Channels : 2*cfg.Channels]
	}
	cpuStart, err := takeCPUSample(cfg.ServerPIDs)
	if err != nil {
		return err
	}
	logf("publishing %d events at %.0f/s for %v", cfg.publishes(), cfg.Rate, cfg.Duration)
	start := time.Now()
	if d.storm != nil {
		d.storm.pub = pub
		if err := runStorm(ctx, d.storm, pub, logf); err != nil {
			return err
		}
	} else {
		pub.run(ctx)
	}
	pubSeconds := time.Since(start).Seconds()
	cpuEnd, err := takeCPUSample(cfg.ServerPIDs)
	if err != nil {
		return err
	}

	var expected int64
	for _, s := range f.sockets {
		expected += pub.expectedFor(s.channel)
	}
	drainStart := time.Now()
	for f.received() < expected && time.Since(drainStart) < cfg.Drain && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	drainWait := time.Since(drainStart)

	dl := &deliveryFigures{Expected: expected, DrainWaitMs: ms(drainWait)}
	var last int64
	for _, s := range f.sockets {
		got, want := s.received.Load(), pub.expectedFor(s.channel)
		dl.Received += got
		dl.Lost += max(0, want-got)
		dl.Extra += max(0, got-want)
		last = max(last, s.lastRecv.Load())
	}
	// From the start of the first publish slot to the end of the last one
	// (last delivery plus one slot), so n publishes at r/s span n/r seconds.
	if window := time.Duration(last-start.UnixNano()).Seconds() + 1/cfg.Rate; last > 0 {
		dl.PerSec = float64(dl.Received) / window
	}
	dl.latencyFigures(d.latency)
	if d.durable {
		for _, s := range f.sockets {
			dl.MissingSeqs += s.seqs.gaps.Load()
			dl.DuplicateSeqs += s.seqs.dups.Load()
		}
	}
	if d.storm != nil {
		res.Storm = d.storm.figures(f.sockets)
	}
	res.Delivery = dl
	var accepted int64
	for i := range pub.accepted {
		accepted += pub.accepted[i].Load()
	}
	res.Publish = &publishFigures{
		TargetRate: cfg.Rate, Attempted: cfg.publishes(), Accepted: accepted, Seconds: pubSeconds, Durable: cfg.Durable,
		CallP50Ms: ms(pub.calls.Quantile(0.5)), CallP99Ms: ms(pub.calls.Quantile(0.99)),
		MaxBehindMs: ms(time.Duration(pub.maxLag.Load())), NodesPerCall: len(cfg.PubNodes),
	}
	cpu := cpuBetween(cpuStart, cpuEnd, pubSeconds)
	res.CPU = &cpu
	return nil
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
