// Package paypaltest is a local stand-in for PayPal's REST API, for tests only. It
// speaks the documented subset GigStream's client uses: the OAuth 2.0
// client-credentials token (POST /v1/oauth2/token), Orders v2 (create, get, capture),
// refunds of captures (POST /v2/payments/captures/{id}/refund) and webhook
// verification (POST /v1/notifications/verify-webhook-signature). State lives in
// memory. Tests play the buyer (Approve) and PayPal's webhook sender (CaptureEvent).
// PayPal-Request-Id is honoured: a POST repeated with the same id gets the first answer.
package paypaltest
