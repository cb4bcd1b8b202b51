// Package paypaltest is a local stand-in for PayPal's REST API, for tests only. It
// speaks the documented subset GigStream's client uses: the OAuth 2.0
// client-credentials token (POST /v1/oauth2/token), Orders v2 (create, get with the
// captures and refunds its payments hold, capture), refunds of captures
// (POST /v2/payments/captures/{id}/refund), Payouts v1 (create, get a batch with its
// item) and webhook verification (POST /v1/notifications/verify-webhook-signature).
// State lives in memory and is what reconciliation reads back. Tests play the buyer
// (Approve) and PayPal itself: its webhook sender (CaptureEvent, PayoutEvent) and
// changes made on PayPal's side only (ProviderRefundEvent, CaptureNow,
// SetPayoutStatus), whose webhooks a test may deliver late or never.
// PayPal-Request-Id is honoured: a POST repeated with the same id gets the first answer.
package paypaltest
