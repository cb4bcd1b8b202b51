// Package sentrytest is a local stand-in for Sentry's ingestion endpoint, for
// tests only. It speaks the envelope protocol that sentry-go's HTTP transport
// uses (POST /api/{project}/envelope/ with an X-Sentry-Auth header naming the
// DSN's public key; a body of newline-separated JSON: the envelope header,
// then each item's header and payload, the payload `length` bytes long when
// the item header says so), and keeps every error event it receives for the
// test to inspect.
package sentrytest
