package push_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gigstream/hub/push"
	"github.com/gigstream/hub/push/fcmtest"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeTokens is an in-memory TokenStore: the real one lives in store/ and is
// tested there against Postgres.
type fakeTokens struct {
	mu      sync.Mutex
	devices map[string][]push.Device
	deleted []string
}

func newFakeTokens(userID string, devices ...push.Device) *fakeTokens {
	return &fakeTokens{devices: map[string][]push.Device{userID: devices}}
}

func (f *fakeTokens) DeviceTokens(_ context.Context, userID string) ([]push.Device, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.devices[userID]), nil
}

func (f *fakeTokens) DeleteDeviceToken(_ context.Context, token string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, token)
	for user, ds := range f.devices {
		f.devices[user] = slices.DeleteFunc(ds, func(d push.Device) bool { return d.Token == token })
	}
	return nil
}

func (f *fakeTokens) Deleted() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.deleted)
}

// testSenderConfig keeps backoff in milliseconds and logs quiet.
func testSenderConfig(reg prometheus.Registerer) push.SenderConfig {
	return push.SenderConfig{
		InitialBackoff: time.Millisecond,
		MaxBackoff:     5 * time.Millisecond,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics:        reg,
	}
}

// newTestSender wires the real firebase-admin-go client, authenticated
// against fcmtest with a service-account key, into a Sender.
func newTestSender(t *testing.T, tokens push.TokenStore, cfg push.SenderConfig) (*push.Sender, *fcmtest.Server) {
	t.Helper()
	fcm := fcmtest.New(t)
	return push.NewSender(newFirebaseClient(t, fcm), tokens, cfg), fcm
}

// counter reads gigstream_push_notifications_total{result} from reg.
func counter(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "gigstream_push_notifications_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
