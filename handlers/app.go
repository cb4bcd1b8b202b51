package handlers

import (
	"cmp"
	"context"
	"crypto/subtle"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/gigstream/hub/docs"
	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/media/tus"
)

// Config tunes the HTTP layer. The zero value means the documented defaults.
type Config struct {
	BodyLimit    int           // largest request body in bytes; default 1 MiB
	ReadTimeout  time.Duration // default 30 s
	WriteTimeout time.Duration // default 30 s
	IdleTimeout  time.Duration // keep-alive idle time; default 120 s
	CheckTimeout time.Duration // per readiness probe; default 2 s
	MetricsToken string        // when set, /metrics requires this bearer token

	TrustedProxies []string     // CIDRs whose X-Forwarded-For/-Proto are believed; default none
	AllowedOrigins []string     // origins allowed for CORS (with credentials) and writes; default none but our own
	ForceHTTPS     bool         // redirect plain HTTP to HTTPS
	RateLimits     RateLimits   // request budgets
	Budgets        RouteBudgets // budgets of the routes that cost money or CPU
	OIDC           OIDCConfig   // Google sign-in; off when ClientID is empty
	PublishAPIKey  string       // bearer key of POST /api/publish; empty refuses every call
	// MailBounceToken is the bearer token of POST /webhooks/mail-bounce; empty turns the
	// hook off (404).
	MailBounceToken string
	// SocketsPerUser and SocketsPerAddress cap the sockets open on this node per user
	// and per client address (an IPv6 /64); default 20 and 200.
	SocketsPerUser, SocketsPerAddress int
	// FaultRoutes adds GET /debug/fault/panic and /debug/fault/error, test hooks that
	// fail on purpose so error reporting can be checked end to end. Never in production.
	FaultRoutes bool

	UploadIdleTimeout time.Duration // longest pause between bytes of an upload body; default 60 s
	UploadStreams     UploadStreams // caps on upload bodies in flight and their minimum rate
	UploadMaxSize     int64         // Tus-Max-Size: the largest upload of any kind
	// MediaCDNMaxAge is how long a CDN may keep a public variant before asking again
	// (CDN-Cache-Control, Surrogate-Control); 0 means 5 minutes.
	MediaCDNMaxAge time.Duration
	MediaStreams   int // public variants streamed at once per node; 0 means 256
}

// Deps are the collaborators the routes use, built in cmd/.
type Deps struct {
	Log      *slog.Logger
	Registry *prometheus.Registry  // receives the HTTP metrics and serves /metrics
	Checks   []Check               // readiness probes, one per dependency
	Accounts *market.Accounts      // account use cases
	Redis    redis.UniversalClient // rate limits and sign-in state; nil turns rate limits off (unit tests)
	Realtime *market.Realtime      // channel rules and the publish API
	Chat     *market.Chat          // conversations and messages
	Gigs     *market.Gigs          // the catalogue
	// Favorites are the gigs users keep; SavedSearches the searches they are told about.
	Favorites *market.Favorites
	// AbuseReports are users' reports of gigs, messages and profiles, and the admins' queue.
	AbuseReports *market.AbuseReports
	// RefundsOwed are what the platform owes buyers outside the provider, and its payment.
	RefundsOwed   *market.RefundsOwed
	SavedSearches *market.SavedSearches
	Reviews       *market.Reviews  // reviews of completed orders and their insights
	Profiles      *market.Profiles // public profiles and the details of /me
	// Dashboard is the sellers' private figures; GigViews counts views of gig pages.
	Dashboard *market.Dashboard
	GigViews  *market.GigViews
	WebApp    fs.FS              // the browser client's files, served under /app/; nil serves none
	Uploads   *market.Uploads    // upload rows, authorization and downloads; nil serves no upload routes
	Images    *market.Images     // public image variants at /media/; nil answers 404
	Orders    *market.Orders     // orders, payment webhooks, deliveries
	Settle    *market.Settlement // accept, cancel, refund, balances and withdrawals
	Payouts   *market.Payouts    // payout methods, Stripe Connect webhooks
	Disputes  *market.Disputes   // open, answer, withdraw and read an order's dispute
	Audit     *market.Audit      // the ledger statement, the admins' order queue and ledger check
	// Reconciliation compares the ledger with the providers' records.
	Reconciliation *market.Reconciliation
	// Billing is billing profiles, the buyer's quote (service fee and tax) and invoices.
	Billing *market.Billing
	// Invoices are the orders' invoices and credit notes and their PDFs.
	Invoices *market.Invoices
	// TwoFactor is TOTP two-factor authentication and the step-up of money moves.
	TwoFactor *market.TwoFactor
	Tus       *tus.Engine  // resumable uploads on /uploads/tus/
	Sockets   SocketServer // runs an admitted WebSocket (the hub)
	// SocketTokens issues and checks connection tokens; nil turns them off.
	SocketTokens SocketTokens
	// SocketsCtx ends when the node shuts down; sockets are served under it.
	SocketsCtx context.Context
	// Notifications lists and marks the caller's notifications and keeps their switches.
	Notifications *market.Notifications
	// Mail is one-click unsubscribe, the bounce and complaint reports, and whether the
	// caller's address is suppressed (GET /me).
	Mail *market.MailDelivery
	// Tracer starts a span per request (OpenTelemetry); nil starts none.
	Tracer trace.TracerProvider
	// Faults receives server faults (5xx answers, panics) for error tracking; nil
	// reports nothing.
	Faults FaultReporter
	// Conversions receives sign-ups and gig views for product analytics; nil records none.
	Conversions Conversions
}

// New builds the Fiber app with every middleware and route. It fails only on a
// malformed TrustedProxies entry.
func New(cfg Config, d Deps) (*fiber.App, error) {
	px, err := parseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	app := fiber.New(fiber.Config{
		AppName:               "gigstream",
		BodyLimit:             cmp.Or(cfg.BodyLimit, 1<<20),
		ReadTimeout:           cmp.Or(cfg.ReadTimeout, 30*time.Second),
		WriteTimeout:          cmp.Or(cfg.WriteTimeout, 30*time.Second),
		IdleTimeout:           cmp.Or(cfg.IdleTimeout, 120*time.Second),
		ErrorHandler:          errorHandler(d.Log, d.Faults),
		DisableStartupMessage: true,
		// Frees fasthttp's per-connection read buffer while a connection idles, which
		// is most of the memory of an idle WebSocket.
		ReduceMemoryUsage: true,
		// Upload bodies stream through the media pipeline instead of being buffered;
		// limitBody enforces BodyLimit on every other route.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
	})
	metrics := newHTTPMetrics(d.Registry)
	app.Use(withRequestID, px.middleware)
	if d.Tracer != nil {
		app.Use(withTracing(d.Tracer))
	}
	app.Use(withAccessLog(d.Log), metrics.middleware)
	app.Use(recoverPanics, securityHeaders, limitBody(cmp.Or(cfg.BodyLimit, 1<<20)))
	if cfg.ForceHTTPS {
		app.Use(redirectToHTTPS)
	}
	if len(cfg.AllowedOrigins) > 0 {
		app.Use(cors.New(cors.Config{
			AllowOrigins: strings.Join(cfg.AllowedOrigins, ","), AllowCredentials: true,
			AllowHeaders:  "Content-Type, Authorization, X-CSRF-Token, X-Device-Key, Idempotency-Key, " + tusRequestHeaders,
			ExposeHeaders: "X-Request-Id, Retry-After, " + tusResponseHeaders, MaxAge: 600,
		}))
	}
	routes(app, cfg, d)
	app.Use(notFound)
	return app, nil
}

const localUnmatched = "unmatched"

// notFound answers any request no route took.
func notFound(c *fiber.Ctx) error {
	c.Locals(localUnmatched, true)
	return newProblem(fiber.StatusNotFound, "No route matches "+c.Method()+" "+c.Path()+".")
}

// routes lists every route of the hub; docs/openapi.yaml must describe each one.
func routes(app *fiber.App, cfg Config, d Deps) {
	app.Get("/healthz", healthz)
	app.Get("/readyz", readyz(d.Checks, cmp.Or(cfg.CheckTimeout, 2*time.Second), cfg.MetricsToken))
	app.Get("/metrics", requireBearer(cfg.MetricsToken), metricsHandler(d.Registry))
	app.Get("/openapi.yaml", openAPI)
	app.Get("/", landing(d.WebApp != nil))
	if d.WebApp != nil {
		app.Use("/app", filesystem.New(filesystem.Config{Root: http.FS(d.WebApp), Index: "index.html", MaxAge: 300}))
	}

	// Server-to-server: a key, not a session, so it skips session lookup and the
	// per-address budgets that protect the public routes.
	pub := &publishRoutes{realtime: d.Realtime, apiKey: cfg.PublishAPIKey, log: d.Log}
	app.Post("/api/publish", pub.requireAPIKey, pub.publish)
	limits, budgets := cfg.RateLimits.withDefaults(), cfg.Budgets.withDefaults()
	rl := &rateLimiter{lim: newLimiter(d.Redis), limits: limits, log: d.Log}
	// Per address before anything else: verifying a PayPal webhook is a call to PayPal.
	hooks := &paymentRoutes{orders: d.Orders, log: d.Log, metrics: newPaymentMetrics(d.Registry)}
	webhookBudget := rl.perIP("webhook", budgets.Webhooks)
	app.Post("/webhooks/stripe", webhookBudget, hooks.stripe)
	app.Post("/webhooks/paypal", webhookBudget, hooks.paypal)
	payouts := &payoutRoutes{payouts: d.Payouts, settlement: d.Settle, log: d.Log}
	app.Post("/webhooks/stripe/connect", webhookBudget, payouts.connectWebhook)
	// Mail: bounces from our inbound MTA, and one-click unsubscribe from mail clients,
	// which carry neither a session nor a CSRF token: the token in the URL is signed.
	reports := &mailReportRoutes{mail: d.Mail, token: cfg.MailBounceToken, log: d.Log}
	app.Post("/webhooks/mail-bounce", webhookBudget, reports.requireToken, reports.report)
	unsub := &mailUnsubscribeRoutes{mail: d.Mail}
	app.Get("/unsubscribe", webhookBudget, unsub.confirm)
	app.Post("/unsubscribe", webhookBudget, unsub.unsubscribe)

	sess := &sessions{accounts: d.Accounts, log: d.Log, origins: setOf(cfg.AllowedOrigins)}
	ws := &sockets{serve: d.Sockets, rdb: d.Redis, origins: setOf(cfg.AllowedOrigins), log: d.Log, ctx: d.SocketsCtx, faults: orNoFaults(d.Faults),
		pool: &sync.Pool{}, tokens: d.SocketTokens, upgrades: newAddressBudget(limits.PerIP),
		caps: newSocketCaps(cfg.SocketsPerUser, cfg.SocketsPerAddress)}
	ws.upgradeHandler = ws.upgrade()
	// A socket opened with a connection token needs no session and no shared budget.
	app.Get("/ws", ws.admitToken)
	// The front door spends a search's budget beside the address's or the user's, in
	// one Redis round trip; searchBudget below spends it only when the door did not.
	door := newFrontDoor(rl, d.Redis, budgets.Search, budgets.Messages)
	app.Use(door.perIP(limits.PerIP), sess.authenticate, door.perUser(limits.PerUser), sess.csrf)
	if cfg.FaultRoutes {
		faultRoutes(app)
	}

	auth := &authRoutes{accounts: d.Accounts, throttle: &loginThrottle{rdb: d.Redis, limits: limits, log: d.Log}, log: d.Log,
		conversions: orNoConversions(d.Conversions)}
	throttled := rl.authPerIP("auth", limits.Auth)
	app.Post("/auth/register", throttled, auth.register)
	app.Post("/auth/login", throttled, auth.login)
	app.Post("/auth/tokens", throttled, auth.createToken)
	app.Get("/auth/session", requireUser, auth.currentSessionInfo)
	app.Post("/auth/logout", requireUser, auth.logout)
	app.Post("/auth/logout-all", requireUser, auth.logoutAll)
	app.Post("/auth/verify-email", throttled, auth.verifyEmail)
	app.Post("/auth/verify-email/resend", requireUser, throttled, auth.resendVerification)
	app.Post("/auth/password-reset", throttled, auth.requestPasswordReset)
	app.Post("/auth/password-reset/confirm", throttled, auth.confirmPasswordReset)
	app.Post("/auth/email-change/confirm", throttled, auth.confirmEmailChange)

	oidc := &oidcSignIn{cfg: cfg.OIDC.withDefaults(), accounts: d.Accounts, rdb: d.Redis, log: d.Log}
	app.Get("/auth/google/start", throttled, oidc.start)
	app.Get("/auth/google/callback", throttled, oidc.callback)

	app.Post("/ws/ticket", requireUser, ws.issueTicket)
	app.Post("/ws/token", requireUser, ws.issueToken)
	app.Get("/ws", ws.admit, ws.upgradeHandler)

	chat := &chatRoutes{chat: d.Chat}
	app.Post("/conversations", requireUser, rl.userBudget("conversation", budgets.Conversations, time.Minute), chat.open)
	app.Get("/conversations", requireUser, chat.list)
	app.Get("/conversations/:id", requireUser, chat.show)
	app.Get("/conversations/:id/messages", requireUser, chat.history)
	app.Post("/conversations/:id/messages", requireUser, chat.send)
	app.Patch("/conversations/:id/messages/:messageID", requireUser, chat.edit)
	app.Delete("/conversations/:id/messages/:messageID", requireUser, chat.remove)
	app.Post("/conversations/:id/read", requireUser, chat.read)
	app.Put("/conversations/:id/mute", requireUser, chat.mute)
	app.Delete("/conversations/:id/mute", requireUser, chat.unmute)
	app.Put("/blocks/:userID", requireUser, chat.block)
	app.Delete("/blocks/:userID", requireUser, chat.unblock)
	app.Get("/me/devices", requireUser, chat.listDevices)
	app.Post("/me/devices", requireUser, chat.registerDevice)
	app.Delete("/me/devices", requireUser, chat.removeDevice)

	notifications := &notificationRoutes{notifications: d.Notifications}
	app.Get("/me/notifications", requireUser, notifications.settings)
	app.Put("/me/notifications", requireUser, notifications.setSettings)
	app.Get("/me/notification-preferences", requireUser, notifications.prefs)
	app.Put("/me/notification-preferences", requireUser, notifications.setPrefs)
	app.Get("/notifications", requireUser, notifications.list)
	app.Post("/notifications/read", requireUser, notifications.markRead)

	orders := &orderRoutes{orders: d.Orders}
	app.Post("/orders", requireUser, rl.userBudget("order", budgets.Orders, time.Minute), orders.place)
	app.Get("/orders", requireUser, orders.list)
	app.Get("/orders/:id", requireUser, orders.show)
	app.Post("/orders/:id/deliveries", requireUser, orders.deliver)
	app.Get("/orders/:id/deliveries", requireUser, orders.deliveries)
	app.Post("/orders/:id/revision", requireUser, orders.revision)
	app.Post("/orders/:id/paypal/capture", requireUser, orders.capturePayPal)
	settle := &settleRoutes{settlement: d.Settle}
	app.Post("/orders/:id/accept", requireUser, settle.accept)
	app.Post("/orders/:id/cancel", requireUser, settle.cancel)
	app.Post("/orders/:id/refund", requireUser, settle.refund)
	app.Get("/me/balance", requireUser, settle.balance)
	twoFactor := &twoFactorRoutes{twoFactor: d.TwoFactor}
	app.Get("/me/withdrawals", requireUser, settle.withdrawals)
	app.Post("/me/withdrawals", requireUser, twoFactor.stepUp, settle.withdraw)
	app.Get("/me/payout-method", requireUser, payouts.method)
	app.Put("/me/payout-method", requireUser, twoFactor.stepUp, payouts.setMethod)
	app.Post("/me/payout-method/onboarding", requireUser, twoFactor.stepUp, payouts.onboarding)
	app.Get("/admin/withdrawals", requireUser, payouts.reviewQueue)
	app.Post("/admin/withdrawals/:id/approve", requireUser, payouts.approve)
	app.Post("/admin/withdrawals/:id/reject", requireUser, payouts.reject)
	disputes := &disputeRoutes{disputes: d.Disputes, settlement: d.Settle}
	app.Post("/orders/:id/dispute", requireUser, disputes.open)
	app.Get("/orders/:id/dispute", requireUser, disputes.show)
	app.Post("/orders/:id/dispute/response", requireUser, disputes.answer)
	app.Post("/orders/:id/dispute/withdraw", requireUser, disputes.withdraw)
	app.Post("/orders/:id/dispute/resolve", requireUser, disputes.resolve)
	billing := &billingRoutes{billing: d.Billing}
	app.Get("/me/billing-profile", requireUser, billing.profile)
	app.Put("/me/billing-profile", requireUser, billing.setProfile)
	app.Get("/gigs/:id/quote", requireUser, billing.quote)
	invoices := &invoiceRoutes{invoices: d.Invoices}
	app.Get("/orders/:id/invoices", requireUser, invoices.list)
	app.Get("/invoices/:id/pdf", requireUser, invoices.pdf)
	audit := &auditRoutes{audit: d.Audit}
	app.Get("/me/ledger", requireUser, audit.ledger)
	app.Get("/admin/orders", requireUser, audit.adminOrders)
	app.Get("/admin/ledger/check", requireUser, audit.ledgerCheck)
	app.Get("/admin/provider-events", requireUser, audit.providerEvents)
	rec := &reconciliationRoutes{rec: d.Reconciliation}
	app.Get("/admin/reconciliation/differences", requireUser, rec.differences)
	app.Post("/admin/reconciliation/runs", requireUser, rec.run)
	owed := &refundOwedRoutes{refunds: d.RefundsOwed}
	app.Get("/admin/refunds-owed", requireUser, owed.list)
	app.Post("/admin/orders/:id/refund-owed-payments", requireUser, owed.pay)

	me := &accountRoutes{accounts: d.Accounts, profiles: d.Profiles, mail: d.Mail, log: d.Log}
	app.Get("/me", requireUser, me.show)
	app.Get("/admin/users", requireUser, me.searchUsers)
	app.Patch("/me", requireUser, me.update)
	// Changes that check a password or send mail spend the address's sign-in budget
	// and the user's own hourly one.
	changes := rl.accountChanges()
	app.Delete("/me", requireUser, throttled, changes, me.deleteAccount)
	app.Put("/me/password", requireUser, throttled, changes, me.changePassword)
	app.Post("/me/email", requireUser, throttled, changes, me.changeEmail)
	app.Get("/me/sessions", requireUser, me.listSessions)
	app.Delete("/me/sessions/:id", requireUser, me.revokeSession)
	app.Get("/me/export", requireUser, rl.userBudget("export", budgets.Exports, time.Hour), me.export)
	app.Get("/me/2fa", requireUser, twoFactor.status)
	app.Post("/me/2fa/enrol", requireUser, twoFactor.enrol)
	app.Post("/me/2fa/confirm", requireUser, twoFactor.confirm)
	app.Post("/me/2fa/verify", requireUser, twoFactor.verify)
	app.Post("/me/2fa/disable", requireUser, twoFactor.disable)
	app.Post("/me/2fa/recovery-codes", requireUser, twoFactor.recoveryCodes)

	gigs := &gigRoutes{gigs: d.Gigs, views: d.GigViews, conversions: orNoConversions(d.Conversions)}
	// The catalogue's public reads carry ETags and a short Cache-Control (cache.go);
	// their larger JSON bodies are compressed (compress.go).
	compressed := compressResponse()
	app.Get("/categories", compressed, gigs.categories)
	app.Get("/admin/categories", requireUser, gigs.adminCategories)
	app.Post("/admin/categories", requireUser, gigs.createCategory)
	app.Patch("/admin/categories/:slug", requireUser, gigs.changeCategory)
	app.Post("/admin/categories/:slug/archive", requireUser, gigs.archiveCategory)
	app.Post("/admin/categories/:slug/restore", requireUser, gigs.restoreCategory)
	app.Post("/admin/gigs/:id/takedown", requireUser, gigs.takeDown)
	app.Post("/admin/gigs/:id/restore", requireUser, gigs.restoreGig)

	abuse := &abuseReportRoutes{reports: d.AbuseReports}
	app.Post("/reports", requireUser, rl.userBudget("report", budgets.Reports, time.Hour), abuse.report)
	app.Get("/admin/reports", requireUser, abuse.queue)
	app.Post("/admin/reports/:id/resolve", requireUser, abuse.resolve)
	app.Get("/currencies", currencies)
	search := rl.searchBudget(budgets.Search)
	app.Get("/gigs", search, compressed, gigs.list)
	app.Get("/search/suggest", search, compressed, gigs.suggest)
	app.Post("/gigs", requireUser, gigs.create)
	app.Get("/gigs/:id", compressed, gigs.show)
	app.Patch("/gigs/:id", requireUser, gigs.update)
	app.Delete("/gigs/:id", requireUser, gigs.remove)
	app.Post("/gigs/:id/publish", requireUser, gigs.publish)
	app.Post("/gigs/:id/pause", requireUser, gigs.pause)
	app.Get("/me/gigs", requireUser, gigs.mine)
	favorites := &favoriteRoutes{favorites: d.Favorites}
	app.Get("/me/favorites", requireUser, favorites.list)
	app.Put("/me/favorites/:gigId", requireUser, favorites.add)
	app.Delete("/me/favorites/:gigId", requireUser, favorites.remove)
	savedSearches := &savedSearchRoutes{savedSearches: d.SavedSearches}
	app.Get("/me/saved-searches", requireUser, savedSearches.list)
	app.Post("/me/saved-searches", requireUser, savedSearches.create)
	app.Delete("/me/saved-searches/:id", requireUser, savedSearches.remove)
	reviews := &reviewRoutes{reviews: d.Reviews}
	app.Get("/gigs/:id/reviews", compressed, reviews.ofGig)
	app.Post("/orders/:id/review", requireUser, reviews.create)
	app.Get("/orders/:id/review", requireUser, reviews.show)
	app.Post("/orders/:id/review/response", requireUser, reviews.respond)
	app.Get("/me/reviews/insights", requireUser, reviews.insights)
	profiles := &profileRoutes{profiles: d.Profiles}
	app.Get("/users/:username", compressed, profiles.show)
	dashboard := &dashboardRoutes{dashboard: d.Dashboard}
	app.Get("/me/dashboard", requireUser, dashboard.seller)

	idle := cmp.Or(cfg.UploadIdleTimeout, 60*time.Second)
	slots := newUploadSlots(cfg.UploadStreams)
	tr := &tusRoutes{engine: d.Tus, uploads: d.Uploads, log: d.Log, idle: idle, slots: slots, maxSize: cfg.UploadMaxSize}
	app.Options("/uploads/tus", tr.resumable, tr.options)
	app.Options("/uploads/tus/:id", tr.resumable, tr.options)
	newUpload := rl.userBudget("upload", budgets.Uploads, time.Minute)
	app.Post("/uploads/tus", tr.resumable, requireUser, newUpload, tr.create)
	app.Head("/uploads/tus/:id", tr.resumable, requireUser, tr.head)
	app.Patch("/uploads/tus/:id", tr.resumable, requireUser, slots.admit, tr.patch)
	app.Delete("/uploads/tus/:id", tr.resumable, requireUser, tr.terminate)
	up := &uploadRoutes{uploads: d.Uploads, log: d.Log, idle: idle, slots: slots}
	app.Post("/uploads", requireUser, newUpload, slots.admit, up.form)
	app.Put("/uploads/raw", requireUser, newUpload, slots.admit, up.raw)
	app.Get("/uploads/:id", up.show)
	app.Get("/uploads/:id/download", up.download)
	images := newImageRoutes(d.Images, d.Log, cfg.MediaCDNMaxAge, cfg.MediaStreams)
	app.Get("/media/:file", images.variant)
}

func setOf(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

// openAPI serves the embedded API description.
func openAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "application/yaml")
	return c.Send(docs.OpenAPI)
}

// requireBearer guards a route with a static token; an empty token leaves it open.
func requireBearer(token string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if token != "" && !hasBearer(c, token) {
			return newProblem(fiber.StatusUnauthorized, "A valid bearer token is required.")
		}
		return c.Next()
	}
}

// hasBearer reports whether the request carries token as its bearer token.
func hasBearer(c *fiber.Ctx, token string) bool {
	got := []byte(c.Get(fiber.HeaderAuthorization))
	return subtle.ConstantTimeCompare(got, []byte("Bearer "+token)) == 1
}
