package market

import (
	"context"
	"fmt"
	"time"
)

// DeviceMemory is how long a device stays known after its last sign-in of an account.
const DeviceMemory = 365 * 24 * time.Hour

// maxDeviceToken bounds a presented device secret; NewSecret makes 43 characters.
const maxDeviceToken = 128

// KnownDevice reports whether token is the device secret of a browser or app that
// completed a sign-in of the active account with this address within DeviceMemory.
// An empty or oversized token is simply not known. It returns only storage errors.
func (a *Accounts) KnownDevice(ctx context.Context, email, token string) (bool, error) {
	if token == "" || len(token) > maxDeviceToken {
		return false, nil
	}
	return a.store.KnownDevice(ctx, NormalizeEmail(email), HashSecret(token), a.now().Add(-DeviceMemory))
}

// RememberDevice records that the device holding token completed a sign-in of the
// user, and returns the secret the device should keep: token itself when we issued it
// before (one browser may be known to several accounts), a new secret otherwise, so a
// client can never pick its own. It returns only storage and randomness errors.
func (a *Accounts) RememberDevice(ctx context.Context, userID, token string) (string, error) {
	hash := HashSecret(token)
	issued := false
	if token != "" && len(token) <= maxDeviceToken {
		var err error
		if issued, err = a.store.DeviceIssued(ctx, hash); err != nil {
			return "", err
		}
	}
	if !issued {
		var err error
		if token, hash, err = NewSecret(); err != nil {
			return "", err
		}
	}
	if err := a.store.RememberDevice(ctx, userID, hash, a.now()); err != nil {
		return "", fmt.Errorf("remember device: %w", err)
	}
	return token, nil
}
