package handlers

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// chatRoutes serve conversations, messages, read receipts, blocks and push devices.
type chatRoutes struct {
	chat *market.Chat
}

type openConversationRequest struct {
	ParticipantID string  `json:"participant_id" validate:"required,uuid"`
	GigID         *string `json:"gig_id" validate:"omitempty,uuid"`
}

// open returns the caller's direct conversation with someone, creating it when new.
func (h *chatRoutes) open(c *fiber.Ctx) error {
	var req openConversationRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	conv, created, err := h.chat.OpenConversation(c.UserContext(), u.ID, req.ParticipantID, req.GigID)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(conv)
}

// list returns the caller's conversations by last activity with the total unread.
func (h *chatRoutes) list(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	limit, after, err := queryPage(c, 50, 200)
	if err != nil {
		return err
	}
	list, total, err := h.chat.Conversations(c.UserContext(), u.ID, after, limit+1)
	if err != nil {
		return err
	}
	list, next := pageOf(list, limit, func(v market.Conversation) (time.Time, string) { return v.UpdatedAt, v.ID })
	return c.JSON(fiber.Map{"conversations": list, "total_unread": total, "next_cursor": next})
}

// show returns one of the caller's conversations.
func (h *chatRoutes) show(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	conv, err := h.chat.Conversation(c.UserContext(), c.Params("id"), u.ID)
	if err != nil {
		return err
	}
	return c.JSON(conv)
}

// history pages a conversation's messages, newest first, before a seq.
func (h *chatRoutes) history(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	limit, err := queryInt(c, "limit", 50, 1, 200)
	if err != nil {
		return err
	}
	before, err := queryInt(c, "before", 0, 0, 1<<53)
	if err != nil {
		return err
	}
	msgs, err := h.chat.Messages(c.UserContext(), c.Params("id"), u.ID, uint64(before), limit)
	if err != nil {
		return err
	}
	var next *uint64
	if len(msgs) == limit {
		next = &msgs[len(msgs)-1].Seq
	}
	return c.JSON(fiber.Map{"messages": msgs, "next_before": next})
}

type sendRequest struct {
	ClientID    string   `json:"client_id" validate:"required,uuid"`
	Text        string   `json:"text"` // may be empty when there are attachments (market checks)
	Attachments []string `json:"attachments" validate:"omitempty,max=10,dive,uuid"`
}

// send posts a message (text, attachments or both); a retry with the same client_id
// returns the same message (200).
func (h *chatRoutes) send(c *fiber.Ctx) error {
	var req sendRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	msg, created, err := h.chat.Send(c.UserContext(), market.NewMessage{
		ConversationID: c.Params("id"), SenderID: u.ID, ClientID: req.ClientID, Text: req.Text, Attachments: req.Attachments,
	})
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(msg)
}

type editRequest struct {
	Text string `json:"text" validate:"required"`
}

// edit changes the caller's own recent message.
func (h *chatRoutes) edit(c *fiber.Ctx) error {
	var req editRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	msg, err := h.chat.Edit(c.UserContext(), c.Params("id"), c.Params("messageID"), u.ID, req.Text)
	if err != nil {
		return err
	}
	return c.JSON(msg)
}

// remove deletes the caller's own recent message.
func (h *chatRoutes) remove(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if err := h.chat.Delete(c.UserContext(), c.Params("id"), c.Params("messageID"), u.ID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type readRequest struct {
	Seq uint64 `json:"seq" validate:"required"`
}

// read moves the caller's read pointer forward.
func (h *chatRoutes) read(c *fiber.Ctx) error {
	var req readRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	st, err := h.chat.MarkRead(c.UserContext(), c.Params("id"), u.ID, req.Seq)
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// block stops messages between the caller and a user.
func (h *chatRoutes) block(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if err := h.chat.Block(c.UserContext(), u.ID, c.Params("userID")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// mute stops pushes and e-mails of a conversation for the caller.
func (h *chatRoutes) mute(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if err := h.chat.Mute(c.UserContext(), u.ID, c.Params("id"), true); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// unmute lets a muted conversation notify the caller again.
func (h *chatRoutes) unmute(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if err := h.chat.Mute(c.UserContext(), u.ID, c.Params("id"), false); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// unblock lifts the caller's block.
func (h *chatRoutes) unblock(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if err := h.chat.Unblock(c.UserContext(), u.ID, c.Params("userID")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type deviceRequest struct {
	Platform   string `json:"platform" validate:"required,oneof=android ios web"`
	Token      string `json:"token" validate:"required,max=4096"`
	AppVersion string `json:"app_version" validate:"max=64"`
}

// registerDevice stores a push token; the same token again updates it.
func (h *chatRoutes) registerDevice(c *fiber.Ctx) error {
	var req deviceRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	err := h.chat.RegisterDevice(c.UserContext(), u.ID, market.Device{Token: req.Token, Platform: req.Platform, AppVersion: req.AppVersion})
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type removeDeviceRequest struct {
	Token string `json:"token" validate:"required,max=4096"`
}

// listDevices lists the caller's push tokens.
func (h *chatRoutes) listDevices(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	list, err := h.chat.Devices(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"devices": list})
}

// removeDevice deletes one of the caller's push tokens.
func (h *chatRoutes) removeDevice(c *fiber.Ctx) error {
	var req removeDeviceRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	if err := h.chat.RemoveDevice(c.UserContext(), u.ID, req.Token); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// queryInt reads an optional whole-number query parameter within [min, max].
func queryInt(c *fiber.Ctx, name string, def, min, max int) (int, error) {
	return paramInt(queryOf(c), name, def, min, max)
}

// params reads a named parameter ("" when absent): the query string of a request, or
// the fields of a body that carries the same parameters (a saved search).
type params func(name string) string

// queryOf reads the request's query string.
func queryOf(c *fiber.Ctx) params { return func(name string) string { return c.Query(name) } }

// paramInt is queryInt over any params.
func paramInt(get params, name string, def, min, max int) (int, error) {
	v := get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, badRequest(name, "must be a whole number from "+strconv.Itoa(min)+" to "+strconv.Itoa(max))
	}
	return n, nil
}
