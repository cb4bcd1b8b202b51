// Command gigstream is the GigStream hub: one binary whose subcommands serve the API and
// WebSockets, migrate the database, load demo data and administer accounts.
//
// Configuration is read from the environment here and nowhere else (config.go, env.go),
// and handed to each package as its small Config struct. serve (serve.go) wires the
// binary in numbered steps: configuration, Postgres, Redis, S3 and clamd, the hub node,
// push, the use cases in dependency order (newDomain in domain.go), the node's callbacks
// and start, the jobs, the HTTP app, then serving until a signal. The adapters that
// turn our packages into the domain's interfaces sit beside the wiring of their
// concept: chat.go, order.go, settle.go, upload.go, notification.go, account.go.
package main
