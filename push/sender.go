package push

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SenderConfig configures a Sender. The zero value means the defaults
// documented on each field.
type SenderConfig struct {
	// Workers is how many notifications are sent at once. Default 4.
	Workers int
	// QueueSize is how many notifications Notify may hold waiting for a
	// worker; when full, Notify drops instead of blocking. Default 1024.
	QueueSize int
	// MaxAttempts bounds the sends per device for temporary failures,
	// counting the first. Default 5.
	MaxAttempts int
	// InitialBackoff is the wait before the first retry; each later wait
	// doubles, with jitter, up to MaxBackoff. Defaults 1s and 1m. A Retry-After
	// from FCM lengthens a wait, still capped by MaxBackoff.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// SendTimeout bounds one FCM request, including firebase-admin-go's own
	// retries of 503 responses (up to 4, about 7s). Default 30s.
	SendTimeout time.Duration
	// TTL is how long FCM keeps an undelivered notification for an offline
	// device. Zero means FCM's default (28 days).
	TTL time.Duration
	// Logger receives dropped notifications, pruned tokens and failures.
	// Nil means slog.Default().
	Logger *slog.Logger
	// Metrics, when set, gets gigstream_push_notifications_total{result}.
	// Nil means none.
	Metrics prometheus.Registerer
}

func (c SenderConfig) withDefaults() SenderConfig {
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 1024
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.InitialBackoff <= 0 {
		c.InitialBackoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Minute
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Sender delivers Notifications to every device of a user through FCM,
// prunes tokens FCM declares dead, and retries temporary failures with
// exponential backoff. Notify queues and returns at once; a bounded pool of
// workers (Start, Close) does the sending. SendNow sends synchronously.
type Sender struct {
	client  FCMClient
	tokens  TokenStore
	cfg     SenderConfig
	log     *slog.Logger
	metrics *pushMetrics

	mu      sync.RWMutex // guards closed against sends on queue
	closed  bool
	queue   chan Notification
	started sync.Once
	workers sync.WaitGroup
}

// NewSender returns a Sender over client (the real *messaging.Client from
// NewFirebaseClient, or a test double) and tokens. Call Start to run the
// workers that Notify feeds.
func NewSender(client FCMClient, tokens TokenStore, cfg SenderConfig) *Sender {
	cfg = cfg.withDefaults()
	return &Sender{
		client:  client,
		tokens:  tokens,
		cfg:     cfg,
		log:     cfg.Logger,
		metrics: newPushMetrics(cfg.Metrics),
		queue:   make(chan Notification, cfg.QueueSize),
	}
}

// SendNow sends n to each of the user's devices and returns when every
// device is delivered, pruned, or given up on. Dead tokens are deleted from
// the TokenStore and are not errors; a user without devices is not an error.
// It returns ErrInvalidNotification (wrapped) for a bad n, the TokenStore's
// error (wrapped), ctx.Err() (wrapped) if ctx ends while waiting to retry, or
// a join of one error per device that could not be reached.
func (s *Sender) SendNow(ctx context.Context, n Notification) error {
	if err := n.validate(); err != nil {
		return err
	}
	devices, err := s.tokens.DeviceTokens(ctx, n.UserID)
	if err != nil {
		return fmt.Errorf("push: device tokens of user %s: %w", n.UserID, err)
	}
	var errs []error
	for attempt := 1; len(devices) > 0; attempt++ {
		var wait time.Duration
		devices, wait, errs = s.sendRound(ctx, n, devices, errs)
		if len(devices) == 0 {
			break
		}
		if attempt == s.cfg.MaxAttempts {
			return errors.Join(append(errs, s.giveUp(ctx, n, devices, attempt))...)
		}
		s.metrics.retried.Add(float64(len(devices)))
		if err := sleep(ctx, s.backoff(attempt, wait)); err != nil {
			return errors.Join(append(errs, fmt.Errorf("push: retry of user %s: %w", n.UserID, err))...)
		}
	}
	return errors.Join(errs...)
}

// sendRound sends n once to each device. It returns the devices to retry,
// the longest Retry-After among them, and errs extended with permanent failures.
func (s *Sender) sendRound(ctx context.Context, n Notification, devices []Device, errs []error) ([]Device, time.Duration, []error) {
	var retry []Device
	var wait time.Duration
	for _, d := range devices {
		o, after, err := s.sendOne(ctx, n, d)
		switch o {
		case temporary:
			retry = append(retry, d)
			wait = max(wait, after)
		case permanent:
			s.metrics.failed.Inc()
			errs = append(errs, deviceError(d, err))
		case deadToken:
			if perr := s.prune(ctx, d, err); perr != nil {
				errs = append(errs, perr)
			}
		}
	}
	return retry, wait, errs
}

// sendOne makes one FCM request for one device and classifies the result.
func (s *Sender) sendOne(ctx context.Context, n Notification, d Device) (outcome, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
	defer cancel()
	_, err := s.client.Send(ctx, n.message(d.Token, s.cfg.TTL))
	o := classify(err)
	if o == delivered {
		s.metrics.sent.Inc()
	}
	return o, retryAfter(err), err
}

// prune deletes a token FCM reported dead.
func (s *Sender) prune(ctx context.Context, d Device, cause error) error {
	if err := s.tokens.DeleteDeviceToken(ctx, d.Token); err != nil {
		return fmt.Errorf("push: delete dead token %s: %w", tokenHint(d.Token), err)
	}
	s.metrics.pruned.Inc()
	s.log.LogAttrs(ctx, slog.LevelInfo, "push: pruned dead device token",
		slog.String("token", tokenHint(d.Token)), slog.String("platform", string(d.Platform)),
		slog.String("reason", cause.Error()))
	return nil
}

func (s *Sender) giveUp(ctx context.Context, n Notification, devices []Device, attempts int) error {
	s.metrics.failed.Add(float64(len(devices)))
	s.log.LogAttrs(ctx, slog.LevelWarn, "push: gave up after temporary failures",
		slog.String("user", n.UserID), slog.Int("devices", len(devices)), slog.Int("attempts", attempts))
	errs := make([]error, 0, len(devices))
	for _, d := range devices {
		errs = append(errs, deviceError(d, fmt.Errorf("still failing after %d attempts", attempts)))
	}
	return errors.Join(errs...)
}

// backoff is InitialBackoff·2^(attempt-1) with jitter in [½, 1], at least
// the server's Retry-After, at most MaxBackoff.
func (s *Sender) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := s.cfg.InitialBackoff << min(attempt-1, 30)
	if d <= 0 || d > s.cfg.MaxBackoff {
		d = s.cfg.MaxBackoff
	}
	d = d/2 + rand.N(d/2+1)
	return min(max(d, retryAfter), s.cfg.MaxBackoff)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func deviceError(d Device, err error) error {
	return fmt.Errorf("push: %s device %s: %w", d.Platform, tokenHint(d.Token), err)
}

// tokenHint identifies a token in logs and errors without revealing it:
// a registration token is a credential for pushing to someone's phone.
func tokenHint(token string) string {
	if len(token) <= 6 {
		return "…"
	}
	return "…" + token[len(token)-6:]
}
