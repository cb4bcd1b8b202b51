package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os/signal"
	"syscall"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gigstream/hub/handlers"
	"github.com/gigstream/hub/hub"
	"github.com/gigstream/hub/media"
	"github.com/gigstream/hub/readcache"
	"github.com/gigstream/hub/store"
	"github.com/gigstream/hub/telemetry"
)

// serve runs the hub until SIGINT or SIGTERM, then drains. It refuses to start on a bad
// configuration or an unmigrated database; other dependencies may be down and show in /readyz.
func serve(ctx context.Context, e *envReader, log *slog.Logger) error {
	// 1. Configuration: every setting from the environment, checked before anything starts.
	cfg, err := loadServeConfig(e)
	if err != nil {
		return err
	}
	tuneGC(cfg.GCPercent)
	jobsCfg, err := loadJobsConfig(e)
	if err != nil {
		return err
	}
	reporter, err := newReporter(cfg) // Sentry, when SENTRY_DSN is set
	if err != nil {
		return err
	}
	defer flushReports(reporter)
	stopTracing, err := startTracing(ctx, &cfg, log) // OpenTelemetry, when an OTLP endpoint is set
	if err != nil {
		return err
	}
	defer stopTracing()
	// 2. clamd, whose limits are probed before anything else starts (refused in production
	// when it would pass what it did not scan whole).
	scanner := newScanner(cfg)
	if err := checkScannerLimits(ctx, cfg, scanner, log); err != nil {
		return err
	}
	// 3. Go's profiles on PPROF_ADDR, when it is set.
	stopProfiling, err := startProfiling(cfg.PprofAddr, log)
	if err != nil {
		return fmt.Errorf("config: PPROF_ADDR: %w", err)
	}
	defer stopProfiling()
	// 4. PostgreSQL, refused while our schema or river's is behind the binary.
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := errors.Join(checkMigrated(ctx, db, log), db.CheckJobsMigrated(ctx)); err != nil {
		return fmt.Errorf("%w; run `gigstream migrate up` first", err)
	}
	// 5. Redis and the metrics registry every part reports to.
	rdb, err := newRedis(cfg)
	if err != nil {
		return err
	}
	defer rdb.Close()
	if err := traceRedis(cfg, rdb); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), scanner.Metrics())
	if err := newPoolMetrics(reg, db); err != nil {
		return err
	}
	// 6. S3, where the bytes of uploads go.
	s3c, err := newS3(ctx, cfg.S3, traceAWS(cfg, "s3"))
	if err != nil {
		return err
	}
	objects := media.NewObjectStore(s3c, cfg.S3.Bucket)
	// 7. The hub node (sockets, channels, fan-out and presence over Redis); it starts in step 10.
	node, err := newHub(cfg, rdb, reg, log)
	if err != nil {
		return err
	}
	// 8. Push through FCM, or none without FCM_PROJECT_ID.
	pusher, stopPush, err := newPusher(ctx, cfg, db, reg, log)
	if err != nil {
		return err
	}
	defer stopPush()
	// 9. The use cases, in the order they depend on each other (see newDomain), with
	// the read cache every node shares for public pages.
	// Its keys start with the database's installation id: pages are keyed by slug and
	// username, which another database sharing this Redis may use too.
	installation, err := db.InstallationID(ctx)
	if err != nil {
		return err
	}
	cache, err := readcache.NewRedis(readcache.Config{Client: rdb, Prefix: "rc:" + installation, Registerer: reg})
	if err != nil {
		return err
	}
	d, err := newDomain(cfg, db, rdb, cache, node, pusher, objects, scanner, newTracker(cfg, reg, log), log)
	if err != nil {
		return err
	}
	defer runTracker(ctx, d.tracker)() // conversions to GA4 until shutdown, then a last flush
	// 10. The node starts with the domain's decisions as its callbacks; the outbox relay,
	// the notification router and the tus upkeep run beside it until the sockets end, and
	// so does the search index, loaded first.
	socketsCtx, stopSockets := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSockets()
	if err := startSearch(ctx, socketsCtx, d.search, reg); err != nil {
		return err
	}
	if err := startRealtime(socketsCtx, cfg, node, d, reporter, log); err != nil {
		return err
	}
	// The database's notices of stale pages, for the read cache and the search.
	go listenReadCache(socketsCtx, cfg, cache, d.search, log)
	startLedgerCheck(socketsCtx, cfg, db, reg, log) // the drift gauges
	startReconciliationMetrics(socketsCtx, db, reg, cfg.LedgerCheck.Interval, cfg.LedgerCheck.Timeout, log)
	// 11. Background jobs (river): money, mail and media in queues of their own.
	stopJobs, err := startJobs(ctx, cfg, jobsCfg, db, objects, d, reg, reporter, log)
	if err != nil {
		return err
	}
	defer stopJobs()
	defer runGigViews(ctx, d.gigViews)() // counted views until shutdown, then a last flush
	// 12. The HTTP app over the use cases, with a readiness probe per dependency.
	app, err := newApp(cfg, log, reg, reporter, d, node, socketsCtx, []handlers.Check{
		{Name: "postgres", Ping: db.Ping},
		{Name: "redis", Ping: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
		{Name: "clamd", Ping: scanner.Ping},
		{Name: "s3", Ping: objects.Ping},
	})
	if err != nil {
		return err
	}
	// 13. Serve until a signal, then drain sockets and requests.
	return listenUntilSignal(ctx, cfg, log, app, node)
}

// startRealtime installs the hub's callbacks and starts the node, the outbox relay,
// the notification and chat reach routers and the tus upkeep; all run until ctx ends.
func startRealtime(ctx context.Context, cfg config, node *hub.Node, d *domain, rep *telemetry.Reporter, log *slog.Logger) error {
	if err := node.SetCallbacks(reportedCallbacks(hubCallbacks(d.realtime, d.chat), rep)); err != nil {
		return err
	}
	if err := node.Start(ctx); err != nil {
		return fmt.Errorf("start hub: %w", err)
	}
	go d.realtime.RunOutbox(ctx)
	go d.notifications.Run(ctx)
	go d.chatReach.Run(ctx)
	go tusUpkeep(ctx, d.uploads, d.tus, cfg.Uploads.TusRetry, log)
	return nil
}

// startSearch loads the node's search index, keeps it fresh until runCtx ends, and
// reports its result cache's hits and misses.
func startSearch(ctx, runCtx context.Context, search *store.GigSearch, reg prometheus.Registerer) error {
	if err := search.Load(ctx); err != nil {
		return err
	}
	go search.Run(runCtx)
	for _, result := range []string{"hits", "misses"} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "gigstream_search_cache_" + result + "_total", Help: "Catalogue searches answered from (hits) or not from (misses) the node's result cache.",
		}, func() float64 {
			hits, misses := search.CacheStats()
			if result == "hits" {
				return float64(hits)
			}
			return float64(misses)
		}))
	}
	return nil
}

// newApp builds the HTTP app over the use cases.
func newApp(cfg config, log *slog.Logger, reg *prometheus.Registry, rep *telemetry.Reporter, d *domain, node *hub.Node, socketsCtx context.Context, checks []handlers.Check) (*fiber.App, error) {
	return handlers.New(handlers.Config{
		BodyLimit:      cfg.BodyLimit,
		CheckTimeout:   cfg.CheckTimeout,
		MetricsToken:   string(cfg.MetricsToken),
		TrustedProxies: cfg.TrustedProxies,
		AllowedOrigins: cfg.AllowedOrigins,
		ForceHTTPS:     cfg.ForceHTTPS,
		RateLimits:     handlers.RateLimits(cfg.RateLimits),
		Budgets:        cfg.handlerBudgets(),
		SocketsPerUser: cfg.SocketBudgets.PerUser, SocketsPerAddress: cfg.SocketBudgets.PerIP,
		PublishAPIKey: string(cfg.PublishAPIKey), MailBounceToken: string(cfg.Mail.BounceToken),
		OIDC: handlers.OIDCConfig{
			Issuer: cfg.OIDC.Issuer, ClientID: cfg.OIDC.ClientID,
			ClientSecret: string(cfg.OIDC.ClientSecret), RedirectURL: cfg.OIDC.RedirectURL,
		},
		UploadIdleTimeout: cfg.Uploads.IdleTimeout, UploadMaxSize: d.uploadMaxSize, UploadStreams: cfg.Uploads.Streams,
		FaultRoutes:    cfg.Telemetry.FaultRoutes,
		MediaCDNMaxAge: cfg.Images.CDNMaxAge, MediaStreams: cfg.Images.Streams,
	}, handlers.Deps{
		Log:            log,
		Registry:       reg,
		Accounts:       d.accounts,
		Mail:           d.mail,
		Redis:          d.redis,
		Realtime:       d.realtime,
		Chat:           d.chat,
		Gigs:           d.gigs,
		Favorites:      d.favorites,
		AbuseReports:   d.abuseReports,
		RefundsOwed:    d.refundsOwed,
		SavedSearches:  d.savedSearches,
		Reviews:        d.reviews,
		Profiles:       d.profiles,
		Dashboard:      d.dashboard,
		GigViews:       d.gigViews,
		WebApp:         webApp(),
		Uploads:        d.uploads,
		Images:         d.images,
		Orders:         d.orders,
		Settle:         d.settlement,
		Payouts:        d.payouts,
		Disputes:       d.disputes,
		Audit:          d.audit,
		Reconciliation: d.reconciliation,
		TwoFactor:      d.twoFactor,
		Billing:        d.billing,
		Invoices:       d.invoices,
		Tus:            d.tus,
		Sockets:        socketServer(node),
		SocketTokens:   newSocketTokens(cfg, node),
		SocketsCtx:     socketsCtx,

		Notifications: d.notifications,
		Checks:        checks,
		Faults:        httpFaults{rep},
		Tracer:        cfg.Telemetry.tracer,
		Conversions:   conversions{d.tracker},
	})
}

// listenUntilSignal serves until the first SIGINT/SIGTERM, then stops accepting and
// drains in-flight requests within cfg.ShutdownTimeout. The first signal also restores
// the default handlers, so a second one ends the process at once.
func listenUntilSignal(ctx context.Context, cfg config, log *slog.Logger, app *fiber.App, node *hub.Node) error {
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	sigCtx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	log.InfoContext(ctx, "listening", "addr", ln.Addr().String(), "config", cfg.logAttrs())
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-sigCtx.Done():
	}
	stop()
	log.InfoContext(ctx, "shutting down; a second signal forces exit", "deadline", cfg.ShutdownTimeout.String())
	// Sockets first: clients are told to reconnect elsewhere while HTTP drains.
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := node.Shutdown(drainCtx); err != nil {
		log.WarnContext(ctx, "sockets not drained in time", "err", err)
	}
	if err := app.ShutdownWithTimeout(cfg.ShutdownTimeout); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.InfoContext(ctx, "stopped")
	return nil
}
