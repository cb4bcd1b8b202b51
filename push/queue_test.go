package push_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"firebase.google.com/go/v4/messaging"
	"github.com/gigstream/hub/push"
	"github.com/prometheus/client_golang/prometheus"
)

func TestSenderNotifyDeliversInBackground(t *testing.T) {
	tokens := newFakeTokens("user-1", push.Device{Token: "tok", Platform: push.Web})
	s, fcm := newTestSender(t, tokens, testSenderConfig(nil))
	s.Start(context.Background())
	fcm.FailNext(1, 503) // retried by a worker, not by the caller
	for range 3 {
		if err := s.Notify(context.Background(), burst); err != nil {
			t.Fatalf("Notify: %v", err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := len(fcm.Messages()); got != 3 {
		t.Errorf("delivered %d, want 3 (Close drains the queue)", got)
	}
	if err := s.Notify(context.Background(), burst); !errors.Is(err, push.ErrSenderClosed) {
		t.Errorf("Notify after Close: err = %v, want ErrSenderClosed", err)
	}
}

// blockingFCM holds every Send until released, to fill the queue on purpose.
type blockingFCM struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blockingFCM) Send(ctx context.Context, _ *messaging.Message) (string, error) {
	b.entered <- struct{}{}
	select {
	case <-b.release:
		return "projects/p/messages/1", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (b *blockingFCM) Release() { b.once.Do(func() { close(b.release) }) }

func TestSenderNotifyDropsWhenQueueFull(t *testing.T) {
	reg := prometheus.NewRegistry()
	fcm := &blockingFCM{entered: make(chan struct{}, 10), release: make(chan struct{})}
	defer fcm.Release()
	cfg := testSenderConfig(reg)
	cfg.Workers, cfg.QueueSize = 1, 1
	tokens := newFakeTokens("user-1", push.Device{Token: "tok", Platform: push.Android})
	s := push.NewSender(fcm, tokens, cfg)
	s.Start(context.Background())
	defer s.Close()

	if err := s.Notify(context.Background(), burst); err != nil {
		t.Fatalf("Notify 1: %v", err)
	}
	<-fcm.entered // the only worker is now stuck in FCM
	if err := s.Notify(context.Background(), burst); err != nil {
		t.Fatalf("Notify 2 (fills the queue): %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Notify(context.Background(), burst) }()
	select {
	case err := <-done:
		if !errors.Is(err, push.ErrQueueFull) {
			t.Fatalf("Notify 3: err = %v, want ErrQueueFull", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Notify blocked on a full queue")
	}
	if got := counter(t, reg, "dropped"); got != 1 {
		t.Errorf("dropped counter = %v, want 1", got)
	}
	fcm.Release()
	eventually(t, "the queued notification to be sent", func() bool { return counter(t, reg, "sent") == 2 })
}

func TestSenderCloseAfterStartContextEndsDropsQueued(t *testing.T) {
	reg := prometheus.NewRegistry()
	tokens := newFakeTokens("user-1", push.Device{Token: "tok", Platform: push.Android})
	s := push.NewSender(&blockingFCM{entered: make(chan struct{}, 10), release: make(chan struct{})}, tokens, testSenderConfig(reg))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // workers stop at once; nothing can be sent
	s.Start(ctx)
	for range 2 {
		if err := s.Notify(context.Background(), burst); err != nil {
			t.Fatalf("Notify: %v", err)
		}
	}
	s.Close()
	if got := counter(t, reg, "dropped"); got != 2 {
		t.Errorf("dropped counter = %v, want 2 (left in the queue at Close)", got)
	}
}
