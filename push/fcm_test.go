package push_test

import (
	"context"
	"testing"

	"firebase.google.com/go/v4/messaging"
	"github.com/gigstream/hub/push"
	"github.com/gigstream/hub/push/fcmtest"
)

// newFirebaseClient is the production client, pointed at fcmtest with a
// locally generated service-account key, so the OAuth exchange is real.
func newFirebaseClient(t *testing.T, fcm *fcmtest.Server) *messaging.Client {
	t.Helper()
	client, err := push.NewFirebaseClient(context.Background(), push.FCMConfig{
		ProjectID:       fcm.ProjectID(),
		CredentialsJSON: fcm.ServiceAccountJSON(),
		Endpoint:        fcm.Endpoint(),
	})
	if err != nil {
		t.Fatalf("NewFirebaseClient: %v", err)
	}
	return client
}

func TestFirebaseClientAuthenticatesAndSends(t *testing.T) {
	fcm := fcmtest.New(t)
	client := newFirebaseClient(t, fcm)
	name, err := client.Send(context.Background(), &messaging.Message{Token: "tok-1", Data: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if name != "projects/fcmtest-project/messages/1" {
		t.Errorf("name = %q", name)
	}
	if n := fcm.TokenRequests(); n != 1 {
		t.Errorf("OAuth token exchanges = %d, want 1", n)
	}
	if msgs := fcm.Messages(); len(msgs) != 1 || msgs[0].Token != "tok-1" || msgs[0].Data["k"] != "v" {
		t.Errorf("received %+v", msgs)
	}
}
