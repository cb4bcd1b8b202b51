package main

import (
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/gigstream/hub/market"
)

// config is every setting of the hub, read from the environment only here.
// .env.example documents each variable with its default.
type config struct {
	// Production is GIGSTREAM_ENV=production: the checks a real deployment must pass
	// become mandatory (see loadProductionRules) and the demo seed refuses to run.
	Production      bool
	HTTPAddr        string
	DatabaseURL     secret
	DBPool          dbPoolConfig
	RedisURL        secret
	ClamdAddr       string
	S3              s3Config
	LogLevel        slog.Level
	BodyLimit       int
	ShutdownTimeout time.Duration
	StartupTimeout  time.Duration
	CheckTimeout    time.Duration
	MetricsToken    secret
	PprofAddr       string // empty: no profiling listener
	// GCPercent is the garbage collector's GOGC when the environment sets none
	// (defaultGCPercent); 0 when GOGC is set, which Go's runtime then reads itself.
	GCPercent int

	PublicURL      string
	TrustedProxies []string
	AllowedOrigins []string
	ForceHTTPS     bool
	SessionIdle    time.Duration
	SessionMaxAge  time.Duration
	Argon2MemoryKB int
	// Argon2Lanes is argon2id's parallelism for new hashes (see market.HasherConfig).
	Argon2Lanes int
	// Argon2SlotWait bounds the wait for a password-hashing slot (503 past it).
	Argon2SlotWait time.Duration
	RateLimits     rateLimits
	Budgets        routeBudgets
	SocketBudgets  socketBudgets
	SMTP           smtpConfig
	Mail           mailConfig
	OIDC           oidcConfig

	PublishAPIKey  secret
	EventRetention time.Duration
	PresenceGrace  time.Duration
	// SearchMaxLag is how stale the node's search index may be when a search starts
	// (SEARCH_MAX_LAG, default 0: each search first reads what was committed before it).
	SearchMaxLag time.Duration
	// GigViewFlushInterval is how often a node adds its counted gig views to the
	// database (GIG_VIEW_FLUSH_INTERVAL, default 10 s).
	GigViewFlushInterval time.Duration
	RedisShardedPubSub   bool
	RedisClusterAddrs    []string // seed nodes of a Redis Cluster; empty: the one Redis of REDIS_URL
	WSMaxFrameBytes      int
	WSSendQueueBytes     int
	WSTokenSecret        secret        // signs connection tokens; empty: tokens off
	WSTokenTTL           time.Duration // how long a connection token is valid
	RecoveryKeep         string        // kept durable events in Redis for recoveries: on, write or off

	MaxMessageLength  int
	MessageEditWindow time.Duration
	PushDelay         time.Duration
	MessagesPerMinute int
	FCM               fcmConfig

	Uploads    uploadConfig
	Images     imageConfig // image variants and public media
	Stripe     stripeConfig
	PayPal     paypalConfig
	Settlement settlementConfig
	Payout     payoutConfig
	TwoFactor  twoFactorConfig
	Billing    market.BillingConfig // service fee, tax rates, invoice issuer
	// Notifications tunes the router of order notifications.
	Notifications notificationsConfig
	// Telemetry is error reporting (Sentry).
	Telemetry telemetryConfig
	// LedgerCheck is the periodic ledger check behind the drift gauges.
	LedgerCheck ledgerCheckConfig
	// Reconciliation compares the ledger with Stripe's records.
	Reconciliation reconciliationConfig
	// Analytics is product analytics through GA4's Measurement Protocol.
	Analytics analyticsConfig
}

// dbPoolConfig sizes the database connection pool and bounds the wait for one of its
// connections (store.Config).
type dbPoolConfig struct {
	MaxOpen, MaxIdle int
	ConnMaxLifetime  time.Duration
	AcquireTimeout   time.Duration
	LockTimeout      time.Duration
}

// fcmConfig points push at Firebase Cloud Messaging; an empty ProjectID turns push off.
type fcmConfig struct{ ProjectID, CredentialsFile, Endpoint string }

// rateLimits are the request budgets per minute (failed logins per 15 minutes).
type rateLimits struct {
	PerIP, PerUser, Auth, FailedLogins, FailedLoginsPerAccount, AccountChanges int
}

// smtpConfig points the hub at the mail submission server.
type smtpConfig struct {
	Addr, From, Username string
	Password             secret
	StartTLS             bool
}

// oidcConfig configures Google sign-in (any OpenID Connect provider).
type oidcConfig struct {
	Issuer, ClientID, RedirectURL string
	ClientSecret                  secret
}

// s3Config points the hub at an S3-compatible object store.
type s3Config struct {
	Endpoint  string // empty means AWS itself
	Region    string
	Bucket    string
	AccessKey string
	SecretKey secret // with AccessKey; both empty means the SDK's default chain
	PathStyle bool
}

// loadDatabaseConfig reads what the migrate and seed commands need.
func loadDatabaseConfig(e *envReader) config {
	maxOpen := e.integer("DB_MAX_OPEN", 20, 2, 10_000)
	return config{
		Production:  e.oneOf("GIGSTREAM_ENV", "development", "development", "production") == "production",
		DatabaseURL: e.url("DATABASE_URL", "postgres", "postgresql"),
		DBPool: dbPoolConfig{
			MaxOpen:         maxOpen,
			MaxIdle:         e.integer("DB_MAX_IDLE", maxOpen, 0, 10_000),
			ConnMaxLifetime: e.duration("DB_CONN_MAX_LIFETIME", 30*time.Minute, time.Second, 24*time.Hour),
			AcquireTimeout:  e.duration("DB_ACQUIRE_TIMEOUT", 10*time.Second, 10*time.Millisecond, 5*time.Minute),
			LockTimeout:     e.duration("DB_LOCK_TIMEOUT", 5*time.Second, 10*time.Millisecond, 10*time.Minute),
		},
		LogLevel:       logLevel(e),
		StartupTimeout: e.duration("STARTUP_TIMEOUT", 30*time.Second, time.Second, 10*time.Minute),
	}
}

// loadServeConfig reads everything serve needs and returns the first problem found.
func loadServeConfig(e *envReader) (config, error) {
	c := loadDatabaseConfig(e)
	c.HTTPAddr = e.str("HTTP_ADDR", ":8080")
	c.RedisURL = e.url("REDIS_URL", "redis", "rediss", "unix")
	c.RedisClusterAddrs = redisClusterAddrs(e)
	c.ClamdAddr = clamdAddr(e)
	c.S3 = loadS3Config(e)
	c.BodyLimit = e.integer("HTTP_BODY_LIMIT", 1<<20, 1<<10, 1<<30)
	c.ShutdownTimeout = e.duration("SHUTDOWN_TIMEOUT", 15*time.Second, time.Second, 10*time.Minute)
	c.CheckTimeout = e.duration("READY_CHECK_TIMEOUT", 2*time.Second, 100*time.Millisecond, time.Minute)
	c.MetricsToken = secret(e.str("METRICS_TOKEN", ""))
	c.PprofAddr = e.str("PPROF_ADDR", "")
	c.GCPercent = gcPercent()
	loadAccountConfig(e, &c)
	loadBudgetConfig(e, &c)
	loadSocketBudgetConfig(e, &c)
	loadRealtimeConfig(e, &c)
	loadUploadConfig(e, &c)
	loadImageConfig(e, &c)
	loadStripeConfig(e, &c)
	loadPayPalConfig(e, &c)
	loadSettlementConfig(e, &c)
	loadPayoutConfig(e, &c)
	loadTwoFactorConfig(e, &c)
	loadBillingConfig(e, &c)
	loadNotificationsConfig(e, &c)
	loadMailConfig(e, &c)
	loadTelemetryConfig(e, &c)
	loadLedgerCheckConfig(e, &c)
	loadReconciliationConfig(e, &c)
	loadAnalyticsConfig(e, &c)
	loadProductionRules(e, &c)
	return c, e.err
}

// loadProductionRules refuses, in production mode, settings that are fine on a laptop
// and dangerous on the internet: /metrics without a token (it names routes, users'
// traffic and internals) and a public URL that is not HTTPS (session cookies are
// Secure, so sign-in would not work anyway). The clamd limits probe runs at start-up.
func loadProductionRules(e *envReader, c *config) {
	if !c.Production {
		return
	}
	if len(c.MetricsToken) < 32 {
		e.fail("METRICS_TOKEN", "a bearer token of at least 32 characters in production (GIGSTREAM_ENV=production)", "")
	}
	if !strings.HasPrefix(c.PublicURL, "https://") {
		e.fail("PUBLIC_URL", "an https:// URL in production (GIGSTREAM_ENV=production)", c.PublicURL)
	}
}

// loadRealtimeConfig reads the settings of the WebSocket hub and its event stream.
func loadRealtimeConfig(e *envReader, c *config) {
	c.PublishAPIKey = secret(e.str("PUBLISH_API_KEY", ""))
	if k := string(c.PublishAPIKey); k != "" && len(k) < 32 {
		e.fail("PUBLISH_API_KEY", "at least 32 characters (value not shown)", "")
	}
	c.EventRetention = e.duration("EVENT_RETENTION", 7*24*time.Hour, time.Hour, 365*24*time.Hour)
	c.PresenceGrace = e.duration("PRESENCE_GRACE", 10*time.Second, 0, 10*time.Minute)
	c.SearchMaxLag = e.duration("SEARCH_MAX_LAG", 0, 0, time.Minute)
	c.GigViewFlushInterval = e.duration("GIG_VIEW_FLUSH_INTERVAL", 10*time.Second, 100*time.Millisecond, 10*time.Minute)
	c.RedisShardedPubSub = e.boolean("REDIS_SHARDED_PUBSUB", false)
	c.WSMaxFrameBytes = e.integer("WS_MAX_FRAME_BYTES", 64<<10, 1<<10, 16<<20)
	c.WSSendQueueBytes = e.integer("WS_SEND_QUEUE_BYTES", 1<<20, 16<<10, 64<<20)
	c.WSTokenSecret = secret(e.str("WS_TOKEN_SECRET", ""))
	if k := string(c.WSTokenSecret); k != "" && len(k) < 32 {
		e.fail("WS_TOKEN_SECRET", "at least 32 characters (value not shown)", "")
	}
	c.WSTokenTTL = e.duration("WS_TOKEN_TTL", 10*time.Minute, time.Minute, 24*time.Hour)
	c.RecoveryKeep = e.oneOf("RECOVERY_KEPT_EVENTS", "on", "on", "write", "off")
	loadChatConfig(e, c)
}

// loadChatConfig reads the chat and push settings.
func loadChatConfig(e *envReader, c *config) {
	c.MaxMessageLength = e.integer("MESSAGE_MAX_LENGTH", 4000, 1, 100_000)
	c.MessageEditWindow = e.duration("MESSAGE_EDIT_WINDOW", 15*time.Minute, 0, 30*24*time.Hour)
	c.PushDelay = e.duration("PUSH_DELAY", 3*time.Second, 100*time.Millisecond, time.Minute)
	c.MessagesPerMinute = e.integer("RATE_LIMIT_MESSAGES_PER_MINUTE", 120, 1, 10_000_000)
	c.FCM = fcmConfig{
		ProjectID:       e.str("FCM_PROJECT_ID", ""),
		CredentialsFile: e.str("FCM_CREDENTIALS_FILE", ""),
		Endpoint:        e.str("FCM_ENDPOINT", ""),
	}
	if c.FCM.ProjectID != "" && c.FCM.CredentialsFile == "" {
		e.fail("FCM_CREDENTIALS_FILE", "the path of a service-account JSON key when FCM_PROJECT_ID is set", "")
	}
}

// loadPasswordHashing reads argon2id's settings for new password hashes (serve and
// bootstrap hash alike).
func loadPasswordHashing(e *envReader, c *config) {
	c.Argon2MemoryKB = e.integer("ARGON2_MEMORY_KIB", 19*1024, 8*1024, 1024*1024)
	c.Argon2Lanes = e.integer("ARGON2_LANES", 2, 1, 16)
	c.Argon2SlotWait = e.duration("ARGON2_SLOT_WAIT", 5*time.Second, 10*time.Millisecond, time.Minute)
}

// loadAccountConfig reads the settings of accounts, sessions and the security baseline.
func loadAccountConfig(e *envReader, c *config) {
	c.PublicURL = strings.TrimRight(e.str("PUBLIC_URL", "http://localhost:8080"), "/")
	if !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		e.fail("PUBLIC_URL", "the site's http:// or https:// base URL", c.PublicURL)
	}
	c.TrustedProxies = e.list("TRUSTED_PROXIES")
	c.AllowedOrigins = e.list("ALLOWED_ORIGINS")
	c.ForceHTTPS = e.boolean("FORCE_HTTPS", false)
	c.SessionIdle = e.duration("SESSION_IDLE_TIMEOUT", 72*time.Hour, time.Second, 90*24*time.Hour)
	c.SessionMaxAge = e.duration("SESSION_MAX_AGE", 30*24*time.Hour, time.Minute, 365*24*time.Hour)
	loadPasswordHashing(e, c)
	c.RateLimits = rateLimits{
		PerIP:                  e.integer("RATE_LIMIT_IP_PER_MINUTE", 600, 1, 1_000_000),
		PerUser:                e.integer("RATE_LIMIT_USER_PER_MINUTE", 1200, 1, 1_000_000),
		Auth:                   e.integer("RATE_LIMIT_AUTH_PER_MINUTE", 10, 1, 1_000_000),
		FailedLogins:           e.integer("RATE_LIMIT_FAILED_LOGINS", 5, 1, 1000),
		FailedLoginsPerAccount: e.integer("RATE_LIMIT_FAILED_LOGINS_PER_ACCOUNT", 100, 1, 1_000_000),
		AccountChanges:         e.integer("RATE_LIMIT_ACCOUNT_CHANGES_PER_HOUR", 10, 1, 1_000_000),
	}
	c.SMTP = smtpConfig{
		Addr:     e.required("SMTP_ADDR", "the mail submission server as host:port"),
		From:     e.str("SMTP_FROM", "GigStream <no-reply@localhost>"),
		Username: e.str("SMTP_USERNAME", ""),
		Password: secret(e.str("SMTP_PASSWORD", "")),
		StartTLS: e.boolean("SMTP_STARTTLS", false),
	}
	c.OIDC = oidcConfig{
		Issuer:       e.str("OIDC_ISSUER", "https://accounts.google.com"),
		ClientID:     e.str("OIDC_CLIENT_ID", ""),
		ClientSecret: secret(e.str("OIDC_CLIENT_SECRET", "")),
		RedirectURL:  e.str("OIDC_REDIRECT_URL", c.PublicURL+"/auth/google/callback"),
	}
}

func loadS3Config(e *envReader) s3Config {
	c := s3Config{
		Endpoint:  e.str("S3_ENDPOINT", ""),
		Region:    e.str("S3_REGION", "us-east-1"),
		Bucket:    e.required("S3_BUCKET", "the name of the private bucket for uploads"),
		AccessKey: e.str("S3_ACCESS_KEY", ""),
		SecretKey: secret(e.str("S3_SECRET_KEY", "")),
	}
	c.PathStyle = e.boolean("S3_PATH_STYLE", c.Endpoint != "")
	if c.Endpoint != "" && !strings.HasPrefix(c.Endpoint, "http://") && !strings.HasPrefix(c.Endpoint, "https://") {
		e.fail("S3_ENDPOINT", "an http:// or https:// URL", c.Endpoint)
	}
	if (c.AccessKey == "") != (c.SecretKey == "") {
		e.fail("S3_SECRET_KEY", "to be set together with S3_ACCESS_KEY (or neither, for the SDK's default credentials)", "")
	}
	return c
}

// clamdAddr reads CLAMD_ADDR in go-clamd's form: tcp://host:port or unix:///path.
func clamdAddr(e *envReader) string {
	v := e.required("CLAMD_ADDR", "tcp://host:port or unix:///path/to/clamd.sock")
	if v != "" && !strings.HasPrefix(v, "tcp://") && !strings.HasPrefix(v, "unix://") {
		e.fail("CLAMD_ADDR", "tcp://host:port or unix:///path/to/clamd.sock", v)
	}
	return v
}

func logLevel(e *envReader) slog.Level {
	levels := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
	return levels[e.oneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error")]
}

// logAttrs describes the configuration for the start-up log line; secrets show as
// [redacted] through their LogValue.
func (c config) logAttrs() slog.Value {
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr),
		slog.Any("database_url", c.DatabaseURL),
		slog.Any("redis_url", c.RedisURL),
		slog.String("clamd_addr", c.ClamdAddr),
		slog.String("s3_endpoint", c.S3.Endpoint),
		slog.String("s3_bucket", c.S3.Bucket),
		slog.String("stripe_api_base", c.Stripe.APIBase),
		slog.Int("body_limit", c.BodyLimit),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
	)
}

// redisClusterAddrs reads REDIS_CLUSTER_ADDRS: host:port seed nodes of a Redis Cluster.
func redisClusterAddrs(e *envReader) []string {
	addrs := e.list("REDIS_CLUSTER_ADDRS")
	for _, a := range addrs {
		if host, port, err := net.SplitHostPort(a); err != nil || host == "" || port == "" {
			e.fail("REDIS_CLUSTER_ADDRS", "host:port addresses separated by commas", a)
		}
	}
	return addrs
}
