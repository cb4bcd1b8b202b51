package fcmtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"github.com/gigstream/hub/push/fcmtest"
	"google.golang.org/api/option"
)

func TestSendRequiresBearerToken(t *testing.T) {
	srv := fcmtest.New(t)
	body := strings.NewReader(`{"message":{"token":"t"}}`)
	req, _ := http.NewRequest(http.MethodPost, srv.Endpoint()+"/projects/"+srv.ProjectID()+"/messages:send", body)
	req.Header.Set("Authorization", "Bearer made-up")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status = %d, want 401 for a token the server never issued", resp.StatusCode)
	}
	if srv.Attempts() != 0 {
		t.Errorf("unauthenticated request counted as an attempt")
	}
}

func TestTokenRejectsAssertionFromAnotherKey(t *testing.T) {
	srv, other := fcmtest.New(t), fcmtest.New(t)
	// other's key, but claims aimed at srv: the signature cannot verify.
	var sa map[string]string
	json.Unmarshal(other.ServiceAccountJSON(), &sa)
	sa["token_uri"] = srv.URL + "/token"
	sa["client_email"] = "fcm-sender@fcmtest-project.iam.gserviceaccount.com"
	forged, _ := json.Marshal(sa)
	app, err := firebase.NewApp(context.Background(), &firebase.Config{ProjectID: srv.ProjectID()},
		option.WithAuthCredentialsJSON(option.ServiceAccount, forged), option.WithEndpoint(srv.Endpoint()))
	if err != nil {
		t.Fatal(err)
	}
	client, err := app.Messaging(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The client retries failed token fetches as network errors (1s, 2s, 4s):
	// a short deadline keeps the test fast; it must fail either way.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := client.Send(ctx, &messaging.Message{Token: "t"}); err == nil {
		t.Fatal("Send succeeded with a key the server did not issue")
	}
	if srv.TokenRequests() != 0 || srv.Attempts() != 0 {
		t.Errorf("token requests %d, attempts %d; want 0 and 0", srv.TokenRequests(), srv.Attempts())
	}
}

func TestTokenRejectsOtherGrants(t *testing.T) {
	srv := fcmtest.New(t)
	resp, err := http.PostForm(srv.URL+"/token", url.Values{"grant_type": {"client_credentials"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode != http.StatusBadRequest || e.Error != "unsupported_grant_type" {
		t.Fatalf("status %d error %q, want 400 unsupported_grant_type", resp.StatusCode, e.Error)
	}
}

func TestErrorsMatchFirebaseHelpers(t *testing.T) {
	srv := fcmtest.New(t)
	app, err := firebase.NewApp(context.Background(), &firebase.Config{ProjectID: srv.ProjectID()},
		option.WithAuthCredentialsJSON(option.ServiceAccount, srv.ServiceAccountJSON()), option.WithEndpoint(srv.Endpoint()))
	if err != nil {
		t.Fatal(err)
	}
	client, err := app.Messaging(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	srv.Unregister("gone")
	srv.Invalidate("garbage")
	send := func(token string) error {
		_, err := client.Send(context.Background(), &messaging.Message{Token: token})
		return err
	}
	if err := send("gone"); !messaging.IsUnregistered(err) {
		t.Errorf("unregistered token: err = %v, want messaging.IsUnregistered", err)
	}
	if err := send("garbage"); !messaging.IsInvalidArgument(err) {
		t.Errorf("invalid token: err = %v, want messaging.IsInvalidArgument", err)
	}
	srv.FailNext(1, http.StatusServiceUnavailable)
	if err := send("ok"); !messaging.IsUnavailable(err) {
		t.Errorf("503: err = %v, want messaging.IsUnavailable without the client's own slow retries", err)
	}
	srv.FailNext(1, http.StatusTooManyRequests)
	if err := send("ok"); !messaging.IsQuotaExceeded(err) {
		t.Errorf("429: err = %v, want messaging.IsQuotaExceeded", err)
	}
	if got := srv.Attempts(); got != 4 {
		t.Errorf("attempts = %d, want 4 (no client-side retries)", got)
	}
}
