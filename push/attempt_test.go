package push_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gigstream/hub/push"
)

func TestSendOnceReportsRetryableFailuresWithRetryAfter(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusInternalServerError, http.StatusTooManyRequests} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			tokens := newFakeTokens("user-1", push.Device{Token: "tok", Platform: push.Android})
			s, fcm := newTestSender(t, tokens, testSenderConfig(nil))
			fcm.FailNext(1, status)
			err := s.SendOnce(context.Background(), burst)
			var temp *push.TemporaryError
			if !errors.As(err, &temp) {
				t.Fatalf("err = %v, want a *push.TemporaryError", err)
			}
			if temp.RetryAfter != time.Hour {
				t.Errorf("RetryAfter = %s, want the server's 3600 s", temp.RetryAfter)
			}
			if got := fcm.Attempts(); got != 1 {
				t.Errorf("FCM attempts = %d, want 1 (SendOnce never waits to retry)", got)
			}
			if err := s.SendOnce(context.Background(), burst); err != nil {
				t.Fatalf("second SendOnce: %v", err)
			}
			if len(fcm.Messages()) != 1 || len(tokens.Deleted()) != 0 {
				t.Errorf("delivered %d, deleted %v; want 1 delivered, none deleted", len(fcm.Messages()), tokens.Deleted())
			}
		})
	}
}

func TestSendOncePrunesDeadTokensWithoutError(t *testing.T) {
	tokens := newFakeTokens("user-1",
		push.Device{Token: "tok-dead", Platform: push.Android},
		push.Device{Token: "tok-live", Platform: push.IOS})
	s, fcm := newTestSender(t, tokens, testSenderConfig(nil))
	fcm.Unregister("tok-dead")
	if err := s.SendOnce(context.Background(), burst); err != nil {
		t.Fatalf("SendOnce: %v (a dead token is pruned, not an error)", err)
	}
	if got := tokens.Deleted(); !slices.Equal(got, []string{"tok-dead"}) {
		t.Errorf("deleted = %v, want [tok-dead]", got)
	}
	if msgs := fcm.Messages(); len(msgs) != 1 || msgs[0].Token != "tok-live" {
		t.Errorf("delivered = %+v, want tok-live only", msgs)
	}
}
