package handlers

import (
	"bytes"
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// notificationPrefsBody is GET /me/notification-preferences and the answer of PUT:
// every category and channel switch, with the legacy order_email and order_push
// switches derived from them (true when every order category is on there).
type notificationPrefsBody struct {
	Channels     map[market.NotificationCategory]map[market.Channel]bool `json:"channels"`
	HidePreviews bool                                                    `json:"hide_previews"`
	QuietHours   *quietHoursBody                                         `json:"quiet_hours"`
	Language     string                                                  `json:"language"`
	OrderEmail   bool                                                    `json:"order_email"`
	OrderPush    bool                                                    `json:"order_push"`
}

// quietHoursBody is quiet hours as the API spells them: HH:MM in an IANA time zone.
type quietHoursBody struct {
	Start    string `json:"start"`
	End      string `json:"end"`
	TimeZone string `json:"time_zone"`
}

func prefsBody(p market.NotificationPrefs) notificationPrefsBody {
	out := notificationPrefsBody{Channels: map[market.NotificationCategory]map[market.Channel]bool{},
		HidePreviews: p.HidePreviews, Language: p.Language,
		OrderEmail: p.LegacyOrderSwitch(market.ChannelEmail), OrderPush: p.LegacyOrderSwitch(market.ChannelPush)}
	for _, c := range market.Categories {
		out.Channels[c] = map[market.Channel]bool{}
		for _, ch := range market.Channels {
			out.Channels[c][ch] = p.Enabled(market.Switch{Category: c, Channel: ch})
		}
	}
	if q := p.QuietHours; q != nil {
		out.QuietHours = &quietHoursBody{Start: market.ClockText(q.Start), End: market.ClockText(q.End), TimeZone: q.TimeZone}
	}
	return out
}

// notificationPrefsRequest is PUT /me/notification-preferences: every field is
// optional and a field left out keeps its value; quiet_hours null clears them. The
// legacy order_email / order_push set every order category on that channel.
type notificationPrefsRequest struct {
	Channels     map[string]map[string]bool `json:"channels"`
	HidePreviews *bool                      `json:"hide_previews"`
	QuietHours   json.RawMessage            `json:"quiet_hours"`
	Language     *string                    `json:"language"`
	OrderEmail   *bool                      `json:"order_email"`
	OrderPush    *bool                      `json:"order_push"`
}

func (r notificationPrefsRequest) update() (market.NotificationPrefsUpdate, error) {
	u := market.NotificationPrefsUpdate{HidePreviews: r.HidePreviews, Language: r.Language}
	if r.OrderEmail != nil {
		u.SetLegacyOrderSwitch(market.ChannelEmail, *r.OrderEmail)
	}
	if r.OrderPush != nil {
		u.SetLegacyOrderSwitch(market.ChannelPush, *r.OrderPush)
	}
	for cat, chans := range r.Channels {
		for ch, on := range chans {
			if u.Switches == nil {
				u.Switches = map[market.Switch]bool{}
			}
			u.Switches[market.Switch{Category: market.NotificationCategory(cat), Channel: market.Channel(ch)}] = on
		}
	}
	if len(r.QuietHours) == 0 {
		return u, nil
	}
	q, err := parseQuietHours(r.QuietHours)
	u.QuietHours = &q
	return u, err
}

// parseQuietHours reads {"start","end","time_zone"} or null (no quiet hours).
func parseQuietHours(raw json.RawMessage) (*market.QuietHours, error) {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var b quietHoursBody
	if err := decodeStrict(raw, &b); err != nil {
		return nil, badRequest("quiet_hours", "must be {start, end, time_zone} or null")
	}
	start, ok := market.ParseClock(b.Start)
	if !ok {
		return nil, market.FieldError(market.CodeInvalid, "quiet_hours.start", "must be a time of day HH:MM")
	}
	end, ok := market.ParseClock(b.End)
	if !ok {
		return nil, market.FieldError(market.CodeInvalid, "quiet_hours.end", "must be a time of day HH:MM")
	}
	return &market.QuietHours{Start: start, End: end, TimeZone: b.TimeZone}, nil
}

// prefs returns the caller's notification preferences.
func (h *notificationRoutes) prefs(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	p, err := h.notifications.Prefs(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	return c.JSON(prefsBody(p))
}

// setPrefs changes the preferences given and returns them all.
func (h *notificationRoutes) setPrefs(c *fiber.Ctx) error {
	var req notificationPrefsRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	upd, err := req.update()
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	p, err := h.notifications.SetPrefs(c.UserContext(), u.ID, upd)
	if err != nil {
		return err
	}
	return c.JSON(prefsBody(p))
}
