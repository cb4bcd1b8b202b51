package push

import (
	"context"
	"fmt"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"google.golang.org/api/option"
)

// FCMClient is the slice of firebase-admin-go the Sender uses; the real
// *messaging.Client satisfies it, and so can a test double.
type FCMClient interface {
	Send(ctx context.Context, m *messaging.Message) (string, error)
}

// FCMConfig says how to reach Firebase Cloud Messaging. The zero value is not
// enough: ProjectID and CredentialsJSON are required.
type FCMConfig struct {
	// ProjectID is the Firebase project that owns the app's registrations.
	ProjectID string
	// CredentialsJSON is a Google service-account key file's content. Its
	// token_uri is where the client exchanges a signed JWT for access tokens.
	CredentialsJSON []byte
	// Endpoint is the FCM v1 API base URL. Empty means the real one
	// (https://fcm.googleapis.com/v1); tests pass fcmtest's Endpoint().
	Endpoint string
}

// NewFirebaseClient builds a messaging client authenticated with the
// service-account key in cfg. It returns an error when ProjectID or
// CredentialsJSON is missing or the credentials cannot be parsed; bad but
// well-formed credentials surface on the first Send.
func NewFirebaseClient(ctx context.Context, cfg FCMConfig) (*messaging.Client, error) {
	if cfg.ProjectID == "" || len(cfg.CredentialsJSON) == 0 {
		return nil, fmt.Errorf("push: FCM needs a project id and service-account credentials")
	}
	opts := []option.ClientOption{option.WithAuthCredentialsJSON(option.ServiceAccount, cfg.CredentialsJSON)}
	if cfg.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(cfg.Endpoint))
	}
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: cfg.ProjectID}, opts...)
	if err != nil {
		return nil, fmt.Errorf("push: firebase app: %w", err)
	}
	client, err := app.Messaging(ctx)
	if err != nil {
		return nil, fmt.Errorf("push: firebase messaging client: %w", err)
	}
	return client, nil
}
