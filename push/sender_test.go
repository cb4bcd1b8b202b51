package push_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gigstream/hub/push"
	"github.com/prometheus/client_golang/prometheus"
)

var burst = push.Notification{
	UserID:      "user-1",
	CollapseKey: "conversation:42",
	Title:       "Ada",
	Body:        "Is the logo ready?",
	Data:        map[string]string{"conversation_id": "42", "seq": "7"},
}

func TestSenderNotificationShape(t *testing.T) {
	tokens := newFakeTokens("user-1",
		push.Device{Token: "tok-android", Platform: push.Android},
		push.Device{Token: "tok-ios", Platform: push.IOS},
		push.Device{Token: "tok-web", Platform: push.Web})
	s, fcm := newTestSender(t, tokens, testSenderConfig(nil))
	if err := s.SendNow(context.Background(), burst); err != nil {
		t.Fatalf("SendNow: %v", err)
	}
	if n := fcm.TokenRequests(); n != 1 {
		t.Errorf("OAuth token exchanges = %d, want 1 (token reused)", n)
	}
	msgs := fcm.Messages()
	if len(msgs) != 3 {
		t.Fatalf("FCM received %d messages, want 3", len(msgs))
	}
	for i, m := range msgs {
		if want := []string{"tok-android", "tok-ios", "tok-web"}[i]; m.Token != want {
			t.Errorf("message %d token = %q, want %q", i, m.Token, want)
		}
		if m.Notification == nil || m.Notification.Title != "Ada" || m.Notification.Body != "Is the logo ready?" {
			t.Errorf("notification = %+v", m.Notification)
		}
		if m.Data["conversation_id"] != "42" || m.Data["seq"] != "7" {
			t.Errorf("data = %v", m.Data)
		}
		if m.Android == nil || m.Android.CollapseKey != "conversation:42" || m.Android.Notification == nil || m.Android.Notification.Tag != "conversation:42" {
			t.Errorf("android = %+v, want collapse_key and tag conversation:42", m.Android)
		}
		aps, _ := m.APNS.Payload["aps"].(map[string]any)
		if m.APNS.Headers["apns-collapse-id"] != "conversation:42" || aps["thread-id"] != "conversation:42" {
			t.Errorf("apns = %+v, want apns-collapse-id and thread-id conversation:42", m.APNS)
		}
		if topic := m.Webpush.Headers["Topic"]; len(topic) == 0 || len(topic) > 32 || m.Webpush.Notification["tag"] != "conversation:42" {
			t.Errorf("webpush = %+v, want a Topic of 1-32 chars and tag conversation:42", m.Webpush)
		}
	}
}

func TestSenderCollapseIDsFitHeaderLimits(t *testing.T) {
	tokens := newFakeTokens("user-1", push.Device{Token: "tok", Platform: push.IOS})
	s, fcm := newTestSender(t, tokens, testSenderConfig(nil))
	n := burst
	n.CollapseKey = "conversation:0f8fad5b-d9cb-469f-a165-70867728950e/with spaces"
	for range 2 {
		if err := s.SendNow(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	msgs := fcm.Messages()
	a, b := msgs[0], msgs[1]
	id, topic := a.APNS.Headers["apns-collapse-id"], a.Webpush.Headers["Topic"]
	if len(id) > 64 || len(topic) > 32 || id == "" || topic == "" {
		t.Errorf("apns-collapse-id %q (max 64), Topic %q (max 32)", id, topic)
	}
	if id != b.APNS.Headers["apns-collapse-id"] || topic != b.Webpush.Headers["Topic"] {
		t.Errorf("collapse ids differ between two notifications of one conversation")
	}
}

func TestSenderPrunesDeadTokens(t *testing.T) {
	reg := prometheus.NewRegistry()
	tokens := newFakeTokens("user-1",
		push.Device{Token: "tok-uninstalled", Platform: push.Android},
		push.Device{Token: "tok-garbage", Platform: push.Web},
		push.Device{Token: "tok-live", Platform: push.IOS})
	s, fcm := newTestSender(t, tokens, testSenderConfig(reg))
	fcm.Unregister("tok-uninstalled")
	fcm.Invalidate("tok-garbage")
	if err := s.SendNow(context.Background(), burst); err != nil {
		t.Fatalf("SendNow: %v (dead tokens are pruned, not errors)", err)
	}
	if got := tokens.Deleted(); !slices.Equal(got, []string{"tok-uninstalled", "tok-garbage"}) {
		t.Errorf("deleted tokens = %v, want the UNREGISTERED and INVALID_ARGUMENT ones", got)
	}
	if msgs := fcm.Messages(); len(msgs) != 1 || msgs[0].Token != "tok-live" {
		t.Errorf("delivered = %+v, want only tok-live", msgs)
	}
	if got := counter(t, reg, "pruned"); got != 2 {
		t.Errorf("pruned counter = %v, want 2", got)
	}
	if fcm.Attempts() != 3 {
		t.Errorf("FCM attempts = %d, want 3 (dead tokens are not retried)", fcm.Attempts())
	}
}

func TestSenderRetriesTemporaryFailures(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusInternalServerError, http.StatusTooManyRequests} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			reg := prometheus.NewRegistry()
			tokens := newFakeTokens("user-1", push.Device{Token: "tok", Platform: push.Android})
			s, fcm := newTestSender(t, tokens, testSenderConfig(reg))
			fcm.FailNext(2, status)
			if err := s.SendNow(context.Background(), burst); err != nil {
				t.Fatalf("SendNow: %v", err)
			}
			if got := fcm.Attempts(); got != 3 {
				t.Errorf("FCM attempts = %d, want 3 (two failures, then success)", got)
			}
			if len(fcm.Messages()) != 1 || len(tokens.Deleted()) != 0 {
				t.Errorf("delivered %d, deleted %v; want 1 delivered, none deleted", len(fcm.Messages()), tokens.Deleted())
			}
			if got := counter(t, reg, "retried"); got != 2 {
				t.Errorf("retried counter = %v, want 2", got)
			}
		})
	}
}

func TestSenderGivesUpAfterMaxAttempts(t *testing.T) {
	reg := prometheus.NewRegistry()
	tokens := newFakeTokens("user-1", push.Device{Token: "tok-flaky", Platform: push.Android})
	cfg := testSenderConfig(reg)
	cfg.MaxAttempts = 3
	s, fcm := newTestSender(t, tokens, cfg)
	fcm.FailNext(10, http.StatusServiceUnavailable)
	if err := s.SendNow(context.Background(), burst); err == nil {
		t.Fatal("SendNow succeeded through a persistent outage")
	}
	if got := fcm.Attempts(); got != 3 {
		t.Errorf("FCM attempts = %d, want MaxAttempts = 3", got)
	}
	if len(tokens.Deleted()) != 0 {
		t.Errorf("a temporary failure pruned %v", tokens.Deleted())
	}
	if got := counter(t, reg, "failed"); got != 1 {
		t.Errorf("failed counter = %v, want 1", got)
	}
}

func TestSenderStopsRetryingWhenContextEnds(t *testing.T) {
	tokens := newFakeTokens("user-1", push.Device{Token: "tok", Platform: push.Android})
	cfg := testSenderConfig(nil)
	cfg.InitialBackoff, cfg.MaxBackoff = time.Hour, time.Hour
	s, fcm := newTestSender(t, tokens, cfg)
	fcm.FailNext(1, http.StatusServiceUnavailable)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.SendNow(ctx, burst); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded from the backoff wait", err)
	}
}

func TestSenderWithoutDevicesSendsNothing(t *testing.T) {
	s, fcm := newTestSender(t, newFakeTokens("someone-else"), testSenderConfig(nil))
	if err := s.SendNow(context.Background(), burst); err != nil {
		t.Fatalf("SendNow: %v", err)
	}
	if fcm.Attempts() != 0 {
		t.Errorf("FCM attempts = %d, want 0", fcm.Attempts())
	}
}

func TestSenderRejectsInvalidNotification(t *testing.T) {
	s, _ := newTestSender(t, newFakeTokens("user-1"), testSenderConfig(nil))
	for name, n := range map[string]push.Notification{
		"no user":       {Title: "t"},
		"no content":    {UserID: "user-1"},
		"reserved data": {UserID: "user-1", Title: "t", Data: map[string]string{"google.x": "1"}},
	} {
		if err := s.SendNow(context.Background(), n); !errors.Is(err, push.ErrInvalidNotification) {
			t.Errorf("SendNow %s: err = %v, want ErrInvalidNotification", name, err)
		}
		if err := s.Notify(context.Background(), n); !errors.Is(err, push.ErrInvalidNotification) {
			t.Errorf("Notify %s: err = %v, want ErrInvalidNotification", name, err)
		}
	}
}
