package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/gigstream/hub/market"
)

// recordingPusher is the Pusher of these tests: it notes what would reach FCM.
type recordingPusher struct {
	mu   sync.Mutex
	sent []market.PushNotice
}

func (p *recordingPusher) Push(_ context.Context, n market.PushNotice) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, n)
	return nil
}

// recordingDigests is the ChatDigestMailer of these tests: it notes the digests sent.
type recordingDigests struct{ sent []market.ChatDigest }

func (m *recordingDigests) SendChatDigest(_ context.Context, d market.ChatDigest, _ string) error {
	m.sent = append(m.sent, d)
	return nil
}

// TestChatPushAndDigestObeyTheMessagesSwitchesAndMute is the chat row of the
// preference matrix: a member with unread messages gets the burst's push and its
// e-mail digest exactly when the messages category is on for that channel and the
// conversation is not muted; switches of other categories change nothing.
func TestChatPushAndDigestObeyTheMessagesSwitchesAndMute(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	off := func(cat market.NotificationCategory, ch market.Channel) map[market.Switch]bool {
		return map[market.Switch]bool{{Category: cat, Channel: ch}: false}
	}
	cases := []struct {
		name      string
		switches  map[market.Switch]bool
		mute      bool
		push, dig bool
	}{
		{"everything on", nil, false, true, true},
		{"message e-mails off", off(market.CategoryMessages, market.ChannelEmail), false, true, false},
		{"message pushes off", off(market.CategoryMessages, market.ChannelPush), false, false, true},
		{"conversation muted", nil, true, false, false},
		{"order e-mails and pushes off", map[market.Switch]bool{
			{Category: market.CategoryOrders, Channel: market.ChannelEmail}: false,
			{Category: market.CategoryOrders, Channel: market.ChannelPush}:  false}, false, true, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sender, err := db.CreateUser(ctx, market.NewUser{Email: fmt.Sprintf("s%d@x.test", i), Username: fmt.Sprintf("sender_%d", i), DisplayName: "Sender", IsBuyer: true})
			must(t, err)
			away, err := db.CreateUser(ctx, market.NewUser{Email: fmt.Sprintf("a%d@x.test", i), Username: fmt.Sprintf("away_%d", i), DisplayName: "Away", IsSeller: true})
			must(t, err)
			must(t, db.MarkEmailVerified(ctx, away.ID))
			conv, _, err := db.OpenDirectConversation(ctx, sender.ID, away.ID, nil)
			must(t, err)
			if c.switches != nil {
				_, err := db.SetNotificationPrefs(ctx, away.ID, market.NotificationPrefsUpdate{Switches: c.switches})
				must(t, err)
			}
			if c.mute {
				must(t, db.SetConversationMuted(ctx, away.ID, conv.ID, true))
			}
			for _, text := range []string{"first of the burst", "second of the burst"} {
				_, err := db.SendMessage(ctx, market.NewMessage{ConversationID: conv.ID, SenderID: sender.ID, ClientID: newUUID(t), Text: text})
				must(t, err)
			}
			pusher, mailer := &recordingPusher{}, &recordingDigests{}
			chat := market.NewChat(db, nil, nil, pusher, nil, market.ChatConfig{}, slog.New(slog.DiscardHandler))
			must(t, chat.PushBurst(ctx, away.ID, conv.ID))
			must(t, chat.EmailDigest(ctx, mailer, "https://gigstream.test", away.ID, conv.ID))
			if got := len(pusher.sent) == 1; got != c.push {
				t.Errorf("%d pushes, want one: %v", len(pusher.sent), c.push)
			}
			if got := len(mailer.sent) == 1 && len(mailer.sent[0].Messages) == 2; got != c.dig {
				t.Errorf("%d digests, want one of the two messages: %v", len(mailer.sent), c.dig)
			}
		})
	}
}
