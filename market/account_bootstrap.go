package market

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// AdminBootstrap is the first admin of a fresh deployment, as `gigstream bootstrap`
// gets it: the account's address, username and display name, and Password, called
// only when the account has to be created (so a re-run needs no password).
type AdminBootstrap struct {
	Email, Username, DisplayName string
	Password                     func() (string, error)
}

// BootstrapAdmin makes the deployment's first admin, once:
//   - the e-mail's account is an admin already: nothing changes (created false);
//   - another account is an admin: a conflict Error (give more with `admin grant`);
//   - the e-mail's account exists: it becomes the admin, its password unchanged (a
//     disabled or deleted one is a conflict Error);
//   - otherwise a new account with a verified address (the operator vouches for it)
//     and the admin role; a password or name that breaks the registration rules is an
//     invalid Error naming the field, and nothing is created.
//
// The checks above give early, clear answers; the grant itself (store
// MakeFirstAdmin) re-checks under a deployment-wide lock, so bootstraps with
// different addresses run at once make one admin, and the others get the conflict
// Error and create no account.
func (a *Accounts) BootstrapAdmin(ctx context.Context, in AdminBootstrap) (u User, created bool, err error) {
	in.Email, in.Username = NormalizeEmail(in.Email), strings.TrimSpace(in.Username)
	if err := CheckEmail("email", in.Email); err != nil {
		return User{}, false, err
	}
	u, err = a.store.UserByEmail(ctx, in.Email)
	if err == nil && u.IsAdmin {
		return u, false, nil
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, false, err
	}
	if other, err := a.store.AnyAdmin(ctx); err == nil {
		return User{}, false, Errorf(CodeConflict, "an admin exists already (%s): grant more with `gigstream admin grant EMAIL`", other.Email)
	} else if !errors.Is(err, ErrNotFound) {
		return User{}, false, err
	}
	if u.ID != "" && !u.Active() {
		return User{}, false, Errorf(CodeConflict, "the account of %s is disabled or deleted", in.Email)
	}
	if u.ID != "" {
		u, err = a.store.MakeFirstAdmin(ctx, in.Email, nil)
		return u, false, err
	}
	u, err = a.createAdmin(ctx, in)
	return u, err == nil, err
}

// createAdmin registers in's account, verified, with the admin role, unless another
// bootstrap made a different admin first (a conflict Error, and no account).
func (a *Accounts) createAdmin(ctx context.Context, in AdminBootstrap) (User, error) {
	password, err := in.Password()
	if err != nil {
		return User{}, fmt.Errorf("admin password: %w", err)
	}
	reg := RegisterInput{Email: in.Email, Username: in.Username, DisplayName: in.DisplayName, Password: password}
	if err := checkRegistration(reg); err != nil {
		return User{}, err
	}
	hash, err := a.hasher.Hash(ctx, password)
	if err != nil {
		return User{}, err
	}
	return a.store.MakeFirstAdmin(ctx, in.Email, &NewUser{
		Email: in.Email, Username: in.Username, DisplayName: strings.TrimSpace(in.DisplayName),
		PasswordHash: hash, IsBuyer: true, EmailVerified: true,
	})
}
