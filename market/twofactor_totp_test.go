package market

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestTOTPMatchesRFC6238Vectors checks every test vector of RFC 6238 appendix B
// (8 digits, 30 s, SHA-1/256/512 with the RFC's seeds).
func TestTOTPMatchesRFC6238Vectors(t *testing.T) {
	seeds := map[string][]byte{
		"SHA1":   []byte("12345678901234567890"),
		"SHA256": []byte("12345678901234567890123456789012"),
		"SHA512": []byte("1234567890123456789012345678901234567890123456789012345678901234"),
	}
	hashes := map[string]func() hash.Hash{"SHA1": sha1.New, "SHA256": sha256.New, "SHA512": sha512.New}
	vectors := []struct {
		unix int64
		mode string
		want string
	}{
		{59, "SHA1", "94287082"}, {59, "SHA256", "46119246"}, {59, "SHA512", "90693936"},
		{1111111109, "SHA1", "07081804"}, {1111111109, "SHA256", "68084774"}, {1111111109, "SHA512", "25091201"},
		{1111111111, "SHA1", "14050471"}, {1111111111, "SHA256", "67062674"}, {1111111111, "SHA512", "99943326"},
		{1234567890, "SHA1", "89005924"}, {1234567890, "SHA256", "91819424"}, {1234567890, "SHA512", "93441116"},
		{2000000000, "SHA1", "69279037"}, {2000000000, "SHA256", "90698825"}, {2000000000, "SHA512", "38618901"},
		{20000000000, "SHA1", "65353130"}, {20000000000, "SHA256", "77737706"}, {20000000000, "SHA512", "47863826"},
	}
	for _, v := range vectors {
		o := TOTP{Secret: seeds[v.mode], Digits: 8, Period: 30 * time.Second, Hash: hashes[v.mode]}
		at := time.Unix(v.unix, 0)
		if got := o.CodeAt(o.Step(at)); got != v.want {
			t.Errorf("%s at %d: %s, want %s", v.mode, v.unix, got, v.want)
		}
		if step, ok := o.Match(v.want, at, 0); !ok || step != o.Step(at) {
			t.Errorf("%s at %d: the vector does not match itself", v.mode, v.unix)
		}
	}
}

// TestRFC4226HOTPVectors checks the 6-digit HOTP values of RFC 4226 appendix D, which
// StandardTOTP's codes are (counter = step).
func TestRFC4226HOTPVectors(t *testing.T) {
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	o := StandardTOTP([]byte("12345678901234567890"))
	for i, w := range want {
		if got := o.CodeAt(int64(i)); got != w {
			t.Errorf("counter %d: %s, want %s", i, got, w)
		}
	}
}

func TestTOTPMatchWindowAndLength(t *testing.T) {
	o := StandardTOTP([]byte("12345678901234567890"))
	now := time.Unix(1_700_000_000, 0)
	prev := o.CodeAt(o.Step(now) - 1)
	if step, ok := o.Match(prev, now, 1); !ok || step != o.Step(now)-1 {
		t.Fatalf("the previous step's code must match within skew 1")
	}
	if _, ok := o.Match(o.CodeAt(o.Step(now)-2), now, 1); ok {
		t.Fatal("a code two steps old matched")
	}
	if _, ok := o.Match(prev+"0", now, 1); ok {
		t.Fatal("a 7-digit code matched")
	}
}

func TestOTPAuthURI(t *testing.T) {
	u, err := url.Parse(OTPAuthURI("GigStream", "maya@example.com", []byte("12345678901234567890")))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || !strings.HasPrefix(u.Path, "/GigStream:maya@example.com") ||
		q.Get("secret") != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" || q.Get("issuer") != "GigStream" || q.Get("digits") != "6" {
		t.Fatalf("uri %s", u)
	}
}
