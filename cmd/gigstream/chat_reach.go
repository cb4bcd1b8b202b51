package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/push"
	"github.com/gigstream/hub/store"
)

// newChatReach builds the router that queues the pushes (when push is on) and e-mail
// digests of chat from the stored messages.
func newChatReach(cfg config, db *store.DB, pushOn bool, log *slog.Logger) *market.ChatReachRouter {
	rc := market.ChatReachConfig{EmailDelay: cfg.Notifications.ChatEmailDelay, PollInterval: cfg.Notifications.PollInterval}
	if pushOn {
		rc.PushDelay = cfg.PushDelay
	}
	return market.NewChatReachRouter(db, rc, log.With("component", "chat_reach"))
}

// pushGiveUp is how old a chat push job may grow while FCM keeps asking to wait: past
// it the news is stale and the job is cancelled.
const pushGiveUp = time.Hour

// chatPushWorker runs store.ChatPushJob: one round of sends. FCM's retryable errors
// (UNAVAILABLE, INTERNAL, 429) retry the job: after FCM's Retry-After when it gave one
// (snoozed, at most maxWait), else with river's backoff. Sending again to a device that
// got the first round is harmless: the notice has the conversation's collapse key.
type chatPushWorker struct {
	river.WorkerDefaults[store.ChatPushJob]
	chat    *market.Chat
	maxWait time.Duration
}

// Work pushes the burst (see market's PushBurst).
func (w *chatPushWorker) Work(ctx context.Context, job *river.Job[store.ChatPushJob]) error {
	return pushJobResult(w.chat.PushBurst(ctx, job.Args.UserID, job.Args.ConversationID), job.CreatedAt, w.maxWait)
}

// pushJobResult is what a push job created at created returns for the error of its
// round of sends: FCM's retryable errors snooze the job for FCM's Retry-After (at
// most maxWait) or leave it to river's backoff, until the news is older than
// pushGiveUp and the job is cancelled; other errors are retried with backoff.
func pushJobResult(err error, created time.Time, maxWait time.Duration) error {
	var temp *push.TemporaryError
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &temp):
		return err
	case time.Since(created) > pushGiveUp:
		return river.JobCancel(fmt.Errorf("push older than %s: %w", pushGiveUp, err))
	case temp.RetryAfter > 0:
		return river.JobSnooze(min(temp.RetryAfter, maxWait))
	}
	return err
}

// Timeout bounds one round of sends.
func (w *chatPushWorker) Timeout(*river.Job[store.ChatPushJob]) time.Duration { return time.Minute }

// chatEmailWorker runs store.ChatEmailJob; an SMTP error makes river retry it.
type chatEmailWorker struct {
	river.WorkerDefaults[store.ChatEmailJob]
	chat      *market.Chat
	mailer    market.ChatDigestMailer
	publicURL string
}

// Work e-mails the digest of the burst (see market's EmailDigest).
func (w *chatEmailWorker) Work(ctx context.Context, job *river.Job[store.ChatEmailJob]) error {
	return w.chat.EmailDigest(ctx, w.mailer, w.publicURL, job.Args.UserID, job.Args.ConversationID)
}

// Timeout bounds one SMTP conversation.
func (w *chatEmailWorker) Timeout(*river.Job[store.ChatEmailJob]) time.Duration { return time.Minute }

// chatDigestMail renders a digest with the push package's templates and sends it
// through SMTP (market.ChatDigestMailer).
type chatDigestMail struct{ mail subscribedMail }

func (m chatDigestMail) SendChatDigest(ctx context.Context, d market.ChatDigest, link string) error {
	lines := make([]push.DigestLine, len(d.Messages))
	for i, msg := range d.Messages {
		lines[i] = push.DigestLine{Sender: d.Names[msg.SenderID], Text: msg.Text, At: msg.CreatedAt,
			When: market.FormatDateIn(msg.CreatedAt, d.Language, d.TimeZone)}
	}
	e, err := push.ChatDigestEmail(d.Email, d.DisplayName, push.ChatDigestMail{From: d.From, Lines: lines, More: d.More, Link: link, Language: d.Language})
	if err != nil {
		return fmt.Errorf("render chat digest: %w", err)
	}
	return m.mail.send(ctx, e, d.UserID, market.CategoryMessages)
}

// addChatReachWorkers registers the chat push and digest workers.
func addChatReachWorkers(workers *river.Workers, cfg config, chat *market.Chat, mail subscribedMail) {
	river.AddWorker(workers, &chatPushWorker{chat: chat, maxWait: cfg.Notifications.PushMaxRetryAfter})
	river.AddWorker(workers, &chatEmailWorker{chat: chat, mailer: chatDigestMail{mail: mail}, publicURL: cfg.PublicURL})
}
