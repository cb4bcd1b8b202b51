package main

import (
	"encoding/base64"
	"log/slog"
	"time"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

// twoFactorConfig tunes two-factor authentication.
type twoFactorConfig struct {
	Key       secret        // TWO_FACTOR_KEY: base64 of 32 random bytes sealing TOTP secrets; empty: no enrolment
	StepUpFor time.Duration // TWO_FACTOR_STEP_UP: how long a verified session may move money
}

// loadTwoFactorConfig reads the two-factor settings. Without a key nobody can enrol,
// so no seller can withdraw; serve logs a warning then.
func loadTwoFactorConfig(e *envReader, c *config) {
	c.TwoFactor = twoFactorConfig{
		Key:       secret(e.str("TWO_FACTOR_KEY", "")),
		StepUpFor: e.duration("TWO_FACTOR_STEP_UP", 5*time.Minute, 30*time.Second, time.Hour),
	}
	if k := string(c.TwoFactor.Key); k != "" {
		if raw, err := base64.StdEncoding.DecodeString(k); err != nil || len(raw) != 32 {
			e.fail("TWO_FACTOR_KEY", "base64 of exactly 32 bytes (openssl rand -base64 32)", "")
		}
	}
}

// newTwoFactor builds the two-factor use cases; without a key enrolment answers 503.
func newTwoFactor(cfg config, db *store.DB, log *slog.Logger) *market.TwoFactor {
	var sealer *market.SecretSealer
	if k := string(cfg.TwoFactor.Key); k != "" {
		raw, _ := base64.StdEncoding.DecodeString(k) // checked by loadTwoFactorConfig
		s, err := market.NewSecretSealer(raw)
		if err == nil {
			sealer = s
		}
	} else {
		log.Warn("TWO_FACTOR_KEY is not set: nobody can turn on two-factor authentication, so sellers cannot withdraw")
	}
	return market.NewTwoFactor(db, sealer, market.TwoFactorConfig{StepUpFor: cfg.TwoFactor.StepUpFor}, log)
}
