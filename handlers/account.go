package handlers

import (
	"bufio"
	"context"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// accountRoutes serve the signed-in user's own account.
type accountRoutes struct {
	accounts *market.Accounts
	profiles *market.Profiles // the details GET and PATCH /me show
	mail     *market.MailDelivery
	log      *slog.Logger // where a cut-short export or an unsent mail is reported
}

// meResponse is the caller's account with the details of their public profile.
type meResponse struct {
	market.User
	market.ProfileDetails
	// EmailUndeliverable is set when the address bounced for good or its owner
	// reported our mail: notification mail stops until the address is verified again
	// (POST /auth/verify-email/resend) or changed.
	EmailUndeliverable *market.MailSuppression `json:"email_undeliverable"`
}

// show returns the caller's account and profile details.
func (h *accountRoutes) show(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	return h.sendMe(c, u)
}

func (h *accountRoutes) sendMe(c *fiber.Ctx, u market.User) error {
	d, err := h.profiles.Details(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	suppressed, err := h.mail.Suppression(c.UserContext(), u.Email)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, cachePrivateNoStore)
	return c.JSON(meResponse{User: u, ProfileDetails: d, EmailUndeliverable: suppressed})
}

type profileRequest struct {
	DisplayName *string   `json:"display_name" validate:"omitempty,max=80"`
	Bio         *string   `json:"bio" validate:"omitempty,max=20000"`
	IsBuyer     *bool     `json:"is_buyer"`
	IsSeller    *bool     `json:"is_seller"`
	Country     *string   `json:"country" validate:"omitempty,max=10"`
	Languages   *[]string `json:"languages" validate:"omitempty,max=50,dive,max=200"`
	Skills      *[]string `json:"skills" validate:"omitempty,max=100,dive,max=200"`
}

// update changes the caller's profile; only the fields of profileRequest may be set.
func (h *accountRoutes) update(c *fiber.Ctx) error {
	var req profileRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	out, err := h.accounts.UpdateProfile(c.UserContext(), u, market.ProfileUpdate{
		DisplayName: req.DisplayName, Bio: req.Bio, IsBuyer: req.IsBuyer, IsSeller: req.IsSeller,
		Country: req.Country, Languages: req.Languages, Skills: req.Skills,
	})
	if err != nil {
		return err
	}
	return h.sendMe(c, out)
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password" validate:"max=256"`
	NewPassword     string `json:"new_password" validate:"required,max=256"`
}

// changePassword replaces the caller's password; their other sessions end.
func (h *accountRoutes) changePassword(c *fiber.Ctx) error {
	var req passwordRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	s, _ := currentSession(c)
	if err := h.accounts.ChangePassword(c.UserContext(), u, s, req.CurrentPassword, req.NewPassword); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type emailRequest struct {
	NewEmail        string `json:"new_email" validate:"required,max=254"`
	CurrentPassword string `json:"current_password" validate:"max=256"`
}

// emailChangeTimeout bounds the mail work of an e-mail change, which runs after the
// answer.
const emailChangeTimeout = time.Minute

// changeEmail checks the password and answers 202; then, after the answer, it mails
// the new address a confirmation link or, when the address belongs to an account, a
// fixed notice to its owner. The answer is the same either way, so the route tells
// nobody which addresses have accounts.
func (h *accountRoutes) changeEmail(c *fiber.Ctx) error {
	var req emailRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	s, _ := currentSession(c)
	newEmail, err := h.accounts.CheckEmailChange(c.UserContext(), u, s, req.NewEmail, req.CurrentPassword)
	if err != nil {
		return err
	}
	ctx := context.WithoutCancel(c.UserContext())
	go func() {
		ctx, cancel := context.WithTimeout(ctx, emailChangeTimeout)
		defer cancel()
		if err := h.accounts.SendEmailChange(ctx, u, newEmail); err != nil {
			h.log.ErrorContext(ctx, "email-change mail not sent", "user_id", u.ID, "err", err)
		}
	}()
	return c.SendStatus(fiber.StatusAccepted)
}

// listSessions lists the caller's sessions, marking the current one.
func (h *accountRoutes) listSessions(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	cur, _ := currentSession(c)
	list, err := h.accounts.Sessions(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	type item struct {
		market.Session
		Current bool `json:"current"`
	}
	out := make([]item, 0, len(list))
	for _, s := range list {
		out = append(out, item{Session: s, Current: s.ID == cur.ID})
	}
	return c.JSON(fiber.Map{"sessions": out})
}

// revokeSession ends one of the caller's sessions; anyone else's is 404.
func (h *accountRoutes) revokeSession(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if err := h.accounts.RevokeSession(c.UserContext(), u.ID, c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// exportTimeout bounds how long writing one export may take, once the handler has
// returned and the request's own context is no longer in charge.
const exportTimeout = 10 * time.Minute

// export streams all of the caller's data as a JSON download: the head is read before
// the status is sent (so a failure there is a proper problem), the sections are then
// written page by page as the client reads them. A failure mid-stream can only cut
// the download short; it is logged, and the missing "complete" tells the reader.
func (h *accountRoutes) export(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	head, err := h.accounts.Export(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), exportTimeout)
	reqID := requestID(c)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="gigstream-export.json"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Type("json", "utf-8")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer cancel()
		if err := h.accounts.WriteExport(ctx, head, w); err != nil {
			h.log.ErrorContext(ctx, "export cut short", slog.String("request_id", reqID), slog.Any("error", err))
		}
	})
	return nil
}

type deleteAccountRequest struct {
	Password string `json:"password" validate:"max=256"`
}

// deleteAccount anonymizes the caller's account after checking their password.
func (h *accountRoutes) deleteAccount(c *fiber.Ctx) error {
	var req deleteAccountRequest
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	u, _ := currentUser(c)
	s, _ := currentSession(c)
	if err := h.accounts.DeleteAccount(c.UserContext(), u, s, req.Password); err != nil {
		return err
	}
	clearSessionCookie(c)
	return c.SendStatus(fiber.StatusNoContent)
}
