package main

import (
	"strings"
	"testing"
)

func TestPayPalIsOptionalButAllOrNothing(t *testing.T) {
	cfg, err := loadServeConfig(envFrom(validServeEnv()))
	if err != nil || cfg.PayPal.enabled() {
		t.Fatalf("without PAYPAL_*: enabled %v, err %v; want a valid config without PayPal", cfg.PayPal.enabled(), err)
	}
	if p, err := newPayPal(cfg.PayPal, nil); p != nil || err != nil {
		t.Fatalf("newPayPal without config = %v, %v", p, err)
	}
	full := map[string]string{"PAYPAL_CLIENT_ID": "id", "PAYPAL_CLIENT_SECRET": "sec", "PAYPAL_WEBHOOK_ID": "WH-1", "PAYPAL_API_BASE": "http://127.0.0.1:1/"}
	env := validServeEnv()
	for k, v := range full {
		env[k] = v
	}
	if cfg, err := loadServeConfig(envFrom(env)); err != nil || !cfg.PayPal.enabled() || cfg.PayPal.APIBase != "http://127.0.0.1:1" {
		t.Fatalf("full PayPal config: %+v, %v", cfg.PayPal, err)
	}
	for _, c := range []struct{ unset, want string }{
		{"PAYPAL_CLIENT_SECRET", "PAYPAL_CLIENT_SECRET: expected"},
		{"PAYPAL_WEBHOOK_ID", "PAYPAL_WEBHOOK_ID: expected"},
		{"PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_ID: expected"},
	} {
		env := validServeEnv()
		for k, v := range full {
			if k != c.unset {
				env[k] = v
			}
		}
		if _, err := loadServeConfig(envFrom(env)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("without %s: err = %v, want %q", c.unset, err, c.want)
		}
	}
	env["PAYPAL_API_BASE"] = "api-m.paypal.com"
	if _, err := loadServeConfig(envFrom(env)); err == nil || !strings.Contains(err.Error(), "PAYPAL_API_BASE: expected an http") {
		t.Errorf("bad base: %v", err)
	}
}
