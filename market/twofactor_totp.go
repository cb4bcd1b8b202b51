package market

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // RFC 4226/6238 HOTP is defined over HMAC-SHA-1, which authenticator apps use
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash"
	"net/url"
	"strings"
	"time"
)

// TOTP is a time-based one-time password generator (RFC 6238): HOTP (RFC 4226) over
// the number of Period steps since the Unix epoch. GigStream's codes are HMAC-SHA-1, 6
// digits, 30 s, as every authenticator app expects; the other hashes exist for the
// RFC's test vectors.
type TOTP struct {
	Secret []byte
	Digits int              // 6 or 8
	Period time.Duration    // the step, 30 s
	Hash   func() hash.Hash // sha1.New, sha256.New or sha512.New
}

// StandardTOTP is the TOTP of an authenticator app for secret: SHA-1, 6 digits, 30 s.
func StandardTOTP(secret []byte) TOTP {
	return TOTP{Secret: secret, Digits: 6, Period: 30 * time.Second, Hash: sha1.New}
}

// Step is the time step that t falls in.
func (o TOTP) Step(t time.Time) int64 { return t.Unix() / int64(o.Period/time.Second) }

// CodeAt returns the code of time step step, zero-padded to Digits.
func (o TOTP) CodeAt(step int64) string {
	mac := hmac.New(o.Hash, o.Secret)
	var counter [8]byte
	binary.BigEndian.PutUint64(counter[:], uint64(step))
	mac.Write(counter[:])
	sum := mac.Sum(nil)
	offset := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[offset:offset+4]) & 0x7fffffff
	mod := uint32(1)
	for range o.Digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", o.Digits, bin%mod)
}

// Match returns the step within skew steps of t whose code is code (compared in
// constant time), preferring the latest, and whether there was one. A code of the
// wrong length never matches.
func (o TOTP) Match(code string, t time.Time, skew int64) (int64, bool) {
	if len(code) != o.Digits {
		return 0, false
	}
	now := o.Step(t)
	for s := now + skew; s >= now-skew; s-- {
		if subtle.ConstantTimeCompare([]byte(o.CodeAt(s)), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}

// totpEncoding is the base32 of otpauth URIs: RFC 4648, upper case, no padding.
var totpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// EncodeTOTPSecret is secret as the user types it into an app.
func EncodeTOTPSecret(secret []byte) string { return totpEncoding.EncodeToString(secret) }

// OTPAuthURI is the otpauth://totp/ URI (Google Authenticator's key URI format) that an
// authenticator app reads from a QR code: issuer, account, secret and the parameters.
func OTPAuthURI(issuer, account string, secret []byte) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	q := url.Values{"secret": {EncodeTOTPSecret(secret)}, "issuer": {issuer},
		"algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// normalizeCode strips the spaces and dashes people type into codes.
func normalizeCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
}
