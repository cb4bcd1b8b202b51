package fcmtest

import "encoding/json"

// Message is one FCM v1 message as the server received it, decoded from the
// documented JSON shape of projects.messages (only the fields GigStream uses
// are typed; Raw keeps everything).
type Message struct {
	Token        string            `json:"token"`
	Topic        string            `json:"topic"`
	Condition    string            `json:"condition"`
	Data         map[string]string `json:"data"`
	Notification *Notification     `json:"notification"`
	Android      *AndroidConfig    `json:"android"`
	APNS         *APNSConfig       `json:"apns"`
	Webpush      *WebpushConfig    `json:"webpush"`
	// Raw is the message object exactly as sent.
	Raw []byte `json:"-"`
}

// Notification is the cross-platform notification block.
type Notification struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// AndroidConfig is message.android.
type AndroidConfig struct {
	CollapseKey  string               `json:"collapse_key"`
	Priority     string               `json:"priority"`
	TTL          string               `json:"ttl"`
	Notification *AndroidNotification `json:"notification"`
}

// AndroidNotification is message.android.notification.
type AndroidNotification struct {
	Tag   string `json:"tag"`
	Title string `json:"title"`
	Body  string `json:"body"`
}

// APNSConfig is message.apns; Payload is the APNs JSON (e.g. payload["aps"]["thread-id"]).
type APNSConfig struct {
	Headers map[string]string `json:"headers"`
	Payload map[string]any    `json:"payload"`
}

// WebpushConfig is message.webpush; Notification is the Web Notification options object.
type WebpushConfig struct {
	Headers      map[string]string `json:"headers"`
	Notification map[string]any    `json:"notification"`
}

// sendRequest is the body of POST /v1/projects/{project}/messages:send.
type sendRequest struct {
	ValidateOnly bool            `json:"validate_only"`
	Message      json.RawMessage `json:"message"`
}

// errorBody is a Google API error with FCM's FcmError detail, the shape
// firebase-admin-go parses into messaging.IsUnregistered and friends.
func errorBody(httpStatus int, status, fcmCode, message string) []byte {
	type detail struct {
		Type      string `json:"@type"`
		ErrorCode string `json:"errorCode,omitempty"`
	}
	var e struct {
		Error struct {
			Code    int      `json:"code"`
			Message string   `json:"message"`
			Status  string   `json:"status"`
			Details []detail `json:"details,omitempty"`
		} `json:"error"`
	}
	e.Error.Code, e.Error.Message, e.Error.Status = httpStatus, message, status
	if fcmCode != "" {
		e.Error.Details = []detail{{Type: "type.googleapis.com/google.firebase.fcm.v1.FcmError", ErrorCode: fcmCode}}
	}
	b, _ := json.Marshal(e)
	return b
}
