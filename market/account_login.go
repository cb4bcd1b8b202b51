package market

import (
	"context"
	"errors"
	"fmt"
)

// LoginInput is a password sign-in from one device.
type LoginInput struct {
	Email, Password string
	Kind            string // SessionCookie or SessionBearer
	UserAgent, IP   string
}

// SignedIn is the outcome of a sign-in: the user, the new session and its secret token,
// which is shown to the client once and never stored.
type SignedIn struct {
	User    User
	Session Session
	Token   string
}

// errBadCredentials is the one answer for an unknown e-mail, a wrong password, and a
// disabled account, so that sign-in reveals nothing about which accounts exist.
var errBadCredentials = Errorf(CodeUnauthorized, "the e-mail address or password is wrong")

// Login checks a password and opens a new session (a fresh id every time, so a session
// can never be fixed in advance). It returns an unauthorized Error on bad credentials.
func (a *Accounts) Login(ctx context.Context, in LoginInput) (SignedIn, error) {
	u, err := a.store.UserByEmail(ctx, NormalizeEmail(in.Email))
	if errors.Is(err, ErrNotFound) || err == nil && u.PasswordHash == nil {
		if err := a.hasher.dummyVerify(ctx, in.Password); err != nil {
			return SignedIn{}, err
		}
		return SignedIn{}, errBadCredentials
	}
	if err != nil {
		return SignedIn{}, err
	}
	ok, err := a.hasher.Verify(ctx, in.Password, *u.PasswordHash)
	if err != nil {
		return SignedIn{}, err
	}
	if !ok || !u.Active() {
		return SignedIn{}, errBadCredentials
	}
	return a.openSession(ctx, u, in.Kind, in.UserAgent, in.IP)
}

// openSession creates a session for u and returns it with its secret.
func (a *Accounts) openSession(ctx context.Context, u User, kind, userAgent, ip string) (SignedIn, error) {
	token, hash, err := NewSecret()
	if err != nil {
		return SignedIn{}, err
	}
	csrf, _, err := NewSecret()
	if err != nil {
		return SignedIn{}, err
	}
	if kind != SessionBearer {
		kind = SessionCookie
	}
	now := a.now()
	s, err := a.store.CreateSession(ctx, Session{
		UserID: u.ID, TokenHash: hash, CSRFToken: csrf, Kind: kind,
		UserAgent: truncate(userAgent, 256), IP: ip,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(a.cfg.SessionAbsolute),
	})
	if err != nil {
		return SignedIn{}, fmt.Errorf("create session: %w", err)
	}
	return SignedIn{User: u, Session: s, Token: token}, nil
}

// Authenticate resolves a session token to its live session and active user, and
// marks the session as used. It returns an unauthorized Error when the token is
// unknown, idle too long, past its absolute timeout, or its user is disabled.
func (a *Accounts) Authenticate(ctx context.Context, token string) (User, Session, error) {
	unauthorized := Errorf(CodeUnauthorized, "sign in first")
	if token == "" || len(token) > 128 {
		return User{}, Session{}, unauthorized
	}
	s, u, err := a.store.SessionWithUser(ctx, HashSecret(token))
	if errors.Is(err, ErrNotFound) {
		return User{}, Session{}, unauthorized
	}
	if err != nil {
		return User{}, Session{}, err
	}
	now := a.now()
	if !s.live(now, a.cfg.SessionIdle) {
		_ = a.store.DeleteSession(ctx, s.UserID, s.ID)
		return User{}, Session{}, unauthorized
	}
	if !u.Active() {
		return User{}, Session{}, unauthorized
	}
	if now.Sub(s.LastSeenAt) > touchEvery {
		if err := a.store.TouchSession(ctx, s.ID, now); err != nil {
			a.log.WarnContext(ctx, "session not touched", "err", err)
		}
	}
	return u, s, nil
}

// Logout ends one session.
func (a *Accounts) Logout(ctx context.Context, s Session) error {
	if err := a.store.DeleteSession(ctx, s.UserID, s.ID); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	a.sessionsEnded(ctx, s.UserID, s.ID)
	return nil
}

// LogoutEverywhere ends every session of the user, this one included, and returns how many.
func (a *Accounts) LogoutEverywhere(ctx context.Context, userID string) (int64, error) {
	ended, err := a.store.DeleteSessions(ctx, userID, "")
	if err != nil {
		return 0, err
	}
	a.sessionsEnded(ctx, userID, ended...)
	return int64(len(ended)), nil
}

// Sessions lists the user's live sessions (within both timeouts).
func (a *Accounts) Sessions(ctx context.Context, userID string) ([]Session, error) {
	return a.store.ListSessions(ctx, userID, a.now().Add(-a.cfg.SessionIdle))
}

// RevokeSession ends one of the user's sessions; another user's session id is a
// not-found Error, the same as an unknown one.
func (a *Accounts) RevokeSession(ctx context.Context, userID, sessionID string) error {
	if err := a.store.DeleteSession(ctx, userID, sessionID); err != nil {
		return err
	}
	a.sessionsEnded(ctx, userID, sessionID)
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}
