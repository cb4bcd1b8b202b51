package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// landingPage is what GET / shows a newcomer: what this is and where to go, instead
// of a JSON 404. Static, no script, no style: the CSP allows neither inline.
const landingPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>GigStream</title></head>
<body>
<h1>GigStream</h1>
<p>A freelance-services marketplace: buyers order gigs from sellers, with real-time chat and escrowed payments.</p>
<ul>
{client}<li><a href="/gigs">Browse the published gigs</a> (JSON)</li>
<li><a href="/openapi.yaml">The API</a> (OpenAPI 3.1)</li>
<li><a href="/healthz">Health</a></li>
</ul>
</body>
</html>
`

// cacheLanding lets browsers and shared caches keep the landing page five minutes.
const cacheLanding = "public, max-age=300"

// landing answers GET / with landingPage, linking the browser client at /app/ when
// this node serves one, with an ETag (304 on If-None-Match).
func landing(withClient bool) fiber.Handler {
	client := ""
	if withClient {
		client = `<li><a href="/app/">Open the web client</a></li>` + "\n"
	}
	page := []byte(strings.Replace(landingPage, "{client}", client, 1))
	return func(c *fiber.Ctx) error {
		return sendCachedBody(c, page, fiber.MIMETextHTMLCharsetUTF8, cacheLanding)
	}
}
