// Package fcmtest is a local stand-in for Firebase Cloud Messaging, for tests
// only. It speaks the FCM HTTP v1 API that firebase-admin-go uses
// (POST /v1/projects/{project}/messages:send) and Google's OAuth 2.0
// service-account token exchange (POST /token, JWT bearer grant), so tests run
// the real client library with a real, locally generated service-account key.
package fcmtest
