package hub

import (
	"context"
	"errors"
)

// Shutdown drains the node: new sockets are refused, every socket is told
// 1001 "reconnect elsewhere", and Shutdown waits for them to finish their
// close handshake. When ctx ends first the remaining connections are cut.
// The broker is closed last. It returns ctx's error when it had to force,
// or the broker's Close error.
func (n *Node) Shutdown(ctx context.Context) error {
	n.lifeMu.Lock()
	n.draining = true
	n.lifeMu.Unlock()
	for _, c := range n.users.all() {
		c.close(CloseGoingAway, "server shutting down: reconnect", true)
	}
	go func() {
		n.sockets.Wait()
		close(n.drained)
	}()
	var forced error
	select {
	case <-n.drained:
	case <-ctx.Done():
		forced = ctx.Err()
		for _, c := range n.users.all() {
			c.cut()
		}
		<-n.drained
	}
	n.cancel()
	n.loops.Wait()
	return errors.Join(forced, n.broker.Close())
}
