package market

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// RegisterInput is what a new account gives.
type RegisterInput struct {
	Email, Username, DisplayName, Password string
	IsBuyer, IsSeller                      bool
}

// Register creates an account and e-mails a verification link. It returns an invalid
// Error naming the field that breaks a rule, or a conflict Error when the e-mail or
// username is taken. A failure to send the mail is logged, not returned: the user can
// ask for another link.
func (a *Accounts) Register(ctx context.Context, in RegisterInput) (User, error) {
	in.Email = NormalizeEmail(in.Email)
	in.Username = strings.TrimSpace(in.Username)
	if err := checkRegistration(in); err != nil {
		return User{}, err
	}
	hash, err := a.hasher.Hash(ctx, in.Password)
	if err != nil {
		return User{}, err
	}
	u, err := a.store.CreateUser(ctx, NewUser{
		Email: in.Email, Username: in.Username, DisplayName: strings.TrimSpace(in.DisplayName),
		PasswordHash: hash, IsBuyer: in.IsBuyer || !in.IsSeller, IsSeller: in.IsSeller,
	})
	if err != nil {
		return User{}, err
	}
	a.sendVerification(ctx, u)
	return u, nil
}

func checkRegistration(in RegisterInput) error {
	if err := CheckEmail("email", in.Email); err != nil {
		return err
	}
	if err := CheckUsername(in.Username); err != nil {
		return err
	}
	if err := CheckDisplayName(in.DisplayName); err != nil {
		return err
	}
	return CheckPassword("password", in.Password, in.Email, in.Username)
}

// ResendVerification e-mails a fresh verification link to a signed-in user whose
// address is not verified yet, or is verified but suppressed (it bounced or its owner
// complained): following the link lifts the suppression. Any other verified user gets
// a conflict Error.
func (a *Accounts) ResendVerification(ctx context.Context, u User) error {
	if u.EmailVerifiedAt != nil {
		_, err := a.store.MailSuppression(ctx, u.Email)
		if errors.Is(err, ErrNotFound) {
			return Errorf(CodeConflict, "the e-mail address is already verified")
		}
		if err != nil {
			return err
		}
	}
	a.sendVerification(ctx, u)
	return nil
}

func (a *Accounts) sendVerification(ctx context.Context, u User) {
	link, err := a.issueToken(ctx, u.ID, PurposeVerifyEmail, "/verify-email", a.cfg.VerifyTTL, nil)
	if err == nil {
		// No display name: whoever registered has not shown yet that the address is
		// theirs, so the mail carries nothing they wrote.
		err = a.mail.SendVerifyEmail(ctx, u.Email, "", link)
	}
	if err != nil {
		a.log.ErrorContext(ctx, "verification mail not sent", "user_id", u.ID, "err", err)
	}
}

// VerifyEmail marks the address of the token's user as verified. It returns a gone
// Error for an unknown, used or expired token.
func (a *Accounts) VerifyEmail(ctx context.Context, token string) error {
	t, err := a.consumeToken(ctx, token, PurposeVerifyEmail)
	if err != nil {
		return err
	}
	if err := a.store.MarkEmailVerified(ctx, t.UserID); err != nil {
		return fmt.Errorf("mark verified: %w", err)
	}
	return nil
}
