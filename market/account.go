package market

import (
	"context"
	"log/slog"
	"time"
)

// Accounts holds the account use cases: registration, sign-in, sessions, recovery,
// export and deletion.
type Accounts struct {
	store  AccountStore
	mail   AccountMailer
	hasher *PasswordHasher
	cfg    AccountsConfig
	log    *slog.Logger
	now    func() time.Time
}

// NewAccounts returns the account use cases over their collaborators.
func NewAccounts(s AccountStore, m AccountMailer, h *PasswordHasher, cfg AccountsConfig, log *slog.Logger) *Accounts {
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = 72 * time.Hour
	}
	if cfg.SessionAbsolute <= 0 {
		cfg.SessionAbsolute = 30 * 24 * time.Hour
	}
	if cfg.VerifyTTL <= 0 {
		cfg.VerifyTTL = 48 * time.Hour
	}
	if cfg.ResetTTL <= 0 {
		cfg.ResetTTL = time.Hour
	}
	if log == nil {
		log = slog.Default()
	}
	return &Accounts{store: s, mail: m, hasher: h, cfg: cfg, log: log, now: time.Now}
}

// AccountsConfig tunes the account rules. The zero value means the defaults.
type AccountsConfig struct {
	PublicURL       string        // base of links in e-mails, e.g. https://gigstream.example
	SessionIdle     time.Duration // a session unused this long ends; default 72 h
	SessionAbsolute time.Duration // a session ends this long after sign-in; default 30 days
	VerifyTTL       time.Duration // e-mail verification link lifetime; default 48 h
	ResetTTL        time.Duration // password reset link lifetime; default 1 h

	// Sockets is told which sessions ended (logout, password change or reset, disable,
	// deletion) so that their live sockets close too; nil closes none.
	Sockets SessionSockets
}

// SessionSockets closes the live sockets of sessions that ended, on every node.
type SessionSockets interface {
	CloseSessions(ctx context.Context, userID string, sessionIDs []string)
}

// AccountStore is the storage the account use cases need; store/ implements it.
// Methods return an error wrapping ErrNotFound when the row does not exist, and a
// conflict Error naming the field when a unique email or username is taken.
type AccountStore interface {
	CreateUser(ctx context.Context, u NewUser) (User, error)
	// SearchUsers lists up to limit users matching q for admins (see
	// Accounts.SearchUsers), oldest first after the key.
	SearchUsers(ctx context.Context, q string, after *PageKey, limit int) ([]AdminUser, error)
	UserByID(ctx context.Context, id string) (User, error)
	UserByEmail(ctx context.Context, email string) (User, error)
	UpdateProfile(ctx context.Context, id string, p ProfileUpdate) (User, error)
	SetPasswordHash(ctx context.Context, userID, hash string) error
	MarkEmailVerified(ctx context.Context, userID string) error
	SetEmail(ctx context.Context, userID, email string) error
	ReleaseUnverifiedEmail(ctx context.Context, userID string) error
	SetAdmin(ctx context.Context, email string, admin bool) (User, error)
	// AnyAdmin returns the oldest active admin; none wraps ErrNotFound.
	AnyAdmin(ctx context.Context) (User, error)
	// MakeFirstAdmin makes email's account the deployment's first admin, creating it
	// from create when that is set, in one step serialized with every other bootstrap;
	// a conflict Error when another active admin exists, and then nothing is written.
	MakeFirstAdmin(ctx context.Context, email string, create *NewUser) (User, error)
	SetDisabled(ctx context.Context, email string, disabled bool) (User, error)
	AnonymizeUser(ctx context.Context, userID string) (endedSessions []string, err error)

	CreateSession(ctx context.Context, s Session) (Session, error)
	SessionWithUser(ctx context.Context, hash []byte) (Session, User, error)
	TouchSession(ctx context.Context, id string, at time.Time) error
	ListSessions(ctx context.Context, userID string, seenSince time.Time) ([]Session, error)
	DeleteSession(ctx context.Context, userID, sessionID string) error
	DeleteSessions(ctx context.Context, userID, exceptID string) ([]string, error)

	CreateToken(ctx context.Context, t OneTimeToken) error
	PeekToken(ctx context.Context, hash []byte, purpose string, now time.Time) (OneTimeToken, error)
	ConsumeToken(ctx context.Context, hash []byte, purpose string, now time.Time) (OneTimeToken, error)

	KnownDevice(ctx context.Context, email string, hash []byte, since time.Time) (bool, error)
	DeviceIssued(ctx context.Context, hash []byte) (bool, error)
	RememberDevice(ctx context.Context, userID string, hash []byte, at time.Time) error
	ForgetDevices(ctx context.Context, userID string) error

	IdentityUser(ctx context.Context, provider, subject string) (User, error)
	LinkIdentity(ctx context.Context, userID string, id Identity) error

	// MailSuppression: an address that bounced or complained may be verified again.
	MailSuppression(ctx context.Context, email string) (MailSuppression, error)

	ExportUser(ctx context.Context, userID string) (UserExport, error)
	ExportPage(ctx context.Context, section ExportSection, userID, after string, limit int) ([]ExportRow, error)
}

// AccountMailer sends the account e-mails; push/ implements it over SMTP.
type AccountMailer interface {
	SendVerifyEmail(ctx context.Context, to, displayName, link string) error
	SendPasswordReset(ctx context.Context, to, displayName, link string) error
	SendEmailChanged(ctx context.Context, to, displayName, newEmail string) error
	// SendEmailInUse tells the owner of an address that someone asked to move another
	// account to it; a fixed text.
	SendEmailInUse(ctx context.Context, to, displayName string) error
}

// SetClock replaces the clock; tests use it to step past timeouts.
func (a *Accounts) SetClock(now func() time.Time) { a.now = now }

func (a *Accounts) sessionsEnded(ctx context.Context, userID string, sessionIDs ...string) {
	if a.cfg.Sockets != nil && len(sessionIDs) > 0 {
		a.cfg.Sockets.CloseSessions(ctx, userID, sessionIDs)
	}
}

// GrantAdmin gives (or takes back) the admin role; only the command line calls it.
func (a *Accounts) GrantAdmin(ctx context.Context, email string, admin bool) (User, error) {
	return a.store.SetAdmin(ctx, NormalizeEmail(email), admin)
}

// SetDisabled disables (or re-enables) an account. Disabling ends every session at once.
func (a *Accounts) SetDisabled(ctx context.Context, email string, disabled bool) (User, error) {
	u, err := a.store.SetDisabled(ctx, NormalizeEmail(email), disabled)
	if err != nil {
		return User{}, err
	}
	if disabled {
		if _, err := a.LogoutEverywhere(ctx, u.ID); err != nil {
			return User{}, err
		}
	}
	return u, nil
}
