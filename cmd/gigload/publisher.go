package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// publisher sends events through the nodes' publish API at a fixed rate,
// round-robin over the channels, and counts the accepted ones per channel.
type publisher struct {
	cfg      config
	channels []string // channel names, indexed like socket.channel
	senders  []user   // -chat: who sends into channel i
	client   *http.Client
	accepted []atomic.Int64  // publishes answered 202, per channel
	seqs     []atomic.Uint64 // durable: the highest seq answered, per channel
	calls    histogram       // duration of the publish calls
	maxLag   atomic.Int64    // worst delay between a publish's slot and its start, ns
	errs     *errorLog
}

// newPublisher prepares a publisher over the given user channels with a pool
// of keep-alive connections, one per worker.
func newPublisher(cfg config, users []user, errs *errorLog) *publisher {
	p := &publisher{cfg: cfg, accepted: make([]atomic.Int64, len(users)), seqs: make([]atomic.Uint64, len(users)), errs: errs}
	for _, u := range users {
		p.channels = append(p.channels, u.channel())
	}
	p.client = &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: cfg.PubWorkers,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}
	return p
}

// run publishes cfg.publishes() events, event i in the time slot
// start + i/rate, with at most cfg.PubWorkers calls in flight, and returns
// when every call has ended. A slot missed because all workers were busy is
// caught up at once and shows in maxLag.
func (p *publisher) run(ctx context.Context) {
	n := p.cfg.publishes()
	interval := time.Duration(float64(time.Second) / p.cfg.Rate)
	type slot struct {
		i   int
		due time.Time
	}
	jobs := make(chan slot, n)
	var wg sync.WaitGroup
	for range p.cfg.PubWorkers {
		wg.Go(func() {
			var body []byte
			for j := range jobs {
				p.noteLag(time.Since(j.due))
				body = p.publishOne(ctx, body[:0], j.i)
			}
		})
	}
	start := time.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		jobs <- slot{i, due}
	}
	close(jobs)
	wg.Wait()
}

// publishOne sends publish number i and stamps it with the time the call
// starts; body is a reusable buffer.
func (p *publisher) publishOne(ctx context.Context, body []byte, i int) []byte {
	if p.cfg.Chat {
		return p.sendOne(ctx, body, i)
	}
	ch := i % len(p.channels)
	node := p.cfg.PubNodes[i%len(p.cfg.PubNodes)]
	start := time.Now()
	data := func(b []byte) []byte { return appendPayload(b, start.UnixNano(), i) }
	if p.cfg.Target == targetCentrifugo {
		body = centrifugoPublishBody(body, p.channels[ch], data)
		p.post(ctx, "publish", node+"/api/publish", p.cfg.APIKey, body, http.StatusOK, ch, start)
		return body
	}
	body = append(body, `{"channel":"`...)
	body = append(body, p.channels[ch]...)
	body = append(body, `","type":"`...)
	body = append(body, p.cfg.EventType...)
	body = append(body, `","durable":`...)
	body = strconv.AppendBool(body, p.cfg.Durable)
	body = append(body, `,"data":`...)
	body = data(body)
	body = append(body, '}')
	p.post(ctx, "publish", node+"/api/publish", p.cfg.APIKey, body, http.StatusAccepted, ch, start)
	return body
}

// post sends one JSON body with a bearer token, times the call from start, and
// counts it as accepted for channel ch when it is answered with want.
func (p *publisher) post(ctx context.Context, kind, url, bearer string, body []byte, want, ch int, start time.Time) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		p.errs.add(kind, err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if p.cfg.Target == targetCentrifugo {
		req.Header.Set("X-API-Key", bearer)
	} else {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		p.errs.add(kind, err)
		return
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	p.calls.Record(time.Since(start))
	ok := resp.StatusCode == want
	if p.cfg.Target == targetCentrifugo {
		ok = centrifugoAccepted(resp.StatusCode, answer)
	}
	if !ok {
		p.errs.add(kind, fmt.Errorf("status %s: %s", resp.Status, bytes.TrimSpace(answer)))
		return
	}
	p.accepted[ch].Add(1)
	if seq, ok := answerSeq(answer); ok {
		for m := p.seqs[ch].Load(); seq > m && !p.seqs[ch].CompareAndSwap(m, seq); m = p.seqs[ch].Load() {
		}
	}
}

// answerSeq reads "seq" from a publish answer ({"channel":…,"seq":N,…}).
func answerSeq(answer []byte) (uint64, bool) {
	i := bytes.Index(answer, []byte(`"seq":`))
	if i < 0 {
		return 0, false
	}
	rest := answer[i+len(`"seq":`):]
	end := bytes.IndexAny(rest, ",}")
	if end < 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(rest[:end]), 10, 64)
	return n, err == nil && n > 0
}

// acceptedSeq is the highest seq the publish API answered for channel.
func (p *publisher) acceptedSeq(channel int) uint64 { return p.seqs[channel].Load() }

// noteLag keeps the largest delay between a slot and its publish's start.
func (p *publisher) noteLag(lag time.Duration) {
	for {
		m := p.maxLag.Load()
		if int64(lag) <= m || p.maxLag.CompareAndSwap(m, int64(lag)) {
			return
		}
	}
}

// expectedFor is how many events the sockets subscribed to channel should get.
func (p *publisher) expectedFor(channel int) int64 { return p.accepted[channel].Load() }
