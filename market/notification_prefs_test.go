package market

import (
	"errors"
	"testing"
	"time"
)

// TestAllowedObeysEverySwitch is the preference matrix: for every kind and channel,
// turning that one switch off stops exactly that kind on exactly that channel, unless
// the switch cannot be turned off (security anywhere, messages in-app).
func TestAllowedObeysEverySwitch(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for kind, cat := range kindCategories {
		for _, ch := range Channels {
			for _, other := range Channels {
				p := NotificationPrefs{Off: map[Switch]bool{{cat, ch}: true}}
				got, until := Allowed(p, kind, other, now)
				want := other != ch || !Switchable(Switch{cat, ch})
				if got != want || !until.IsZero() {
					t.Errorf("%s off on %s: %s on %s allowed %v (until %v), want %v", cat, ch, kind, other, got, until, want)
				}
			}
		}
	}
}

func TestEveryKindHasACategory(t *testing.T) {
	kinds := []string{KindOrderPaid, KindPaymentFailed, KindOrderDelivered, KindRevisionRequested, KindOrderCompleted,
		KindOrderCancelled, KindOrderRefunded, KindReviewReceived, KindReviewAnswered, KindWithdrawalPaid,
		KindOrderDisputed, KindDisputeAnswered, KindDisputeWithdrawn, KindDisputeResolved,
		KindMessage, KindSavedSearchMatch, KindSecurity}
	for _, k := range kinds {
		if _, ok := CategoryOf(k); !ok {
			t.Errorf("kind %s has no category", k)
		}
	}
	if ok, _ := Allowed(NotificationPrefs{}, "no_such_kind", ChannelPush, time.Now()); ok {
		t.Error("an unknown kind may be pushed")
	}
}

func TestMutedConversationStopsPushAndEmailNotInApp(t *testing.T) {
	p := NotificationPrefs{ConversationMuted: true}
	for ch, want := range map[Channel]bool{ChannelInApp: true, ChannelPush: false, ChannelEmail: false} {
		if got, _ := Allowed(p, KindMessage, ch, time.Now()); got != want {
			t.Errorf("muted message on %s: %v, want %v", ch, got, want)
		}
	}
	if got, _ := Allowed(p, KindOrderPaid, ChannelPush, time.Now()); !got {
		t.Error("a muted conversation stopped an order push")
	}
}

func TestQuietHoursHoldPushesOnlyUntilTheyEnd(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	q := &QuietHours{Start: 22 * 60, End: 7 * 60, TimeZone: "Europe/Berlin"}
	p := NotificationPrefs{QuietHours: q}
	at := func(day, h, m int) time.Time { return time.Date(2026, 12, day, h, m, 0, 0, berlin) }
	cases := []struct {
		now  time.Time
		hold time.Time
	}{
		{at(3, 23, 30), at(4, 7, 0)},                                // before midnight: until tomorrow 07:00
		{at(31, 23, 30), time.Date(2027, 1, 1, 7, 0, 0, 0, berlin)}, // across the year
		{at(4, 6, 59), at(4, 7, 0)},                                 // after midnight: until today 07:00
		{at(4, 7, 0), time.Time{}},                                  // the end is outside
		{at(4, 21, 59), time.Time{}},
		{at(4, 22, 0), at(5, 7, 0)},
	}
	for _, c := range cases {
		ok, until := Allowed(p, KindOrderPaid, ChannelPush, c.now.UTC())
		if !ok || !until.Equal(c.hold) {
			t.Errorf("push at %v: %v until %v, want until %v", c.now, ok, until, c.hold)
		}
		for _, ch := range []Channel{ChannelInApp, ChannelEmail} {
			if ok, until := Allowed(p, KindOrderPaid, ch, c.now); !ok || !until.IsZero() {
				t.Errorf("%s at %v held until %v", ch, c.now, until)
			}
		}
		if ok, until := Allowed(p, KindSecurity, ChannelPush, c.now); !ok || !until.IsZero() {
			t.Errorf("security push at %v held until %v", c.now, until)
		}
	}
	day := NotificationPrefs{QuietHours: &QuietHours{Start: 9 * 60, End: 17 * 60, TimeZone: "Asia/Tokyo"}}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if _, until := Allowed(day, KindMessage, ChannelPush, time.Date(2026, 6, 1, 12, 0, 0, 0, tokyo)); !until.Equal(time.Date(2026, 6, 1, 17, 0, 0, 0, tokyo)) {
		t.Errorf("daytime quiet hours end at %v", until)
	}
}

func TestPrefsUpdateValidation(t *testing.T) {
	bad := []struct {
		field string
		u     NotificationPrefsUpdate
	}{
		{"channels.security.email", NotificationPrefsUpdate{Switches: map[Switch]bool{{CategorySecurity, ChannelEmail}: false}}},
		{"channels.messages.in_app", NotificationPrefsUpdate{Switches: map[Switch]bool{{CategoryMessages, ChannelInApp}: false}}},
		{"channels", NotificationPrefsUpdate{Switches: map[Switch]bool{{"gossip", ChannelEmail}: false}}},
		{"channels", NotificationPrefsUpdate{Switches: map[Switch]bool{{CategoryOrders, "pigeon"}: true}}},
		{"language", NotificationPrefsUpdate{Language: new("xx")}},
		{"quiet_hours.time_zone", NotificationPrefsUpdate{QuietHours: new(&QuietHours{Start: 1, End: 2, TimeZone: "Mars/Olympus"})}},
		{"quiet_hours.time_zone", NotificationPrefsUpdate{QuietHours: new(&QuietHours{Start: 1, End: 2, TimeZone: "Local"})}},
		{"quiet_hours.end", NotificationPrefsUpdate{QuietHours: new(&QuietHours{Start: 60, End: 60, TimeZone: "UTC"})}},
	}
	for _, c := range bad {
		err := c.u.validate()
		var e *Error
		if !errors.As(err, &e) || e.Field != c.field {
			t.Errorf("%s: got %v", c.field, err)
		}
	}
	ok := NotificationPrefsUpdate{Switches: map[Switch]bool{{CategorySecurity, ChannelEmail}: true, {CategoryMessages, ChannelEmail}: false},
		Language: new("de"), QuietHours: new(&QuietHours{Start: 1320, End: 420, TimeZone: "America/New_York"})}
	if err := ok.validate(); err != nil {
		t.Fatal(err)
	}
}
