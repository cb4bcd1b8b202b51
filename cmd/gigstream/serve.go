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
	"github.com/redis/go-redis/v9"

	"github.com/gigstream/hub/handlers"
	"github.com/gigstream/hub/hub"
	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/media"
	"github.com/gigstream/hub/store"
)

// serve runs the hub until SIGINT or SIGTERM, then drains. It refuses to start on a bad
// configuration or an unmigrated database; other dependencies may be down and show in /readyz.
func serve(ctx context.Context, e *envReader, log *slog.Logger) error {
	cfg, err := loadServeConfig(e)
	if err != nil {
		return err
	}
	jobsCfg, err := loadJobsConfig(e)
	if err != nil {
		return err
	}
	scanner := newScanner(cfg)
	if err := checkScannerLimits(ctx, cfg, scanner, log); err != nil {
		return err
	}
	stopProfiling, err := startProfiling(cfg.PprofAddr, log)
	if err != nil {
		return fmt.Errorf("config: PPROF_ADDR: %w", err)
	}
	defer stopProfiling()
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := errors.Join(checkMigrated(ctx, db, log), db.CheckJobsMigrated(ctx)); err != nil {
		return fmt.Errorf("%w; run `gigstream migrate up` first", err)
	}
	rdb, err := newRedis(cfg)
	if err != nil {
		return err
	}
	defer rdb.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	pub := &lazyPublisher{}
	realtime := newRealtime(cfg, db, pub, log)
	var chat *market.Chat // set below: the hub's callbacks and the chat need each other
	node, err := newHub(cfg, rdb, hubCallbacks(realtime, func() *market.Chat { return chat }), reg, log)
	if err != nil {
		return err
	}
	pub.node = node
	pusher, stopPush, err := newPusher(ctx, cfg, db, reg, log)
	if err != nil {
		return err
	}
	defer stopPush()
	chat = newChat(cfg, db, realtime, node, rdb, pusher, log)
	socketsCtx, stopSockets := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSockets()
	if err := node.Start(socketsCtx); err != nil {
		return fmt.Errorf("start hub: %w", err)
	}
	go realtime.RunOutbox(socketsCtx)
	notifications := newNotifications(cfg, db, realtime, node, pusher, log)
	go notifications.Run(socketsCtx)
	stopJobs, err := startJobs(ctx, cfg, jobsCfg, db, realtime, log)
	if err != nil {
		return err
	}
	defer stopJobs()
	app, err := buildApp(ctx, cfg, log, db, rdb, wiring{reg: reg, realtime: realtime, chat: chat, node: node, socketsCtx: socketsCtx, notifications: notifications, scanner: scanner})
	if err != nil {
		return err
	}
	return listenUntilSignal(ctx, cfg, log, app, node)
}

// wiring carries what serve builds before the HTTP app.
type wiring struct {
	reg        *prometheus.Registry
	realtime   *market.Realtime
	chat       *market.Chat
	node       *hub.Node
	socketsCtx context.Context

	notifications *market.Notifications // serves the notification routes; its router runs beside the hub
	scanner       *media.Scanner        // clamd, its limits probed at start-up
}

// buildApp wires the adapters into the HTTP app.
func buildApp(ctx context.Context, cfg config, log *slog.Logger, db *store.DB, rdb *redis.Client, w wiring) (*fiber.App, error) {
	s3c, err := newS3(ctx, cfg.S3)
	if err != nil {
		return nil, err
	}
	objects := media.NewObjectStore(s3c, cfg.S3.Bucket)
	scanner := w.scanner
	up := newUploads(w.socketsCtx, cfg, db, objects, scanner, w.realtime, log)
	orders, err := newOrders(cfg, db, w.realtime, w.chat, log)
	if err != nil {
		return nil, err
	}
	settlement, err := newSettlement(cfg, db, w.realtime, log)
	if err != nil {
		return nil, err
	}
	orders.RefundCancelled = settlement.RefundCancelledPayment
	accounts := newAccounts(cfg, db, log)
	accounts.SessionsEnded = func(ctx context.Context, userID string, sessionIDs []string) {
		if err := w.node.DisconnectSessions(ctx, userID, sessionIDs, hub.CloseSessionEnded, "session ended"); err != nil {
			log.WarnContext(ctx, "sockets of ended sessions not closed", "user_id", userID, "err", err)
		}
	}
	gigs := market.NewGigs(db, up.uploads, log)
	return handlers.New(handlers.Config{
		BodyLimit:      cfg.BodyLimit,
		CheckTimeout:   cfg.CheckTimeout,
		MetricsToken:   string(cfg.MetricsToken),
		TrustedProxies: cfg.TrustedProxies,
		AllowedOrigins: cfg.AllowedOrigins,
		ForceHTTPS:     cfg.ForceHTTPS,
		RateLimits:     handlers.RateLimits(cfg.RateLimits),
		PublishAPIKey:  string(cfg.PublishAPIKey),
		OIDC: handlers.OIDCConfig{
			Issuer: cfg.OIDC.Issuer, ClientID: cfg.OIDC.ClientID,
			ClientSecret: string(cfg.OIDC.ClientSecret), RedirectURL: cfg.OIDC.RedirectURL,
		},
		UploadIdleTimeout: cfg.Uploads.IdleTimeout, UploadMaxSize: up.maxSize,
	}, handlers.Deps{
		Log:          log,
		Registry:     w.reg,
		Accounts:     accounts,
		Redis:        rdb,
		Realtime:     w.realtime,
		Chat:         w.chat,
		Gigs:         gigs,
		Reviews:      market.NewReviews(db, gigs, w.realtime, log),
		WebApp:       webApp(),
		Uploads:      up.uploads,
		Orders:       orders,
		Settle:       settlement,
		Disputes:     market.NewDisputes(db, w.realtime, log),
		Audit:        market.NewAudit(db),
		TwoFactor:    newTwoFactor(cfg, db, log),
		Tus:          up.tus,
		Sockets:      socketServer(w.node),
		SocketTokens: newSocketTokens(cfg, w.node),
		SocketsCtx:   w.socketsCtx,

		Notifications: w.notifications,
		Checks: []handlers.Check{
			{Name: "postgres", Ping: db.Ping},
			{Name: "redis", Ping: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
			{Name: "clamd", Ping: scanner.Ping},
			{Name: "s3", Ping: objects.Ping},
		},
	})
}

// newAccounts builds the account use cases on the database and the SMTP mailer.
func newAccounts(cfg config, db *store.DB, log *slog.Logger) *market.Accounts {
	mailer := newSMTPMailer(cfg, log)
	hasher := market.NewPasswordHasher(market.HasherConfig{MemoryKiB: uint32(cfg.Argon2MemoryKB)})
	return market.NewAccounts(db, accountMail{smtp: mailer}, hasher, market.AccountsConfig{
		PublicURL: cfg.PublicURL, SessionIdle: cfg.SessionIdle, SessionAbsolute: cfg.SessionMaxAge,
	}, log)
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
