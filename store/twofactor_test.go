package store_test

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

// twoFactorFixture is a seller with a session and the two-factor use cases on a clock
// the test moves.
type twoFactorFixture struct {
	orderFixture
	tf      *market.TwoFactor
	user    market.User
	session string
	clock   *atomic.Int64 // unix seconds
}

func newTwoFactorFixture(t *testing.T) twoFactorFixture {
	t.Helper()
	f := twoFactorFixture{orderFixture: newOrderFixture(t), clock: &atomic.Int64{}}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sealer, err := market.NewSecretSealer(key)
	must(t, err)
	f.tf = market.NewTwoFactor(f.db, sealer, market.TwoFactorConfig{}, nil)
	f.clock.Store(1_800_000_000)
	f.tf.SetClock(func() time.Time { return time.Unix(f.clock.Load(), 0) })
	f.user, err = f.db.UserByID(context.Background(), f.seller)
	must(t, err)
	s, err := f.db.CreateSession(context.Background(), market.Session{UserID: f.seller, TokenHash: make([]byte, 32), CSRFToken: "c",
		Kind: market.SessionBearer, ExpiresAt: time.Now().Add(time.Hour)})
	must(t, err)
	f.session = s.ID
	return f
}

// code is the app's code at the fixture's clock plus offset steps.
func (f twoFactorFixture) code(t *testing.T, secret string, offset int64) string {
	t.Helper()
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	must(t, err)
	o := market.StandardTOTP(raw)
	return o.CodeAt(o.Step(time.Unix(f.clock.Load(), 0)) + offset)
}

func TestTwoFactorEnrolConfirmVerifyAndRecover(t *testing.T) {
	f := newTwoFactorFixture(t)
	ctx := context.Background()
	if err := f.tf.RequireRecent(ctx, f.seller, f.session); market.ErrorCode(err) != market.CodeForbidden {
		t.Fatalf("no enrolment: %v", err)
	}
	en, err := f.tf.Enrol(ctx, f.user)
	must(t, err)
	if _, err := f.tf.Verify(ctx, f.seller, f.session, market.SecondFactor{Code: f.code(t, en.Secret, 0)}); market.ErrorCode(err) != market.CodeNotFound {
		t.Fatalf("verify before confirming: %v", err)
	}
	if _, err := f.tf.Confirm(ctx, f.seller, f.session, "000000"); market.ErrorCode(err) != market.CodeUnauthorized {
		t.Fatalf("a wrong first code: %v", err)
	}
	codes, err := f.tf.Confirm(ctx, f.seller, f.session, f.code(t, en.Secret, 0))
	if err != nil || len(codes) != 10 {
		t.Fatalf("confirm: %v %v", codes, err)
	}
	must(t, f.tf.RequireRecent(ctx, f.seller, f.session))
	var stored int
	must(t, f.raw.QueryRow(`SELECT count(*) FROM two_factor WHERE position($1::bytea in secret_sealed) > 0`, []byte(en.Secret)).Scan(&stored))
	if stored != 0 {
		t.Fatal("the secret is stored in the clear")
	}
	if _, err := f.tf.Enrol(ctx, f.user); market.ErrorCode(err) != market.CodeConflict {
		t.Fatalf("enrol twice: %v", err)
	}

	// The step-up ends; the same code cannot be used again, the next step's can.
	f.clock.Add(6 * 60)
	if err := f.tf.RequireRecent(ctx, f.seller, f.session); market.ErrorCode(err) != market.CodeForbidden {
		t.Fatalf("after the step-up ended: %v", err)
	}
	code := f.code(t, en.Secret, 0)
	if _, err := f.tf.Verify(ctx, f.seller, f.session, market.SecondFactor{Code: code}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.tf.Verify(ctx, f.seller, f.session, market.SecondFactor{Code: code}); market.ErrorCode(err) != market.CodeUnauthorized {
		t.Fatalf("a reused code: %v", err)
	}

	// Four at once with one recovery code: one passes (the others count as wrong).
	var wg sync.WaitGroup
	var passed atomic.Int32
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.tf.Verify(ctx, f.seller, f.session, market.SecondFactor{RecoveryCode: codes[0]}); err == nil {
				passed.Add(1)
			}
		}()
	}
	wg.Wait()
	if passed.Load() != 1 {
		t.Fatalf("a recovery code passed %d times", passed.Load())
	}
	st, err := f.tf.Status(ctx, f.seller, f.session)
	if err != nil || !st.Enabled || st.RecoveryCodesLeft != 9 || st.VerifiedUntil == nil {
		t.Fatalf("status %+v %v", st, err)
	}

	// Lost device: disable with a recovery code (lower case, no dashes), enrol again.
	lower := []byte(codes[1])
	for i, c := range lower {
		if c >= 'A' && c <= 'Z' {
			lower[i] = c + 'a' - 'A'
		}
	}
	must(t, f.tf.Disable(ctx, f.seller, f.session, market.SecondFactor{RecoveryCode: string(lower)}))
	if st, _ := f.tf.Status(ctx, f.seller, f.session); st.Enabled || st.Pending {
		t.Fatalf("after disable: %+v", st)
	}
	if _, err := f.tf.Enrol(ctx, f.user); err != nil {
		t.Fatal(err)
	}
}

func TestTwoFactorLocksAfterWrongCodesAndRegenerates(t *testing.T) {
	f := newTwoFactorFixture(t)
	ctx := context.Background()
	en, err := f.tf.Enrol(ctx, f.user)
	must(t, err)
	codes, err := f.tf.Confirm(ctx, f.seller, f.session, f.code(t, en.Secret, 0))
	must(t, err)
	f.clock.Add(30)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = f.tf.Verify(ctx, f.seller, f.session, market.SecondFactor{Code: "999999"})
		}()
	}
	wg.Wait()
	_, err = f.tf.Verify(ctx, f.seller, f.session, market.SecondFactor{Code: f.code(t, en.Secret, 0)})
	if market.ErrorCode(err) != market.CodeRateLimited {
		t.Fatalf("a right code while locked: %v", err)
	}
	f.clock.Add(16 * 60)
	fresh, err := f.tf.RegenerateRecoveryCodes(ctx, f.seller, f.session, market.SecondFactor{Code: f.code(t, en.Secret, 0)})
	if err != nil || len(fresh) != 10 {
		t.Fatalf("regenerate after the lock: %v", err)
	}
	if _, err := f.tf.Verify(ctx, f.seller, f.session, market.SecondFactor{RecoveryCode: codes[2]}); market.ErrorCode(err) != market.CodeUnauthorized {
		t.Fatalf("an old recovery code after regenerating: %v", err)
	}
	if err := f.tf.Disable(ctx, f.seller, f.session, market.SecondFactor{Code: "12", RecoveryCode: fresh[0]}); market.ErrorCode(err) != market.CodeInvalid {
		t.Fatalf("both a code and a recovery code: %v", err)
	}
}
