package hub

import (
	"context"
	"sync"
)

// MemoryBroker is the single-node Broker: Publish hands the payload
// straight to the node's handler on the caller's goroutine. It also lets
// tests cut and restore the "connection" to exercise re-sync.
type MemoryBroker struct {
	mu       sync.RWMutex
	handler  BrokerHandler
	channels map[string]int
	down     bool
	closed   bool
}

// NewMemoryBroker returns a MemoryBroker ready for Start.
func NewMemoryBroker() *MemoryBroker {
	return &MemoryBroker{channels: make(map[string]int)}
}

// Start implements Broker.
func (b *MemoryBroker) Start(_ context.Context, h BrokerHandler) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.handler = h
	return nil
}

// Publish implements Broker. While the broker is down (see Disconnect) the
// payload is lost, as it would be on a broken Redis connection.
func (b *MemoryBroker) Publish(_ context.Context, channel string, payload []byte) error {
	b.mu.RLock()
	h, ok := b.handler, b.channels[channel] > 0 && !b.down
	closed := b.closed
	b.mu.RUnlock()
	if closed {
		return ErrBrokerClosed
	}
	if ok && h != nil {
		h.HandleMessage(channel, append([]byte(nil), payload...))
	}
	return nil
}

// PublishControl implements Broker.
func (b *MemoryBroker) PublishControl(_ context.Context, payload []byte) error {
	b.mu.RLock()
	h, closed := b.handler, b.closed
	b.mu.RUnlock()
	if closed {
		return ErrBrokerClosed
	}
	if h != nil {
		h.HandleControl(append([]byte(nil), payload...))
	}
	return nil
}

// Subscribe implements Broker.
func (b *MemoryBroker) Subscribe(_ context.Context, channel string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrBrokerClosed
	}
	b.channels[channel]++
	return nil
}

// Unsubscribe implements Broker.
func (b *MemoryBroker) Unsubscribe(_ context.Context, channel string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.channels[channel]--; b.channels[channel] <= 0 {
		delete(b.channels, channel)
	}
	return nil
}

// Channels returns how many channels are subscribed, for tests of the
// node's reference counting.
func (b *MemoryBroker) Channels() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.channels)
}

// Disconnect simulates a lost connection: publishes are dropped until
// Reconnect.
func (b *MemoryBroker) Disconnect() {
	b.mu.Lock()
	b.down = true
	h := b.handler
	b.mu.Unlock()
	if h != nil {
		h.HandleDisconnect()
	}
}

// Connected reports whether the broker is up (not between Disconnect and
// Reconnect).
func (b *MemoryBroker) Connected() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return !b.down
}

// Reconnect ends a Disconnect and reports it to the handler, as a real
// broker does after resubscribing.
func (b *MemoryBroker) Reconnect() {
	b.mu.Lock()
	b.down = false
	h := b.handler
	b.mu.Unlock()
	if h != nil {
		h.HandleReconnect()
	}
}

// Close implements Broker.
func (b *MemoryBroker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}
