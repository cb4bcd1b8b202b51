package main

import (
	"context"
	"sync"
	"time"
)

// fleet is the set of open sockets of a run.
type fleet struct {
	sockets []*socket
	setup   time.Duration // time spent connecting and subscribing, over all steps
}

// connectRange opens sockets from..to-1 (socket i as user i % len(users), on
// node i % len(nodes)), workers at a time, and starts their readers.
// Failed sockets are logged and left out.
func (f *fleet) connectRange(ctx context.Context, cfg config, nodes []string, users []user, from, to int, d *deliveries) {
	dialer := newDialer()
	out := make([]*socket, to-from)
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range cfg.ConnWorkers {
		wg.Go(func() {
			for i := range next {
				ch := i % len(users)
				s, err := dialSocket(ctx, dialer, cfg.Target, nodes[i%len(nodes)], users[ch], ch)
				if err != nil {
					d.errs.add("connect", err)
					continue
				}
				s.index = i
				out[i-from] = s
				go s.read(d)
			}
		})
	}
	for i := from; i < to && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	f.setup += time.Since(start)
	for _, s := range out {
		if s != nil {
			f.sockets = append(f.sockets, s)
		}
	}
}

// closeAll closes every socket, a few hundred at a time.
func (f *fleet) closeAll(d *deliveries) {
	d.closing.Store(true)
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	for _, s := range f.sockets {
		sem <- struct{}{}
		wg.Go(func() {
			s.close()
			<-sem
		})
	}
	wg.Wait()
}

// received sums the events every socket has counted.
func (f *fleet) received() int64 {
	var n int64
	for _, s := range f.sockets {
		n += s.received.Load()
	}
	return n
}
