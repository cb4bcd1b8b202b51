package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestHS256TokenVerifiesWithTheSecret(t *testing.T) {
	tok, err := hs256JWT("bench-secret", map[string]any{"sub": "gl7", "exp": 2000000000})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts", tok, len(parts))
	}
	mac := hmac.New(sha256.New, []byte("bench-secret"))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if got := base64.RawURLEncoding.EncodeToString(mac.Sum(nil)); got != parts[2] {
		t.Errorf("signature %s, want %s", parts[2], got)
	}
	var header, claims map[string]any
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	c, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(h, &header) != nil || header["alg"] != "HS256" {
		t.Errorf("header %s", h)
	}
	if json.Unmarshal(c, &claims) != nil || claims["sub"] != "gl7" || claims["exp"] != float64(2000000000) {
		t.Errorf("claims %s", c)
	}
	if _, err := hs256JWT("", nil); err == nil {
		t.Error("a token without a secret was signed")
	}
}

func TestCentrifugoUsersOwnTheirChannel(t *testing.T) {
	users, err := centrifugoUsers(3, "k")
	if err != nil {
		t.Fatal(err)
	}
	if users[2].ID != "gl2" || users[2].channel() != "user#gl2" || users[2].Token == "" {
		t.Errorf("user %+v", users[2])
	}
}

func TestSendTimeFromCentrifugoPush(t *testing.T) {
	now := time.Now().UnixNano()
	push := `{"push":{"channel":"user#gl1","pub":{"data":` + string(appendPayload(nil, now, 3)) + `,"offset":9}}}`
	if got, ok := sendTime([]byte(push)); !ok || got != now {
		t.Errorf("send time %d, %v; want %d", got, ok, now)
	}
	if !centrifugoAccepted(200, []byte(`{"result":{}}`)) || centrifugoAccepted(200, []byte(`{"error":{"code":102}}`)) {
		t.Error("publish answers misread")
	}
}
