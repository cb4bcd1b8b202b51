package push

import "context"

// Platform names the kind of app that registered a device token.
type Platform string

// The platforms FCM delivers to.
const (
	Android Platform = "android"
	IOS     Platform = "ios"
	Web     Platform = "web"
)

// Device is one registered FCM registration token of a user.
type Device struct {
	Token      string
	Platform   Platform
	AppVersion string
}

// TokenStore is the storage the Sender needs for device tokens; store/
// implements it over Postgres.
type TokenStore interface {
	// DeviceTokens lists a user's devices; no devices is an empty slice and a
	// nil error.
	DeviceTokens(ctx context.Context, userID string) ([]Device, error)
	// DeleteDeviceToken removes a token FCM declared dead. Deleting a token
	// that is already gone must not be an error.
	DeleteDeviceToken(ctx context.Context, token string) error
}
