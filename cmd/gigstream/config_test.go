package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
)

func envFrom(vars map[string]string) *envReader {
	return &envReader{lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
}

func validServeEnv() map[string]string {
	return map[string]string{
		"DATABASE_URL": "postgres://u:hunter2@db:5432/gs?sslmode=disable",
		"REDIS_URL":    "redis://:redispass@cache:6379/0",
		"CLAMD_ADDR":   "tcp://clamd:3310",
		"S3_BUCKET":    "uploads",
		"SMTP_ADDR":    "mail:587",

		"STRIPE_SECRET_KEY":     "sk_test_config",
		"STRIPE_WEBHOOK_SECRET": "whsec_config",
	}
}

func TestServeConfigDefaults(t *testing.T) {
	cfg, err := loadServeConfig(envFrom(validServeEnv()))
	if err != nil {
		t.Fatalf("valid env: %v", err)
	}
	if cfg.HTTPAddr != ":8080" || cfg.BodyLimit != 1<<20 || cfg.ShutdownTimeout != 15*time.Second ||
		cfg.S3.Region != "us-east-1" || cfg.S3.PathStyle || cfg.LogLevel != slog.LevelInfo {
		t.Fatalf("defaults wrong: %+v", cfg)
	}
}

func TestBadConfigNamesTheVariable(t *testing.T) {
	cases := []struct{ name, value, want string }{
		{"DATABASE_URL", "", "DATABASE_URL: expected a postgres or postgresql URL (it is required)"},
		{"DATABASE_URL", "mysql://x", "DATABASE_URL: expected a postgres or postgresql URL"},
		{"REDIS_URL", "localhost:6379", "REDIS_URL: expected"},
		{"CLAMD_ADDR", "clamd:3310", `CLAMD_ADDR: expected tcp://host:port or unix:///path/to/clamd.sock, got "clamd:3310"`},
		{"S3_BUCKET", "", "S3_BUCKET: expected"},
		{"S3_ENDPOINT", "minio:9000", "S3_ENDPOINT: expected an http:// or https:// URL"},
		{"HTTP_BODY_LIMIT", "lots", `HTTP_BODY_LIMIT: expected a whole number from 1024 to 1073741824, got "lots"`},
		{"SHUTDOWN_TIMEOUT", "15", "SHUTDOWN_TIMEOUT: expected a duration"},
		{"LOG_LEVEL", "loud", "LOG_LEVEL: expected one of debug, info, warn, error"},
		{"S3_PATH_STYLE", "maybe", "S3_PATH_STYLE: expected true or false"},
		{"SMTP_ADDR", "", "SMTP_ADDR: expected"},
		{"STRIPE_SECRET_KEY", "", "STRIPE_SECRET_KEY: expected a Stripe secret key"},
		{"STRIPE_SECRET_KEY", "pk_test_publishable", "STRIPE_SECRET_KEY: expected a key starting sk_ or rk_ (value not shown)"},
		{"STRIPE_WEBHOOK_SECRET", "", "STRIPE_WEBHOOK_SECRET: expected the webhook endpoint's signing secret"},
		{"STRIPE_WEBHOOK_SECRET", "secret", "STRIPE_WEBHOOK_SECRET: expected a signing secret starting whsec_"},
		{"STRIPE_API_BASE", "stripe-mock:12111", `STRIPE_API_BASE: expected an http:// or https:// URL, got "stripe-mock:12111"`},
		{"PUBLIC_URL", "gigstream.example", "PUBLIC_URL: expected"},
		{"SESSION_IDLE_TIMEOUT", "forever", "SESSION_IDLE_TIMEOUT: expected a duration"},
		{"RATE_LIMIT_AUTH_PER_MINUTE", "0", "RATE_LIMIT_AUTH_PER_MINUTE: expected a whole number from 1"},
	}
	for _, c := range cases {
		env := validServeEnv()
		env[c.name] = c.value
		_, err := loadServeConfig(envFrom(env))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%q: err = %v, want it to contain %q", c.name, c.value, err, c.want)
		}
		if err != nil && strings.Count(err.Error(), "\n") > 0 {
			t.Errorf("%s: error spans several lines: %q", c.name, err)
		}
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	env := validServeEnv()
	env["S3_ACCESS_KEY"], env["S3_SECRET_KEY"], env["METRICS_TOKEN"] = "AKIA", "s3-secret-value", "metrics-token-value"
	env["SMTP_PASSWORD"], env["OIDC_CLIENT_SECRET"] = "smtp-secret-value", "oidc-secret-value"
	cfg, err := loadServeConfig(envFrom(env))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("listening", "config", cfg.logAttrs(), "token", cfg.MetricsToken)
	out := buf.String() + fmt.Sprintf("%v %+v", cfg, cfg)
	for _, s := range []string{"hunter2", "redispass", "s3-secret-value", "metrics-token-value", "smtp-secret-value", "oidc-secret-value"} {
		if strings.Contains(out, s) {
			t.Errorf("secret %q printed: %s", s, out)
		}
	}
	env["DATABASE_URL"] = "mysql://u:hunter2@db"
	if _, err := loadServeConfig(envFrom(env)); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad DATABASE_URL error leaks or is missing: %v", err)
	}
}

// Every variable serve reads is documented in .env.example, and nothing there is stale.
func TestEnvExampleDocumentsEveryVariable(t *testing.T) {
	raw, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		if name, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			documented[strings.TrimSpace(name)] = true
		}
	}
	e := envFrom(validServeEnv())
	e.read = map[string]bool{}
	if _, err := loadServeConfig(e); err != nil {
		t.Fatal(err)
	}
	if _, err := loadJobsConfig(e); err != nil {
		t.Fatal(err)
	}
	for name := range e.read {
		if !documented[name] {
			t.Errorf("%s is read but not in .env.example", name)
		}
	}
	for name := range documented {
		if !e.read[name] {
			t.Errorf(".env.example documents %s, which serve does not read", name)
		}
	}
}

func TestProductionModeRefusesWhatIsOnlyFineLocally(t *testing.T) {
	env := validServeEnv()
	env["GIGSTREAM_ENV"] = "production"
	for _, step := range []struct{ want, name, fix string }{
		{"MAIL_UNSUBSCRIBE_SECRET: expected a secret of at least 32 characters in production", "MAIL_UNSUBSCRIBE_SECRET", strings.Repeat("u", 32)},
		{"METRICS_TOKEN: expected a bearer token of at least 32 characters in production", "METRICS_TOKEN", strings.Repeat("m", 32)},
		{"PUBLIC_URL: expected an https:// URL in production", "PUBLIC_URL", "https://gigstream.example"},
	} {
		if _, err := loadServeConfig(envFrom(env)); err == nil || !strings.Contains(err.Error(), step.want) {
			t.Errorf("production config error %v, want it to contain %q", err, step.want)
		}
		env[step.name] = step.fix
	}
	cfg, err := loadServeConfig(envFrom(env))
	if err != nil || !cfg.Production {
		t.Fatalf("a complete production config: %v (production %v)", err, cfg.Production)
	}
	env["GIGSTREAM_ENV"] = "prod"
	if _, err := loadServeConfig(envFrom(env)); err == nil || !strings.Contains(err.Error(), "GIGSTREAM_ENV: expected one of development, production") {
		t.Fatalf("unknown GIGSTREAM_ENV: %v", err)
	}
}

func TestDemoSeedRefusesToRunInProduction(t *testing.T) {
	env := map[string]string{"GIGSTREAM_ENV": "production", "DATABASE_URL": "postgres://u@127.0.0.1:1/none?sslmode=disable"}
	err := seed(t.Context(), envFrom(env), slog.New(slog.DiscardHandler))
	if err != errSeedInProduction {
		t.Fatalf("seed in production = %v, want errSeedInProduction", err)
	}
}
