// Package web holds the hub's client: static/ is the package @gigstream/client
// (gigstream.js, a dependency-free ES module for the REST API and the real-time protocol,
// its TypeScript declarations gigstream.d.ts and package.json), beside a small chat page
// built on it. The hub serves the files under /app/. The tests check the declarations
// against docs/protocol.md with the TypeScript pinned in typecheck/.
package web
