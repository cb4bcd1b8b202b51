package handlers

import (
	"errors"
	"net/netip"
	"testing"
)

func FuzzDecodeStrict(f *testing.F) {
	for _, seed := range []string{
		`{"email":"a@b.co","username":"abc","display_name":"A","password":"long enough pw"}`,
		`{"email":1}`, `{"is_admin":true}`, `{} {}`, `[`, ``, `null`, `{"email":"\u0000"}`,
		`{"email":"a@b.co","username":"abc","display_name":"A","password":"x","is_seller":"yes"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req registerRequest
		err := decodeStrict(body, &req)
		if err == nil {
			return
		}
		var p *Problem
		if !errors.As(err, &p) {
			t.Fatalf("decode error is not a Problem: %v", err)
		}
		if p.Status != 400 && p.Status != 422 {
			t.Fatalf("decode error status %d for %q", p.Status, body)
		}
		for _, fe := range p.Errors {
			if fe.Field == "" || fe.Message == "" {
				t.Fatalf("field error without field or message: %+v", p.Errors)
			}
		}
	})
}

func TestDecodeStrictNamesTheField(t *testing.T) {
	cases := map[string]struct {
		status int
		field  string
	}{
		`{"email":"a@b.co","username":"abc","display_name":"A","password":"long enough","role":"admin"}`: {400, "role"},
		`{"email":5}`:        {400, "email"},
		`{"email":"a@b.co"}`: {422, "username"},
	}
	for body, want := range cases {
		var req registerRequest
		var p *Problem
		if err := decodeStrict([]byte(body), &req); !errors.As(err, &p) || p.Status != want.status {
			t.Fatalf("%s: err = %v, want status %d", body, err, want.status)
		}
		if len(p.Errors) == 0 || p.Errors[0].Field != want.field {
			t.Errorf("%s: errors %+v, want field %q first", body, p.Errors, want.field)
		}
	}
}

func TestForwardedClientSkipsTrustedHopsOnly(t *testing.T) {
	px, err := parseProxies([]string{"10.0.0.0/8", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	peer := netip.MustParseAddr("127.0.0.1")
	for header, want := range map[string]string{
		"":                      "127.0.0.1",
		"203.0.113.9":           "203.0.113.9",
		"1.1.1.1, 203.0.113.9":  "203.0.113.9",
		"203.0.113.9, 10.1.2.3": "203.0.113.9",
		"garbage, 203.0.113.9":  "203.0.113.9",
		"203.0.113.9, garbage":  "127.0.0.1",
		"10.0.0.1, 10.0.0.2":    "10.0.0.1",
		"::ffff:203.0.113.9":    "203.0.113.9",
	} {
		if got := px.forwardedClient(header, peer).String(); got != want {
			t.Errorf("X-Forwarded-For %q: client %s, want %s", header, got, want)
		}
	}
	if _, err := parseProxies([]string{"not-an-ip"}); err == nil {
		t.Error("a malformed proxy entry was accepted")
	}
}
