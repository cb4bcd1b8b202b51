package market

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"strings"
	"time"
)

// TwoFactor is two-factor authentication: TOTP (RFC 6238) enrolment confirmed by a
// first code, single-use recovery codes, disable and regeneration that need a code,
// and the step-up that money-moving requests require (RequireRecent).
type TwoFactor struct {
	store  TwoFactorStore
	sealer *SecretSealer
	cfg    TwoFactorConfig
	log    *slog.Logger
	now    func() time.Time
}

// TwoFactorConfig tunes two-factor authentication. The zero value means the defaults.
type TwoFactorConfig struct {
	Issuer      string        // shown in authenticator apps; default "GigStream"
	StepUpFor   time.Duration // how long a verified session may move money; default 5 minutes
	MaxFailures int           // wrong codes in a row before a lock; default 5
	LockFor     time.Duration // the lock after MaxFailures; default 15 minutes
}

// TwoFactorStore keeps enrolments, recovery codes and verified sessions; store/
// implements it. Attempt locks the user's two_factor row, lets check decide on it
// (not found when there is none) and, in the same transaction, records the outcome:
// a pass consumes the TOTP step or the recovery code and does in.Action; a failure
// counts towards the lock. Nothing is written for a locked record.
type TwoFactorStore interface {
	TwoFactor(ctx context.Context, userID string) (TwoFactorRecord, error)
	BeginTwoFactor(ctx context.Context, userID string, sealed []byte) error
	Attempt(ctx context.Context, in TwoFactorAttempt, check func(TwoFactorRecord) TwoFactorCheck) (TwoFactorCheck, error)
	SessionVerifiedAt(ctx context.Context, sessionID string) (time.Time, error)
}

// TwoFactorRecord is a user's enrolment as stored.
type TwoFactorRecord struct {
	UserID        string     `db:"user_id"`
	SecretSealed  []byte     `db:"secret_sealed"`
	EnabledAt     *time.Time `db:"enabled_at"`
	LastStep      int64      `db:"last_step"`
	Failures      int        `db:"failures"`
	LockedUntil   *time.Time `db:"locked_until"`
	RecoveryLeft  int        `db:"recovery_left"`
	RecoveryCodes [][]byte   `db:"-"` // the hashes of the unused codes, for Attempt's check
}

// The actions a passed second factor unlocks.
const (
	TwoFactorConfirm    = "confirm"    // enable the enrolment, store new recovery codes, verify the session
	TwoFactorVerify     = "verify"     // verify the session (step-up)
	TwoFactorDisable    = "disable"    // remove the enrolment and its codes
	TwoFactorRegenerate = "regenerate" // replace the recovery codes
)

// TwoFactorAttempt is one use of a second factor for Action, in SessionID.
type TwoFactorAttempt struct {
	UserID, SessionID, Action string
	Now                       time.Time
	MaxFailures               int
	LockFor                   time.Duration
	NewRecoveryCodes          [][]byte // hashes, for confirm and regenerate
}

// TwoFactorCheck is check's verdict: Pass, with the TOTP Step it used or the
// RecoveryCode hash it used; Locked when the record is locked (nothing is written).
type TwoFactorCheck struct {
	Pass         bool
	Locked       bool
	Step         int64
	RecoveryCode []byte
}

// TwoFactorStatus is what the user sees of their two-factor authentication.
type TwoFactorStatus struct {
	Enabled           bool       `json:"enabled"`
	Pending           bool       `json:"pending"` // an enrolment waits for its first code
	RecoveryCodesLeft int        `json:"recovery_codes_left"`
	VerifiedUntil     *time.Time `json:"verified_until"` // this session may move money until then
}

// TwoFactorEnrolment is a new secret for the user's authenticator app.
type TwoFactorEnrolment struct {
	Secret     string `json:"secret"`      // base32, to type in
	OTPAuthURI string `json:"otpauth_uri"` // for a QR code
}

// SecondFactor is what the user typed: a TOTP Code or a RecoveryCode.
type SecondFactor struct {
	Code         string `json:"code"`
	RecoveryCode string `json:"recovery_code"`
}

// NewTwoFactor returns the two-factor use cases; sealer nil means no TWO_FACTOR_KEY is
// configured, and enrolment is unavailable.
func NewTwoFactor(s TwoFactorStore, sealer *SecretSealer, cfg TwoFactorConfig, log *slog.Logger) *TwoFactor {
	if cfg.Issuer == "" {
		cfg.Issuer = "GigStream"
	}
	if cfg.StepUpFor <= 0 {
		cfg.StepUpFor = 5 * time.Minute
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 5
	}
	if cfg.LockFor <= 0 {
		cfg.LockFor = 15 * time.Minute
	}
	if log == nil {
		log = slog.Default()
	}
	return &TwoFactor{store: s, sealer: sealer, cfg: cfg, log: log, now: time.Now}
}

// Status returns the caller's two-factor state in session sessionID.
func (f *TwoFactor) Status(ctx context.Context, userID, sessionID string) (TwoFactorStatus, error) {
	rec, err := f.store.TwoFactor(ctx, userID)
	if ErrorCode(err) == CodeNotFound {
		return TwoFactorStatus{}, nil
	} else if err != nil {
		return TwoFactorStatus{}, err
	}
	st := TwoFactorStatus{Enabled: rec.EnabledAt != nil, Pending: rec.EnabledAt == nil, RecoveryCodesLeft: rec.RecoveryLeft}
	if at, err := f.store.SessionVerifiedAt(ctx, sessionID); err == nil && st.Enabled {
		until := at.Add(f.cfg.StepUpFor)
		if until.After(f.now()) {
			st.VerifiedUntil = &until
		}
	}
	return st, nil
}

// Enrol starts (or restarts) the caller's enrolment with a new secret; it is enabled
// by Confirm with a first code. It returns a conflict naming two_factor when two-factor
// authentication is already on, and unavailable when no key is configured.
func (f *TwoFactor) Enrol(ctx context.Context, u User) (TwoFactorEnrolment, error) {
	if f.sealer == nil {
		return TwoFactorEnrolment{}, Errorf(CodeUnavailable, "two-factor authentication is not configured on this server (TWO_FACTOR_KEY)")
	}
	secret := make([]byte, 20)
	if _, err := rand.Read(secret); err != nil {
		return TwoFactorEnrolment{}, err
	}
	sealed, err := f.sealer.Seal(secret, u.ID)
	if err != nil {
		return TwoFactorEnrolment{}, err
	}
	if err := f.store.BeginTwoFactor(ctx, u.ID, sealed); err != nil {
		return TwoFactorEnrolment{}, err
	}
	return TwoFactorEnrolment{Secret: EncodeTOTPSecret(secret), OTPAuthURI: OTPAuthURI(f.cfg.Issuer, u.Email, secret)}, nil
}

// Confirm enables a pending enrolment with its first code, verifies this session and
// returns ten recovery codes, shown only now. Errors: not found naming two_factor
// without an enrolment, conflict when already enabled, and those of the check.
func (f *TwoFactor) Confirm(ctx context.Context, userID, sessionID, code string) ([]string, error) {
	codes, hashes := newRecoveryCodes()
	err := f.attempt(ctx, TwoFactorAttempt{UserID: userID, SessionID: sessionID, Action: TwoFactorConfirm, NewRecoveryCodes: hashes},
		SecondFactor{Code: code}, false)
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// Verify checks a code or recovery code and marks the session verified for StepUpFor;
// it returns until when.
func (f *TwoFactor) Verify(ctx context.Context, userID, sessionID string, in SecondFactor) (time.Time, error) {
	if err := f.attempt(ctx, TwoFactorAttempt{UserID: userID, SessionID: sessionID, Action: TwoFactorVerify}, in, true); err != nil {
		return time.Time{}, err
	}
	return f.now().Add(f.cfg.StepUpFor), nil
}

// Disable turns two-factor authentication off with a code or a recovery code (the
// way back for a lost device: disable with a recovery code, then enrol again).
func (f *TwoFactor) Disable(ctx context.Context, userID, sessionID string, in SecondFactor) error {
	return f.attempt(ctx, TwoFactorAttempt{UserID: userID, SessionID: sessionID, Action: TwoFactorDisable}, in, true)
}

// RegenerateRecoveryCodes replaces every recovery code after a code check and returns
// the new ones.
func (f *TwoFactor) RegenerateRecoveryCodes(ctx context.Context, userID, sessionID string, in SecondFactor) ([]string, error) {
	codes, hashes := newRecoveryCodes()
	err := f.attempt(ctx, TwoFactorAttempt{UserID: userID, SessionID: sessionID, Action: TwoFactorRegenerate, NewRecoveryCodes: hashes}, in, true)
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// RequireRecent is the gate of money-moving requests: the user has two-factor
// authentication on and this session passed it within StepUpFor. Otherwise a
// forbidden Error naming two_factor says what to do.
func (f *TwoFactor) RequireRecent(ctx context.Context, userID, sessionID string) error {
	st, err := f.Status(ctx, userID, sessionID)
	if err != nil {
		return err
	}
	if !st.Enabled {
		return FieldError(CodeForbidden, "two_factor", "turn on two-factor authentication first (POST /me/2fa/enrol, then /me/2fa/confirm)")
	}
	if st.VerifiedUntil == nil {
		return FieldError(CodeForbidden, "two_factor", "confirm it is you: POST /me/2fa/verify with a code from your app, then retry")
	}
	return nil
}

// attempt runs one check of sf against the user's enrolment under its row lock.
// enabled says whether the enrolment must be enabled (all but Confirm). It returns
// unauthorized naming code for a wrong, reused or expired code, rate_limited while
// locked, and not found or conflict naming two_factor for the wrong state.
func (f *TwoFactor) attempt(ctx context.Context, in TwoFactorAttempt, sf SecondFactor, enabled bool) error {
	code, recovery := normalizeCode(sf.Code), strings.ToUpper(normalizeCode(sf.RecoveryCode))
	if (code == "") == (recovery == "") || (!enabled && recovery != "") {
		return FieldError(CodeInvalid, "code", "send either a 6-digit code from your app or a recovery code")
	}
	if f.sealer == nil {
		return Errorf(CodeUnavailable, "two-factor authentication is not configured on this server (TWO_FACTOR_KEY)")
	}
	in.Now, in.MaxFailures, in.LockFor = f.now(), f.cfg.MaxFailures, f.cfg.LockFor
	var stateErr error
	chk, err := f.store.Attempt(ctx, in, func(rec TwoFactorRecord) TwoFactorCheck {
		switch {
		case enabled && rec.EnabledAt == nil:
			stateErr = FieldError(CodeNotFound, "two_factor", "two-factor authentication is not on")
		case !enabled && rec.EnabledAt != nil:
			stateErr = FieldError(CodeConflict, "two_factor", "two-factor authentication is already on")
		case rec.LockedUntil != nil && rec.LockedUntil.After(in.Now):
			stateErr = FieldError(CodeRateLimited, "code", "too many wrong codes; try again after "+rec.LockedUntil.UTC().Format(time.RFC3339))
		default:
			return f.check(rec, in.Now, code, recovery)
		}
		return TwoFactorCheck{Locked: true}
	})
	switch {
	case ErrorCode(err) == CodeNotFound:
		return FieldError(CodeNotFound, "two_factor", "two-factor authentication is not on")
	case err != nil:
		return err
	case stateErr != nil:
		return stateErr
	case !chk.Pass:
		f.log.WarnContext(ctx, "two-factor code refused", "user_id", in.UserID, "action", in.Action)
		return errWrongCode
	}
	return nil
}

// errWrongCode is the answer to a code that does not pass (wrong, reused or expired).
var errWrongCode = FieldError(CodeUnauthorized, "code", "the code is wrong, expired or already used")

// check decides on a code against a locked record: a TOTP code of the current step
// or one either side that is later than the last one accepted, or an unused recovery
// code.
func (f *TwoFactor) check(rec TwoFactorRecord, now time.Time, code, recovery string) TwoFactorCheck {
	if recovery != "" {
		h := sha256.Sum256([]byte(recovery))
		for _, c := range rec.RecoveryCodes {
			if string(c) == string(h[:]) {
				return TwoFactorCheck{Pass: true, RecoveryCode: h[:]}
			}
		}
		return TwoFactorCheck{}
	}
	secret, err := f.sealer.Open(rec.SecretSealed, rec.UserID)
	if err != nil {
		f.log.Error("two-factor secret does not open (TWO_FACTOR_KEY changed?)", "user_id", rec.UserID, "err", err)
		return TwoFactorCheck{}
	}
	step, ok := StandardTOTP(secret).Match(code, now, 1)
	if !ok || step <= rec.LastStep {
		return TwoFactorCheck{}
	}
	return TwoFactorCheck{Pass: true, Step: step}
}

// recoveryAlphabet is Crockford-like base32 without look-alikes.
const recoveryAlphabet = "ABCDEFGHJKMNPQRSTVWXYZ0123456789"

// newRecoveryCodes makes ten codes of 12 characters (60 bits) shown as XXXX-XXXX-XXXX,
// and their SHA-256 hashes (of the code without dashes).
func newRecoveryCodes() ([]string, [][]byte) {
	codes, hashes := make([]string, 10), make([][]byte, 10)
	for i := range codes {
		raw := make([]byte, 12)
		_, _ = rand.Read(raw) // crypto/rand.Read never fails
		var b strings.Builder
		for j, r := range raw {
			if j > 0 && j%4 == 0 {
				b.WriteByte('-')
			}
			b.WriteByte(recoveryAlphabet[int(r)%len(recoveryAlphabet)])
		}
		codes[i] = b.String()
		h := sha256.Sum256([]byte(normalizeCode(codes[i])))
		hashes[i] = h[:]
	}
	return codes, hashes
}

// SetClock replaces the clock (tests).
func (f *TwoFactor) SetClock(now func() time.Time) { f.now = now }
