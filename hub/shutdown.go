package hub

import (
	"context"
	"errors"
)

// Shutdown drains the node: new sockets are refused, every socket is told
// 1001 "reconnect elsewhere", and Shutdown waits for them to finish their
// close handshake. When ctx ends first the remaining connections are cut.
// The broker is closed last. It returns ctx's error when it had to force,
// or the broker's Close error. A second call waits for the first.
func (n *Node) Shutdown(ctx context.Context) error {
	n.lifeMu.Lock()
	first := !n.draining
	n.draining = true
	n.lifeMu.Unlock()
	if !first {
		select {
		case <-n.stopped:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer close(n.stopped)
	forced := n.drain(ctx)
	n.cancel()
	n.loops.Wait()
	return errors.Join(forced, n.broker.Close())
}

// drain closes every socket politely, then by force once ctx ends.
func (n *Node) drain(ctx context.Context) error {
	for _, c := range n.users.all() {
		c.close(CloseGoingAway, "server shutting down: reconnect", true)
	}
	drained := make(chan struct{})
	go func() {
		n.sockets.Wait()
		close(drained)
	}()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
	}
	for _, c := range n.users.all() {
		c.cut()
	}
	<-drained
	return ctx.Err()
}
