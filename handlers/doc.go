// Package handlers is the hub's HTTP surface: Fiber routes and middleware. Handlers are
// thin: decode, authorize, call a use case, encode.
//
// Every route is listed in routes (app.go) and described in docs/openapi.yaml. A
// concept's routes live in the file of the same stem as its use cases and SQL:
// handlers/order.go calls market/order*.go, which store/order*.go implements. The
// other files are the middleware (session, ratelimit, metrics, accesslog, requestid,
// security, clientip, bodylimit, recover) and the shared pieces of a route (decode,
// cursor, idempotency, problem).
//
// Errors become application/problem+json in one place: errors.go maps domain codes and
// the upload pipeline's and tus engine's errors to their HTTP status, and problem.go's
// error handler answers everything a route returns.
package handlers
