// Package e2e runs the built gigstream binary, as several nodes against the real
// devstack services, and speaks to it only over HTTP and WebSocket.
package e2e
