package e2e

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"testing"
	"time"
)

// twoFactorKey seals TOTP secrets in the nodes these tests start (32 bytes, base64).
const twoFactorKey = "ZTJlLXR3by1mYWN0b3Ita2V5LTMyLWJ5dGVzLi4uLi4="

// totpCode is the RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32 secret for the
// step offset steps from now, written here independently of the server's.
func totpCode(t *testing.T, secret string, offset int64) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	var counter [8]byte
	binary.BigEndian.PutUint64(counter[:], uint64(time.Now().Unix()/30+offset))
	mac := hmac.New(sha1.New, key)
	mac.Write(counter[:])
	sum := mac.Sum(nil)
	o := sum[19] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[o:o+4])&0x7fffffff)%1_000_000)
}

// enrolTwoFactor turns two-factor authentication on for c and returns the secret and
// the recovery codes; the session is verified (step-up) by the confirmation.
func enrolTwoFactor(t *testing.T, c *client) (string, []string) {
	t.Helper()
	var en struct {
		Secret     string
		OTPAuthURI string `json:"otpauth_uri"`
	}
	expect(t, c.do("POST", "/me/2fa/enrol", nil), 201, "enrol").json(t, &en)
	var out struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	expect(t, c.do("POST", "/me/2fa/confirm", map[string]string{"code": totpCode(t, en.Secret, 0)}), 200, "confirm").json(t, &out)
	if len(out.RecoveryCodes) != 10 {
		t.Fatalf("recovery codes %v", out.RecoveryCodes)
	}
	return en.Secret, out.RecoveryCodes
}

// TestTwoFactorEnrolVerifyRecoverDisable runs two-factor authentication over HTTP:
// enrolment confirmed by a first code, a wrong and a reused code refused, the step-up
// by a recovery code (single use), disable with a recovery code and enrol again.
func TestTwoFactorEnrolVerifyRecoverDisable(t *testing.T) {
	o := startOrderNode(t, nil, true)
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	var st struct {
		Enabled, Pending bool
		Left             int        `json:"recovery_codes_left"`
		Until            *time.Time `json:"verified_until"`
	}
	expect(t, seller.do("GET", "/me/2fa", nil), 200, "status").json(t, &st)
	if st.Enabled || st.Pending {
		t.Fatalf("before enrolling: %+v", st)
	}
	expectField(t, seller.do("POST", "/me/2fa/verify", map[string]string{"code": "123456"}), 404, "two_factor", "verify before enrolling")
	var en struct{ Secret, OTPAuthURI string }
	expect(t, seller.do("POST", "/me/2fa/enrol", nil), 201, "enrol").json(t, &en)
	expectField(t, seller.do("POST", "/me/2fa/confirm", map[string]string{"code": "12345x"}), 401, "code", "a wrong first code")
	code := totpCode(t, en.Secret, 0)
	var out struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	expect(t, seller.do("POST", "/me/2fa/confirm", map[string]string{"code": code}), 200, "confirm").json(t, &out)
	expectField(t, seller.do("POST", "/me/2fa/enrol", nil), 409, "two_factor", "enrol again")
	expectField(t, seller.do("POST", "/me/2fa/verify", map[string]string{"code": code}), 401, "code", "the same code again")
	expectField(t, seller.do("POST", "/me/2fa/verify", map[string]string{}), 422, "code", "no code")
	expect(t, seller.do("POST", "/me/2fa/verify", map[string]string{"recovery_code": out.RecoveryCodes[0]}), 200, "verify by recovery code")
	expectField(t, seller.do("POST", "/me/2fa/verify", map[string]string{"recovery_code": out.RecoveryCodes[0]}), 401, "code", "a used recovery code")
	expect(t, seller.do("GET", "/me/2fa", nil), 200, "status").json(t, &st)
	if !st.Enabled || st.Left != 9 || st.Until == nil {
		t.Fatalf("after verifying: %+v", st)
	}
	if n := o.sqlInt64(t, `SELECT count(*) FROM two_factor WHERE position(convert_to($1, 'UTF8') in secret_sealed) > 0`, en.Secret); n != 0 {
		t.Fatal("the TOTP secret is stored in the clear")
	}
	expect(t, seller.do("POST", "/me/2fa/disable", map[string]string{"recovery_code": out.RecoveryCodes[1]}), 204, "disable")
	expect(t, seller.do("GET", "/me/2fa", nil), 200, "status").json(t, &st)
	if st.Enabled {
		t.Fatalf("after disable: %+v", st)
	}
	enrolTwoFactor(t, seller)
}
