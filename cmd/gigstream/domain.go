package main

import (
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/gigstream/hub/analytics"
	"github.com/gigstream/hub/hub"
	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/media"
	"github.com/gigstream/hub/media/tus"
	"github.com/gigstream/hub/store"
)

// domain is every use case serve runs, built once by newDomain.
type domain struct {
	redis         redis.UniversalClient // rate limits and sign-in state of the HTTP layer
	realtime      *market.Realtime
	chat          *market.Chat
	uploads       *market.Uploads
	images        *market.Images // variants of gig images and avatars, and their public URLs
	tus           *tus.Engine
	uploadMaxSize int64 // the largest upload of any kind (Tus-Max-Size)
	settlement    *market.Settlement
	payouts       *market.Payouts
	orders        *market.Orders
	accounts      *market.Accounts
	gigs          *market.Gigs
	favorites     *market.Favorites
	abuseReports  *market.AbuseReports
	refundsOwed   *market.RefundsOwed
	savedSearches *market.SavedSearches
	search        *store.GigSearch
	reviews       *market.Reviews
	profiles      *market.Profiles
	dashboard     *market.Dashboard
	gigViews      *market.GigViews
	disputes      *market.Disputes
	audit         *market.Audit
	// reconciliation compares the ledger with Stripe's balance transactions.
	reconciliation *market.Reconciliation
	twoFactor      *market.TwoFactor
	billing        *market.Billing
	invoices       *market.Invoices
	notifications  *market.Notifications
	mail           *market.MailDelivery    // unsubscribe links and the suppression list of bounced addresses
	chatReach      *market.ChatReachRouter // pushes and e-mail digests of chat, from the stored messages
	tracker        *analytics.Tracker      // product analytics (GA4); sends nothing when off
}

// newDomain builds the use cases in the order they depend on each other. Nothing runs
// yet: serve starts the node, the relays and the jobs afterwards.
func newDomain(cfg config, db *store.DB, rdb redis.UniversalClient, cache market.ReadCache, node *hub.Node, pusher market.Pusher, objects *media.ObjectStore, scanner *media.Scanner, tracker *analytics.Tracker, log *slog.Logger) (*domain, error) {
	d := &domain{redis: rdb, tracker: tracker}
	// Channel rules and durable events, published through the node.
	d.realtime = newRealtime(cfg, db, node, tracker, log)
	// Chat: presence from the node, push for the offline, gates and budgets in Redis.
	// Its pushes are sent by jobs (chatPushWorker) that retry durably: one attempt each.
	d.chat = newChat(cfg, db, d.realtime, node, rdb, oncePusher(pusher), log)
	d.chatReach = newChatReach(cfg, db, pusher != nil, log)
	// Uploads: the media pipeline and the tus engine over S3 and clamd.
	up := newUploads(cfg, db, objects, scanner, d.realtime, log)
	d.uploads, d.tus, d.uploadMaxSize = up.uploads, up.tus, up.maxSize
	// Images: variants of clean gig images and avatars, made by jobs, served publicly.
	d.images = newImages(cfg, db, objects, d.realtime, log)
	// Settlement before orders: a payment for a cancelled order is refunded through it.
	connect, err := newConnect(cfg)
	if err != nil {
		return nil, err
	}
	if d.settlement, err = newSettlement(cfg, db, d.realtime, connect, log); err != nil {
		return nil, err
	}
	// Payouts: sellers' payout methods and the providers' verdicts on payouts.
	if d.payouts, err = newPayouts(cfg, db, d.realtime, connect, d.settlement, log); err != nil {
		return nil, err
	}
	// Billing: profiles, quotes with the buyer's service fee and tax, invoices.
	d.billing = market.NewBilling(db, cfg.Billing)
	d.invoices = newInvoices(cfg, db, objects, log)
	// Orders open their conversation in the chat and charge what the quote shows.
	if d.orders, err = newOrders(cfg, db, d.realtime, d.chat, d.settlement, d.payouts, d.billing, log); err != nil {
		return nil, err
	}
	// Mail delivery: unsubscribe tokens and the suppression list.
	d.mail = newMailDelivery(cfg, db, log)
	// Accounts close the sockets of ended sessions through the node.
	d.accounts = newAccounts(cfg, db, hubSessions{node: node, log: log}, log)
	// The catalogue searches this node's index, knows who is online from the node,
	// presigns its media through the uploads and keeps public pages in the read cache;
	// reviews show on gigs.
	d.search = store.NewGigSearch(db, store.GigSearchConfig{MaxLag: cfg.SearchMaxLag}, log)
	cache = searchedReadCache{ReadCache: cache, search: d.search} // this node's writes reach its search at once
	d.gigs = market.NewGigs(db, market.GigsDeps{Search: d.search, Online: node, Uploads: d.uploads, Cache: cache, Realtime: d.realtime}, log)
	d.reviews = market.NewReviews(db, d.gigs, d.realtime, log)
	// Profiles show a user's record, their gigs and reviews, and presence from the node.
	d.profiles = market.NewProfiles(db, d.gigs, node, cache, log)
	// The seller dashboard, with gig views counted in memory and flushed in batches.
	d.dashboard = market.NewDashboard(db)
	d.gigViews = market.NewGigViews(db, cfg.GigViewFlushInterval, log)
	d.disputes = market.NewDisputes(db, d.realtime, log)
	d.audit = market.NewAudit(db)
	if d.reconciliation, err = newReconciliation(cfg, db); err != nil {
		return nil, err
	}
	d.twoFactor = newTwoFactor(cfg, db, log)
	// Notifications: presence and push from the node and FCM.
	d.notifications = newNotifications(cfg, db, d.realtime, node, oncePusher(pusher), log)
	// Favorites keep published gigs; saved searches are matched by this node's index
	// and tell their owners through the notifications.
	d.favorites = market.NewFavorites(db, d.gigs)
	d.abuseReports = market.NewAbuseReports(db, d.realtime, log)
	d.refundsOwed = market.NewRefundsOwed(db, d.realtime, log)
	d.savedSearches = market.NewSavedSearches(db, d.gigs, d.search, d.notifications, log.With("component", "saved_searches"))
	return d, nil
}
