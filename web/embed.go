// Package web holds the hub's client: static/ is the package @gigstream/client
// (gigstream.js, a dependency-free ES module for the REST API and the real-time protocol,
// its TypeScript declarations gigstream.d.ts and package.json), beside a small chat page
// built on it. The hub serves the files under /app/. The tests check the declarations
// against docs/protocol.md with the TypeScript pinned in typecheck/.
package web

import "embed"

// Static holds the browser files under the folder "static" (index.html, chat.js,
// chat.css, gigstream.js, gigstream.d.ts, package.json). Serve fs.Sub(Static, "static");
// no build step is involved, and the page obeys the hub's strict Content-Security-Policy
// (no inline script or style).
//
//go:embed static
var Static embed.FS
