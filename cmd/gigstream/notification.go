package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/push"
	"github.com/gigstream/hub/store"
)

// notificationsConfig tunes the notification router.
type notificationsConfig struct {
	PollInterval      time.Duration // NOTIFICATION_POLL_INTERVAL: how often each node routes new order events and chat messages
	ChatEmailDelay    time.Duration // CHAT_EMAIL_DELAY: unread chat messages this old are e-mailed as one digest per burst
	PushMaxRetryAfter time.Duration // PUSH_MAX_RETRY_AFTER: the longest a push job waits on FCM's Retry-After
}

// loadNotificationsConfig reads the notification settings.
func loadNotificationsConfig(e *envReader, c *config) {
	c.Notifications = notificationsConfig{
		PollInterval:      e.duration("NOTIFICATION_POLL_INTERVAL", time.Second, 50*time.Millisecond, time.Hour),
		ChatEmailDelay:    e.duration("CHAT_EMAIL_DELAY", 15*time.Minute, time.Second, 7*24*time.Hour),
		PushMaxRetryAfter: e.duration("PUSH_MAX_RETRY_AFTER", 5*time.Minute, 100*time.Millisecond, time.Hour),
	}
}

// newNotifications builds the notification use cases; presence and pusher may be nil.
func newNotifications(cfg config, db *store.DB, rt *market.Realtime, presence market.Presence, pusher market.Pusher, log *slog.Logger) *market.Notifications {
	return market.NewNotifications(db, rt, presence, pusher, market.NotificationsConfig{
		PollInterval: cfg.Notifications.PollInterval, PushDelay: cfg.PushDelay,
	}, log.With("component", "notifications"))
}

// notificationMail sends notification e-mails (market.NotificationMailer) through SMTP
// with the push package's templates, each with the unsubscribe link of its category.
type notificationMail struct{ mail subscribedMail }

func (m notificationMail) SendNotification(ctx context.Context, n market.NotificationEmail, link string) error {
	e, err := push.NotificationEmail(n.Email, n.DisplayName, notificationMailOf(n, link))
	if err != nil {
		return fmt.Errorf("render notification e-mail: %w", err)
	}
	cat, _ := market.CategoryOf(n.Kind)
	return m.mail.send(ctx, e, n.UserID, cat)
}

// notificationMailOf is the content of n's e-mail in the recipient's language, with
// its amount and date written for them by market's locale formatters.
func notificationMailOf(n market.NotificationEmail, link string) push.NotificationMail {
	lang := market.MailLanguage(n.Prefs)
	m := push.NotificationMail{
		Kind: n.Kind, Language: lang, GigTitle: n.GigTitle, Currency: n.Facts.Currency, Note: n.Facts.Note,
		Rating: n.Facts.Rating, Date: market.FormatDateIn(n.CreatedAt, lang, n.Prefs.TimeZone), Link: link,
	}
	if n.Kind == market.KindSavedSearchMatch && m.GigTitle == "" {
		m.GigTitle = n.Body // the matching gig's title (see market's savedSearchNotification)
	}
	if m.GigTitle == "" {
		m.GigTitle = n.Facts.GigTitle // a notification about no order (a takedown)
	}
	if n.Facts.HasAmount() {
		m.Amount = market.FormatMoneyIn(n.Facts.AmountMinor, n.Facts.Currency, lang)
	}
	return m
}

// notificationEmailWorker runs store.NotificationEmailJob; an SMTP error makes river
// retry it with backoff.
type notificationEmailWorker struct {
	river.WorkerDefaults[store.NotificationEmailJob]
	notifications *market.Notifications
	mailer        market.NotificationMailer
	publicURL     string
}

// Work sends the e-mail of one notification, or skips it (see market's SendEmail).
func (w *notificationEmailWorker) Work(ctx context.Context, job *river.Job[store.NotificationEmailJob]) error {
	return w.notifications.SendEmail(ctx, w.mailer, w.publicURL, job.Args.NotificationID)
}

// Timeout bounds one SMTP conversation.
func (w *notificationEmailWorker) Timeout(*river.Job[store.NotificationEmailJob]) time.Duration {
	return time.Minute
}

// addNotificationEmailWorker registers the e-mail worker of notifications.
func addNotificationEmailWorker(workers *river.Workers, cfg config, notifications *market.Notifications, mail subscribedMail) {
	river.AddWorker(workers, &notificationEmailWorker{
		notifications: notifications,
		mailer:        notificationMail{mail: mail},
		publicURL:     cfg.PublicURL,
	})
}

// newSMTPMailer is the SMTP sender of the account's security mails (never suppressed,
// no unsubscribe link); notification mail goes through subscribedMail.
func newSMTPMailer(cfg config, log *slog.Logger) *push.SMTPMailer {
	return push.NewSMTPMailer(smtpConfigOf(cfg, log, nil, nil))
}

// notificationPushWorker runs store.NotificationPushJob: the push of a burst of one
// order's notifications, retried like a chat push (see pushJobResult).
type notificationPushWorker struct {
	river.WorkerDefaults[store.NotificationPushJob]
	notifications *market.Notifications
	maxWait       time.Duration
}

// Work pushes the newest unread notification of the burst (see market's PushBurst).
func (w *notificationPushWorker) Work(ctx context.Context, job *river.Job[store.NotificationPushJob]) error {
	return pushJobResult(w.notifications.PushBurst(ctx, job.Args.UserID, job.Args.CollapseKey), job.CreatedAt, w.maxWait)
}

// Timeout bounds one round of sends.
func (w *notificationPushWorker) Timeout(*river.Job[store.NotificationPushJob]) time.Duration {
	return time.Minute
}

// heldPushWorker runs store.HeldPushJob when a user's quiet hours end: the chat sends a
// conversation's burst, the notifications an order's newest unread notice.
type heldPushWorker struct {
	river.WorkerDefaults[store.HeldPushJob]
	notifications *market.Notifications
	chat          *market.Chat
}

// Work sends the held push, or nothing when it is no longer due (read, online, muted).
func (w *heldPushWorker) Work(ctx context.Context, job *river.Job[store.HeldPushJob]) error {
	if strings.HasPrefix(job.Args.CollapseKey, "conversation:") {
		return w.chat.PushHeld(ctx, job.Args.UserID, job.Args.CollapseKey)
	}
	return w.notifications.PushHeld(ctx, job.Args.UserID, job.Args.CollapseKey)
}
