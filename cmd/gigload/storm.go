package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fasthttp/websocket"
)

// A reconnect storm: -victim-conns sockets sit on the -victim node while
// durable events flow to every channel; -kill-after into the publishing,
// gigload kills the victim's process (-kill-pid, SIGKILL), and each of its
// sockets reconnects, after a random pause of up to -reconnect-jitter, to
// the survivors (-sub-nodes) with since = the last seq it saw. A victim is
// whole again once its seq stream has reached every event accepted before
// its resubscribe was answered; the figure is the time from the kill until
// the last victim is whole, with the other sockets' latency meanwhile.
// Every socket's seq stream is checked throughout: a missing seq or a
// duplicate is a failure.

// storm is the shared state of a reconnect storm.
type storm struct {
	cfg         config
	victims     int // how many
	victimsFrom int // sockets victimsFrom.. are the victims
	dialer      *websocket.Dialer
	slots       chan struct{} // dials in flight at once
	pub         *publisher    // for the accepted seqs per channel

	killedAt  atomic.Int64 // unix nanos of the kill; 0 before
	overAt    atomic.Int64 // unix nanos when the last victim was whole
	remaining atomic.Int64 // victims not yet whole

	recovered  histogram // latency of what victims received after the kill
	bystanders histogram // latency of what the others received until over
	whole      histogram // kill → whole, per victim
	resubs     histogram // kill → resubscribe answered, per victim
	retries    atomic.Int64
	gaveUp     atomic.Int64
	notRecov   atomic.Int64 // resubscribes answered "recovered": false
}

func newStorm(cfg config) *storm {
	st := &storm{cfg: cfg, victims: cfg.VictimConns, victimsFrom: cfg.Conns, dialer: newDialer(),
		slots: make(chan struct{}, cfg.ReconnectWorkers)}
	st.remaining.Store(int64(st.victims))
	return st
}

func (st *storm) isVictim(s *socket) bool { return s.index >= st.victimsFrom }
func (st *storm) started() bool           { return st.killedAt.Load() != 0 }
func (st *storm) over() bool              { return st.overAt.Load() != 0 }

// kill ends the victim node's process at once, as a crash would.
func (st *storm) kill() error {
	st.killedAt.Store(time.Now().UnixNano())
	if err := syscall.Kill(st.cfg.KillPID, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill the victim node (pid %d): %w", st.cfg.KillPID, err)
	}
	return nil
}

// becameWhole counts one victim whole at now.
func (st *storm) becameWhole(now int64) {
	st.whole.Record(time.Duration(now - st.killedAt.Load()))
	if st.remaining.Add(-1) == 0 {
		st.overAt.Store(now)
	}
}

// reconnect brings a victim back on a survivor with since, retrying with
// backoff until -storm-timeout after the kill. It returns the last error
// when it gives up.
func (s *socket) reconnect(d *deliveries) error {
	st := d.storm
	if st.cfg.ReconnectJitter > 0 {
		time.Sleep(rand.N(st.cfg.ReconnectJitter))
	}
	for attempt := 0; ; attempt++ {
		err := s.redial(st, st.cfg.SubNodes[(s.index+attempt)%len(st.cfg.SubNodes)])
		if err == nil {
			return nil
		}
		st.retries.Add(1)
		if time.Since(time.Unix(0, st.killedAt.Load())) > st.cfg.StormTimeout {
			st.gaveUp.Add(1)
			d.errs.add("reconnect", err)
			return err
		}
		time.Sleep(min(50*time.Millisecond<<min(attempt, 5), time.Second) + rand.N(50*time.Millisecond))
	}
}

// redial opens a new connection to node and resubscribes with since.
func (s *socket) redial(st *storm, node string) error {
	st.slots <- struct{}{}
	defer func() { <-st.slots }()
	url, hdr := wsURL(node), http.Header{"Authorization": []string{"Bearer " + s.user.Token}}
	if s.user.ConnToken != "" {
		url, hdr = url+"?token="+s.user.ConnToken, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	conn, resp, err := st.dialer.DialContext(ctx, url, hdr)
	if err != nil {
		if resp != nil {
			return fmt.Errorf("redial %s: status %s: %w", node, resp.Status, err)
		}
		return fmt.Errorf("redial %s: %w", node, err)
	}
	// A victim that saw nothing yet asks for everything kept (since 0), as
	// a client does; the bench's channels hold only this run's events.
	last := s.seqs.last.Load()
	reply, err := handshakeOn(conn, s.user.channel(), last, true)
	if err != nil {
		conn.Close()
		return err
	}
	now := time.Now().UnixNano()
	st.resubs.Record(time.Duration(now - st.killedAt.Load()))
	if !bytes.Contains(reply, []byte(`"recovered":true`)) {
		st.notRecov.Add(1)
	}
	s.seqs.diag.Lock()
	s.seqs.resubAt, s.seqs.resubNode, s.seqs.sinceSeq, s.seqs.after = now, node, last, nil
	s.seqs.awaitFrom(st.pub.acceptedSeq(s.channel), st, now) // sets target, read under diag
	s.seqs.diag.Unlock()
	s.connMu.Lock()
	s.conn = conn
	s.connMu.Unlock()
	return nil
}

// seqTrack follows one socket's durable seq stream. Only the socket's
// reader writes it; the counters are read at the end.
type seqTrack struct {
	last     atomic.Uint64 // highest seq seen; 0 before the first
	gaps     atomic.Int64  // seqs skipped over
	dups     atomic.Int64  // seqs seen again
	target   uint64        // a resubscribed victim is whole at this seq
	awaiting bool          // resubscribed, not yet whole
	// For the storm's slowest victims: when the resubscribe was answered,
	// on which node, from which seq, and the first events after it. The
	// reader writes them under diag, which figures takes to read them.
	diag      sync.Mutex
	resubAt   int64
	resubNode string
	sinceSeq  uint64
	after     []arrival
}

// arrival is one event a resubscribed victim received: its seq and when,
// in ms after the resubscribe was answered.
type arrival struct {
	Seq uint64  `json:"seq"`
	Ms  float64 `json:"ms"`
}

// note checks the seq of an event frame.
func (t *seqTrack) note(frame []byte, st *storm, now int64) {
	seq, ok := frameSeq(frame)
	if !ok {
		return
	}
	if t.resubAt != 0 && len(t.after) < 8 { // only this reader writes them
		t.diag.Lock()
		t.after = append(t.after, arrival{seq, float64(now-t.resubAt) / 1e6})
		t.diag.Unlock()
	}
	switch last := t.last.Load(); {
	case last == 0 || seq == last+1:
		t.last.Store(seq)
	case seq <= last:
		t.dups.Add(1)
	default:
		t.gaps.Add(int64(seq - last - 1))
		t.last.Store(seq)
	}
	if t.awaiting && t.last.Load() >= t.target {
		t.awaiting = false
		st.becameWhole(now)
	}
}

// awaitFrom starts waiting for target (the channel's highest accepted seq
// when the resubscribe was answered); a victim already there is whole.
func (t *seqTrack) awaitFrom(target uint64, st *storm, now int64) {
	t.target, t.awaiting = target, true
	if t.last.Load() >= target {
		t.awaiting = false
		st.becameWhole(now)
	}
}

var seqKey = []byte(`","seq":`)

// frameSeq reads the seq of an event frame ({"op":"event","channel":"…","seq":N,…}).
func frameSeq(frame []byte) (uint64, bool) {
	i := bytes.Index(frame, seqKey)
	if i < 0 {
		return 0, false
	}
	rest := frame[i+len(seqKey):]
	end := bytes.IndexAny(rest, ",}")
	if end < 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(rest[:end]), 10, 64)
	return n, err == nil
}

// stormFigures is what a storm measured.
type stormFigures struct {
	Victims         int          `json:"victims"`
	Survivors       int          `json:"survivor_nodes"`
	AllWholeMs      float64      `json:"all_whole_ms"` // kill → the last victim whole; -1 if some never were
	WholeP50Ms      float64      `json:"whole_p50_ms"`
	WholeP99Ms      float64      `json:"whole_p99_ms"`
	ResubscribedMs  float64      `json:"all_resubscribed_ms"`
	NotWhole        int64        `json:"not_whole"`
	Retries         int64        `json:"reconnect_retries"`
	GaveUp          int64        `json:"gave_up"`
	NotRecovered    int64        `json:"resubscribed_not_recovered"`
	Slowest         []slowVictim `json:"slowest_victims,omitempty"`
	BystanderP50Ms  float64      `json:"bystander_p50_ms"`
	BystanderP99Ms  float64      `json:"bystander_p99_ms"`
	BystanderCount  uint64       `json:"bystander_events"`
	RecoveredEvents uint64       `json:"victim_events_after_kill"`
	Gaps            int64        `json:"missing_seqs"`
	Duplicates      int64        `json:"duplicate_seqs"`
}

// figures sums up the storm and every socket's seq stream.
func (st *storm) figures(sockets []*socket) *stormFigures {
	f := &stormFigures{
		Victims: st.victims, Survivors: len(st.cfg.SubNodes),
		WholeP50Ms: ms(st.whole.Quantile(0.5)), WholeP99Ms: ms(st.whole.Quantile(0.99)),
		ResubscribedMs: ms(st.resubs.Max()), NotWhole: st.remaining.Load(),
		Retries: st.retries.Load(), GaveUp: st.gaveUp.Load(), NotRecovered: st.notRecov.Load(),
		BystanderP50Ms: ms(st.bystanders.Quantile(0.5)), BystanderP99Ms: ms(st.bystanders.Quantile(0.99)),
		BystanderCount: st.bystanders.Count(), RecoveredEvents: st.recovered.Count(), AllWholeMs: -1,
	}
	if over := st.overAt.Load(); over != 0 {
		f.AllWholeMs = ms(time.Duration(over - st.killedAt.Load()))
	}
	for _, s := range sockets {
		f.Gaps += s.seqs.gaps.Load()
		f.Duplicates += s.seqs.dups.Load()
	}
	f.Slowest = st.slowest(sockets, 10)
	return f
}

// slowVictim is one of the victims that took longest from resubscribe to
// whole: where the storm's tail goes.
type slowVictim struct {
	Channel    int       `json:"channel"`
	Node       string    `json:"node"`
	ResubMs    float64   `json:"resubscribed_ms"` // after the kill
	WholeAfter float64   `json:"whole_after_resubscribe_ms"`
	Since      uint64    `json:"since"`
	Target     uint64    `json:"target"`
	Arrivals   []arrival `json:"arrivals"`
}

// slowest returns the n victims with the longest wait from their
// resubscribe to the last event they were owed (those never whole first).
func (st *storm) slowest(sockets []*socket, n int) []slowVictim {
	end := st.overAt.Load()
	if end == 0 {
		end = time.Now().UnixNano()
	}
	var out []slowVictim
	for _, s := range sockets {
		if !st.isVictim(s) {
			continue
		}
		t := &s.seqs
		t.diag.Lock()
		v, ok := t.slow(end, st.killedAt.Load())
		t.diag.Unlock()
		if ok {
			v.Channel = s.channel
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b slowVictim) int { return cmp.Compare(b.WholeAfter, a.WholeAfter) })
	return out[:min(n, len(out))]
}

// slow describes a resubscribed victim for slowest; end stands for "whole"
// when none of its first events reached its target. Call with diag held.
func (t *seqTrack) slow(end, killedAt int64) (slowVictim, bool) {
	if t.resubAt == 0 {
		return slowVictim{}, false
	}
	whole := end
	for _, a := range t.after {
		if a.Seq >= t.target {
			whole = t.resubAt + int64(a.Ms*1e6)
			break
		}
	}
	if t.sinceSeq >= t.target {
		whole = t.resubAt
	}
	return slowVictim{Node: t.resubNode,
		ResubMs: ms(time.Duration(t.resubAt - killedAt)), WholeAfter: ms(time.Duration(whole - t.resubAt)),
		Since: t.sinceSeq, Target: t.target, Arrivals: slices.Clone(t.after)}, true
}

// runStorm publishes durable events, kills the victim node -kill-after into
// it, and waits for the victims to be whole (or -storm-timeout) while the
// publishing goes on.
func runStorm(ctx context.Context, st *storm, pub *publisher, logf func(string, ...any)) error {
	var wg sync.WaitGroup
	wg.Go(func() { pub.run(ctx) })
	defer wg.Wait()
	if err := sleepCtx(ctx, st.cfg.KillAfter); err != nil {
		return err
	}
	logf("killing the victim node (pid %d) with %d sockets on it", st.cfg.KillPID, st.victims)
	if err := st.kill(); err != nil {
		return err
	}
	deadline := time.Now().Add(st.cfg.StormTimeout)
	for !st.over() && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	if st.over() {
		logf("all %d victims whole again %.0f ms after the kill", st.victims, float64(st.overAt.Load()-st.killedAt.Load())/1e6)
	} else {
		logf("%d of %d victims not whole %v after the kill", st.remaining.Load(), st.victims, st.cfg.StormTimeout)
	}
	return nil
}
