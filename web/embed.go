// Package web holds the hub's browser client: gigstream.js, a plain ES module for the
// real-time protocol that any front end can import, and a small chat page built on it.
// The hub serves the files under /app/.
package web

import "embed"

// Static holds the browser files under the folder "static" (index.html, chat.js,
// chat.css, gigstream.js). Serve fs.Sub(Static, "static"); no build step is involved,
// and the page obeys the hub's strict Content-Security-Policy (no inline script or style).
//
//go:embed static
var Static embed.FS
