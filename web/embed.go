package web

import "embed"

// Static holds the browser files under the folder "static" (index.html, chat.js,
// chat.css, gigstream.js, gigstream.d.ts, package.json). Serve fs.Sub(Static, "static");
// no build step is involved, and the page obeys the hub's strict Content-Security-Policy
// (no inline script or style).
//
//go:embed static
var Static embed.FS
