// Command gigload is the load generator of the GigStream hub. It opens many
// WebSocket clients on one or more nodes, subscribes each to a user channel,
// publishes ~60-byte events through POST /api/publish at a fixed rate and
// measures, on the same clock, the time from the start of each publish call
// to its receipt at every subscriber. It reports delivered messages per
// second, latency percentiles, the connection set-up rate, the server's RSS
// per idle socket (from /proc), lost messages and errors.
//
// Every simulated client is a real user with a bearer token: gigload
// registers them through the public API (set ARGON2_MEMORY_KIB=8192 and high
// RATE_LIMIT_* on the nodes) and caches them in -users-file.
//
// Exit status: 0 when every expected message arrived and every socket
// connected, 1 when a message was lost or a socket failed, 2 on bad flags or
// a failure before the measurement.
package main
