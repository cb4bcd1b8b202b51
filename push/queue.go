package push

import (
	"context"
	"errors"
	"log/slog"
)

// ErrQueueFull is returned by Notify when the queue holds QueueSize
// notifications already; the notification was dropped (and logged, and
// counted), because blocking the sender of a chat message is worse than a
// missing push.
var ErrQueueFull = errors.New("push: notification queue full")

// ErrSenderClosed is returned by Notify after Close.
var ErrSenderClosed = errors.New("push: sender closed")

// Start launches the workers that send what Notify queues, until ctx ends or
// Close is called. Their sends use ctx, not the context given to Notify,
// which usually belongs to a request that is over before the push goes out.
// Calls after the first, or after Close, do nothing.
func (s *Sender) Start(ctx context.Context) {
	s.mu.Lock() // so that Close never waits while workers are being added
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.started.Do(func() {
		for range s.cfg.Workers {
			s.workers.Add(1)
			go s.work(ctx)
		}
	})
}

func (s *Sender) work(ctx context.Context) {
	defer s.workers.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case n, ok := <-s.queue:
			if !ok {
				return
			}
			if ctx.Err() != nil { // select picks at random when both are ready
				s.drop(ctx, n, ctx.Err())
				continue
			}
			if err := s.SendNow(ctx, n); err != nil {
				s.log.LogAttrs(ctx, slog.LevelWarn, "push: notification not fully delivered",
					slog.String("user", n.UserID), slog.Any("error", err))
			}
		}
	}
}

// Notify queues n for the workers and returns without waiting for FCM. It
// returns ErrInvalidNotification (wrapped) for a bad n, ErrQueueFull when the
// queue is full and ErrSenderClosed after Close; in the last two cases n is
// dropped, logged and counted. Callers may ignore these errors.
func (s *Sender) Notify(ctx context.Context, n Notification) error {
	if err := n.validate(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		s.drop(ctx, n, ErrSenderClosed)
		return ErrSenderClosed
	}
	select {
	case s.queue <- n:
		return nil
	default:
		s.drop(ctx, n, ErrQueueFull)
		return ErrQueueFull
	}
}

func (s *Sender) drop(ctx context.Context, n Notification, why error) {
	s.metrics.dropped.Inc()
	s.log.LogAttrs(ctx, slog.LevelWarn, "push: notification dropped",
		slog.String("user", n.UserID), slog.String("collapse_key", n.CollapseKey), slog.Any("reason", why))
}

// Close stops accepting notifications and waits for the workers to send
// what is queued. To bound the wait, cancel the context given to Start:
// workers then stop and what is left is dropped (and counted). Close always
// returns nil; it is an error-returning method so a Sender is an io.Closer.
func (s *Sender) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()
	s.workers.Wait()
	for n := range s.queue { // left behind: Start never ran, or its ctx ended
		s.drop(context.Background(), n, ErrSenderClosed)
	}
	return nil
}
