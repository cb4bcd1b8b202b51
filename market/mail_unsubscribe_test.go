package market

import (
	"strings"
	"testing"
	"time"
)

func TestUnsubscribeTokensRoundTripAndRefuseForgeries(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	tokens := NewUnsubscribeTokens(key, time.Hour)
	now := time.Unix(1_800_000_000, 0)
	tok := tokens.Make("6f1c2b9e-0000-4000-8000-000000000001", CategoryOrders, now)
	user, cat, err := tokens.Check(tok, now.Add(time.Minute))
	if err != nil || user != "6f1c2b9e-0000-4000-8000-000000000001" || cat != CategoryOrders {
		t.Fatalf("Check = %q, %q, %v", user, cat, err)
	}
	version, rest, _ := strings.Cut(tok, ".")
	payload, mac, _ := strings.Cut(rest, ".")
	flip := func(s string) string { // change one character, keeping base64url
		b := []byte(s)
		if b[0] == 'A' {
			b[0] = 'B'
		} else {
			b[0] = 'A'
		}
		return string(b)
	}
	other := NewUnsubscribeTokens([]byte(strings.Repeat("x", 32)), time.Hour)
	for name, bad := range map[string]string{
		"altered payload": version + "." + flip(payload) + "." + mac,
		"altered mac":     version + "." + payload + "." + flip(mac),
		"other key":       other.Make("6f1c2b9e-0000-4000-8000-000000000001", CategoryOrders, now),
		"other version":   "v2." + payload + "." + mac,
		"empty":           "",
		"garbage":         "v1.%%%.###",
	} {
		if _, _, err := tokens.Check(bad, now); ErrorCode(err) != CodeForbidden {
			t.Errorf("%s: err %v, want forbidden", name, err)
		}
	}
	if _, _, err := tokens.Check(tok, now.Add(2*time.Hour)); ErrorCode(err) != CodeGone {
		t.Errorf("expired: err %v, want gone", err)
	}
	sec := tokens.Make("6f1c2b9e-0000-4000-8000-000000000001", CategorySecurity, now)
	if _, _, err := tokens.Check(sec, now); ErrorCode(err) != CodeInvalid {
		t.Errorf("security category: err %v, want invalid", err)
	}
	if (UnsubscribeTokens{}).Make("u", CategoryOrders, now) != "" || NewUnsubscribeTokens([]byte("short"), 0).On() {
		t.Error("tokens without a 32-byte key must be off")
	}
}

func TestUnsubscribeLinkLeavesSecurityMailOut(t *testing.T) {
	m := NewMailDelivery(nil, NewUnsubscribeTokens([]byte(strings.Repeat("k", 32)), 0), nil)
	if l := m.UnsubscribeLink("https://gs.test", "u1", CategorySecurity); l != "" {
		t.Fatalf("security mail got link %q", l)
	}
	if l := m.UnsubscribeLink("https://gs.test", "u1", CategoryMessages); !strings.HasPrefix(l, "https://gs.test/unsubscribe?token=v1.") {
		t.Fatalf("link %q", l)
	}
}
