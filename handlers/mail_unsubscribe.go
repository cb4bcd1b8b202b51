package handlers

import (
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// mailUnsubscribeRoutes serve the one-click unsubscribe link of every notification
// mail (RFC 8058). They need no session and no cookie: the signed token in the URL
// names the user and the category. Only POST changes anything, because mail scanners
// and link previews fetch every URL in a mail with GET.
type mailUnsubscribeRoutes struct {
	mail *market.MailDelivery
}

// unsubscribePage is the small page both routes answer a browser with.
var unsubscribePage = template.Must(template.New("unsubscribe").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>GigStream e-mail settings</title></head><body>
{{if .Done}}<p>Done: you will get no more {{.Category}} e-mails from GigStream. You can switch them on again in the app's notification settings.</p>
{{else}}<p>Stop e-mails about <strong>{{.Category}}</strong> from GigStream?</p>
<form method="post" action="/unsubscribe?token={{.Token}}"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button></form>{{end}}
</body></html>`))

type unsubscribePageData struct {
	Done     bool
	Category string
	Token    string
}

// confirm shows what the token would switch off and a button that does it; it
// changes nothing. A bad token is a problem+json answer (403, 410).
func (h *mailUnsubscribeRoutes) confirm(c *fiber.Ctx) error {
	token := c.Query("token")
	cat, err := h.mail.CheckUnsubscribe(token)
	if err != nil {
		return err
	}
	return h.page(c, unsubscribePageData{Category: categoryWords(cat), Token: token})
}

// unsubscribe switches the token's category off on e-mail: the POST a mail client
// sends for its unsubscribe button (body List-Unsubscribe=One-Click), or the form of
// the confirmation page. Errors: 403 for a forged or altered token, 410 for an
// expired one, 404 when the account is gone.
func (h *mailUnsubscribeRoutes) unsubscribe(c *fiber.Ctx) error {
	cat, err := h.mail.Unsubscribe(c.UserContext(), c.Query("token"))
	if err != nil {
		return err
	}
	return h.page(c, unsubscribePageData{Done: true, Category: categoryWords(cat)})
}

func (h *mailUnsubscribeRoutes) page(c *fiber.Ctx, d unsubscribePageData) error {
	var b strings.Builder
	if err := unsubscribePage.Execute(&b, d); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, cachePrivateNoStore)
	c.Set("Referrer-Policy", "no-referrer") // the URL holds the token
	c.Type("html", "utf-8")
	return c.SendString(b.String())
}

// categoryWords names a category the way the page says it.
func categoryWords(c market.NotificationCategory) string {
	return strings.ReplaceAll(string(c), "_", " ")
}
