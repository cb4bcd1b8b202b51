package market

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// RequestPasswordReset e-mails a reset link when an active account has this address.
// It answers the same whether or not one does, so it reveals no accounts.
func (a *Accounts) RequestPasswordReset(ctx context.Context, email string) error {
	u, err := a.store.UserByEmail(ctx, NormalizeEmail(email))
	if errors.Is(err, ErrNotFound) || err == nil && !u.Active() {
		return nil
	}
	if err != nil {
		return err
	}
	link, err := a.issueToken(ctx, u.ID, PurposeResetPassword, "/reset-password", a.cfg.ResetTTL, nil)
	if err != nil {
		return err
	}
	if err := a.mail.SendPasswordReset(ctx, u.Email, u.DisplayName, link); err != nil {
		return fmt.Errorf("send reset mail: %w", err)
	}
	return nil
}

// ResetPassword sets a new password with a reset token and ends every session of the
// user. It returns a gone Error for a bad token and an invalid Error for a weak password;
// a weak password does not use up the token.
func (a *Accounts) ResetPassword(ctx context.Context, token, newPassword string) error {
	if token == "" {
		return FieldError(CodeInvalid, "token", "is required")
	}
	peek, err := a.store.PeekToken(ctx, HashSecret(token), PurposeResetPassword, a.now())
	if ErrorCode(err) == CodeNotFound {
		return FieldError(CodeGone, "token", "is invalid, expired or already used")
	}
	if err != nil {
		return err
	}
	u, err := a.store.UserByID(ctx, peek.UserID)
	if err != nil {
		return err
	}
	if err := CheckPassword("new_password", newPassword, u.Email, u.Username); err != nil {
		return err
	}
	if _, err := a.consumeToken(ctx, token, PurposeResetPassword); err != nil {
		return err
	}
	if err := a.setPassword(ctx, u.ID, newPassword); err != nil {
		return err
	}
	// A reset is how an owner takes an account back: devices that signed in before,
	// perhaps someone else's, are no longer trusted past the sign-in throttle.
	if err := a.store.ForgetDevices(ctx, u.ID); err != nil {
		return err
	}
	_, err = a.LogoutEverywhere(ctx, u.ID)
	return err
}

// ChangePassword replaces the password after checking the current one, and ends every
// other session. It returns an unauthorized Error when current is wrong.
func (a *Accounts) ChangePassword(ctx context.Context, u User, s Session, current, newPassword string) error {
	if err := a.reauthenticate(ctx, u, s, "current_password", current); err != nil {
		return err
	}
	if err := CheckPassword("new_password", newPassword, u.Email, u.Username); err != nil {
		return err
	}
	if err := a.setPassword(ctx, u.ID, newPassword); err != nil {
		return err
	}
	ended, err := a.store.DeleteSessions(ctx, u.ID, s.ID)
	if err != nil {
		return err
	}
	a.sessionsEnded(ctx, u.ID, ended...)
	return nil
}

func (a *Accounts) setPassword(ctx context.Context, userID, password string) error {
	hash, err := a.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return a.store.SetPasswordHash(ctx, userID, hash)
}

// recentSignIn is how fresh a session must be to stand in for a password, for an
// account that has none (made through Google sign-in).
const recentSignIn = 10 * time.Minute

// reauthenticate guards a sensitive change (password, e-mail, deletion) against a
// stolen session: the password in field must be right, or, for an account without a
// password, the session must be a fresh sign-in. It returns a forbidden Error naming
// field otherwise (forbidden, not unauthorized: the caller is still signed in).
func (a *Accounts) reauthenticate(ctx context.Context, u User, s Session, field, password string) error {
	if u.PasswordHash == nil {
		if a.now().Sub(s.CreatedAt) > recentSignIn {
			return FieldError(CodeForbidden, field, "sign in again to confirm this change")
		}
		return nil
	}
	ok, err := a.hasher.Verify(ctx, password, *u.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		return FieldError(CodeForbidden, field, "is wrong")
	}
	return nil
}

// CheckEmailChange validates a request to move the account to newEmail and checks the
// caller's password (reauthenticate); it returns the normalized address. It says
// nothing about whether the address is taken: SendEmailChange acts on that, after the
// answer, so neither the answer nor its timing tells an account's address apart from
// a free one. It returns an invalid Error for a malformed address and a forbidden
// Error for a wrong password.
func (a *Accounts) CheckEmailChange(ctx context.Context, u User, s Session, newEmail, current string) (string, error) {
	newEmail = NormalizeEmail(newEmail)
	if err := CheckEmail("new_email", newEmail); err != nil {
		return "", err
	}
	if err := a.reauthenticate(ctx, u, s, "current_password", current); err != nil {
		return "", err
	}
	return newEmail, nil
}

// SendEmailChange mails a free address the single-use confirmation link (the address
// changes only when that link is used) and tells the owner of a taken address, in a
// fixed text, that someone asked for it and nothing changed. Neither mail carries
// anything the requester wrote: the requester is not yet known to own the address.
func (a *Accounts) SendEmailChange(ctx context.Context, u User, newEmail string) error {
	owner, err := a.store.UserByEmail(ctx, newEmail)
	if err == nil {
		if err := a.mail.SendEmailInUse(ctx, owner.Email, owner.DisplayName); err != nil {
			return fmt.Errorf("send address-in-use notice: %w", err)
		}
		return nil
	}
	if !errors.Is(err, ErrNotFound) {
		return err
	}
	link, err := a.issueToken(ctx, u.ID, PurposeChangeEmail, "/confirm-email", a.cfg.VerifyTTL, &newEmail)
	if err != nil {
		return err
	}
	if err := a.mail.SendVerifyEmail(ctx, newEmail, "", link); err != nil {
		return fmt.Errorf("send email-change link: %w", err)
	}
	return nil
}

// ConfirmEmailChange switches the account to the address the token was sent to and
// tells the old address. It returns a gone Error for a bad token and a conflict Error
// if the address was taken meanwhile.
func (a *Accounts) ConfirmEmailChange(ctx context.Context, token string) error {
	if token == "" {
		return FieldError(CodeInvalid, "token", "is required")
	}
	t, err := a.store.PeekToken(ctx, HashSecret(token), PurposeChangeEmail, a.now())
	if ErrorCode(err) == CodeNotFound || err == nil && t.NewEmail == nil {
		return FieldError(CodeGone, "token", "is invalid, expired or already used")
	}
	if err != nil {
		return err
	}
	u, err := a.store.UserByID(ctx, t.UserID)
	if err != nil {
		return fmt.Errorf("email change for %s: %w", t.UserID, err)
	}
	if _, err := a.store.UserByEmail(ctx, *t.NewEmail); err == nil {
		return FieldError(CodeConflict, "new_email", "is already in use")
	}
	if _, err := a.consumeToken(ctx, token, PurposeChangeEmail); err != nil {
		return err
	}
	if err := a.store.SetEmail(ctx, u.ID, *t.NewEmail); err != nil {
		return err
	}
	if err := a.mail.SendEmailChanged(ctx, u.Email, u.DisplayName, *t.NewEmail); err != nil {
		a.log.ErrorContext(ctx, "email-changed notice not sent", "user_id", u.ID, "err", err)
	}
	return nil
}
