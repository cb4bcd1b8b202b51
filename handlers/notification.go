package handlers

import (
	"cmp"
	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// notificationRoutes serve the caller's notifications and their switches.
type notificationRoutes struct {
	notifications *market.Notifications
}

type notificationList struct {
	Notifications []market.Notification `json:"notifications"`
	UnreadCount   int                   `json:"unread_count"`
	NextCursor    *string               `json:"next_cursor"`
}

// list returns a page of the caller's notifications, newest first, with the unread
// count; next_cursor is null on the last page.
func (h *notificationRoutes) list(c *fiber.Ctx) error {
	limit, before, err := queryPage(c, 20, 100)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	page, err := h.notifications.List(c.UserContext(), u.ID, before, limit)
	if err != nil {
		return err
	}
	out := notificationList{Notifications: page.Notifications, UnreadCount: page.UnreadCount}
	if n := len(page.Notifications); n == limit {
		next := encodeCursor(page.Notifications[n-1].CreatedAt, page.Notifications[n-1].ID)
		out.NextCursor = &next
	}
	return c.JSON(out)
}

type markReadRequest struct {
	IDs []string `json:"ids"`
	All bool     `json:"all"`
}

// markRead marks some ({ids}) or all ({all: true}) of the caller's notifications read.
func (h *notificationRoutes) markRead(c *fiber.Ctx) error {
	var req markReadRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	unread, err := h.notifications.MarkRead(c.UserContext(), u.ID, req.IDs, req.All)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"unread_count": unread})
}

// notificationSettings are the legacy switches of /me/notifications (kept for a
// release; /me/notification-preferences has them all). PUT replaces them all: a field
// left out takes its default (hide_previews false, order_email and order_push true),
// and order_email / order_push set every order category on that channel.
type notificationSettings struct {
	HidePreviews *bool `json:"hide_previews"`
	OrderEmail   *bool `json:"order_email"`
	OrderPush    *bool `json:"order_push"`
}

// legacySettings is the answer of /me/notifications.
func legacySettings(p market.NotificationPrefs) fiber.Map {
	return fiber.Map{"hide_previews": p.HidePreviews, "order_email": p.LegacyOrderSwitch(market.ChannelEmail),
		"order_push": p.LegacyOrderSwitch(market.ChannelPush)}
}

// settings returns the caller's legacy notification switches.
func (h *notificationRoutes) settings(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	p, err := h.notifications.Prefs(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	return c.JSON(legacySettings(p))
}

// setSettings sets the legacy switches: whether pushes show message text and order
// details, and whether order notifications go by e-mail and by push.
func (h *notificationRoutes) setSettings(c *fiber.Ctx) error {
	var req notificationSettings
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	upd := market.NotificationPrefsUpdate{HidePreviews: cmp.Or(req.HidePreviews, new(false))}
	upd.SetLegacyOrderSwitch(market.ChannelEmail, *cmp.Or(req.OrderEmail, new(true)))
	upd.SetLegacyOrderSwitch(market.ChannelPush, *cmp.Or(req.OrderPush, new(true)))
	u, _ := currentUser(c)
	p, err := h.notifications.SetPrefs(c.UserContext(), u.ID, upd)
	if err != nil {
		return err
	}
	return c.JSON(legacySettings(p))
}
