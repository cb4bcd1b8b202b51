package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fasthttp/websocket"
)

// The Centrifugo side of gigload: the same scenarios against a Centrifugo
// node, speaking its documented JSON client protocol over WebSocket
// (connect with an HS256 JWT, subscribe, publications as pushes, {} pings
// answered with {}) and publishing through its HTTP server API
// (POST /api/publish with X-API-Key). Nothing here is shared with the hub:
// it is an independent client of a foreign server, so both columns of
// `make bench-hub` come from the same harness.

// Targets gigload can load.
const (
	targetGigStream  = "gigstream"
	targetCentrifugo = "centrifugo"
)

// centrifugoTokenTTL is how long the minted connection tokens stay valid;
// longer than any run.
const centrifugoTokenTTL = 24 * time.Hour

// centrifugoUsers returns n synthetic users, each with an HS256 connection
// token signed with secret and a user-limited channel only that user may
// subscribe to ("user#<id>"), Centrifugo's twin of the hub's user:{id}.
func centrifugoUsers(n int, secret string) ([]user, error) {
	exp := time.Now().Add(centrifugoTokenTTL).Unix()
	users := make([]user, n)
	for i := range users {
		id := "gl" + strconv.Itoa(i)
		tok, err := hs256JWT(secret, map[string]any{"sub": id, "exp": exp})
		if err != nil {
			return nil, err
		}
		users[i] = user{ID: id, Token: tok, Channel: "user#" + id}
	}
	return users, nil
}

// hs256JWT signs claims as a compact JWT with HMAC-SHA256 (RFC 7519).
func hs256JWT(secret string, claims map[string]any) (string, error) {
	if secret == "" {
		return "", fmt.Errorf("centrifugo tokens need -centrifugo-secret or $CENTRIFUGO_TOKEN_SECRET")
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil)), nil
}

// centrifugoWSURL is a Centrifugo node's WebSocket endpoint.
func centrifugoWSURL(node string) string {
	if rest, ok := strings.CutPrefix(node, "https://"); ok {
		return "wss://" + rest + "/connection/websocket"
	}
	return "ws://" + strings.TrimPrefix(node, "http://") + "/connection/websocket"
}

// centrifugoHandshake sends the connect command with the user's token and
// subscribes to its channel, waiting for both replies.
func (s *socket) centrifugoHandshake(u user) error {
	_ = s.conn.SetReadDeadline(time.Now().Add(setupTimeout))
	_ = s.conn.SetWriteDeadline(time.Now().Add(setupTimeout))
	connect := `{"id":1,"connect":{"token":"` + u.Token + `","name":"gigload"}}`
	if err := s.conn.WriteMessage(websocket.TextMessage, []byte(connect)); err != nil {
		return fmt.Errorf("send connect: %w", err)
	}
	if err := s.centrifugoReply(1, "connect"); err != nil {
		return err
	}
	sub := `{"id":2,"subscribe":{"channel":"` + u.channel() + `"}}`
	if err := s.conn.WriteMessage(websocket.TextMessage, []byte(sub)); err != nil {
		return fmt.Errorf("send subscribe: %w", err)
	}
	if err := s.centrifugoReply(2, "subscribe"); err != nil {
		return err
	}
	_ = s.conn.SetReadDeadline(time.Time{})
	_ = s.conn.SetWriteDeadline(time.Time{})
	return nil
}

// centrifugoReply reads until the reply with id arrives (a frame may hold
// several newline-separated messages) and fails on an error reply.
func (s *socket) centrifugoReply(id int, what string) error {
	prefix := []byte(`{"id":` + strconv.Itoa(id) + `,`)
	for {
		_, frame, err := s.conn.ReadMessage()
		if err != nil {
			return fmt.Errorf("read %s reply: %w", what, err)
		}
		for msg := range bytes.SplitSeq(frame, []byte("\n")) {
			if !bytes.HasPrefix(msg, prefix) {
				continue
			}
			if !bytes.Contains(msg, []byte(`"`+what+`":`)) {
				return fmt.Errorf("%s refused: %.200s", what, msg)
			}
			return nil
		}
	}
}

var (
	centrifugoPush = []byte(`{"push":{"channel":`)
	centrifugoPing = []byte(`{}`)
)

// centrifugoFrame handles one frame from a Centrifugo node: each line is a
// reply, a push or a ping (answered with a pong).
func (s *socket) centrifugoFrame(frame []byte, now int64, d *deliveries) {
	for msg := range bytes.SplitSeq(frame, []byte("\n")) {
		switch {
		case len(msg) == 0:
		case bytes.Equal(msg, centrifugoPing):
			_ = s.currentConn().WriteMessage(websocket.TextMessage, centrifugoPing)
		case bytes.HasPrefix(msg, centrifugoPush):
			if !bytes.Contains(msg, []byte(`"pub":`)) {
				continue // join, leave, unsubscribe, disconnect pushes
			}
			s.recordEvent(msg, now, d)
		case bytes.Contains(msg, []byte(`"error":`)):
			d.errs.add("error frame", fmt.Errorf("%.200s", msg))
		}
	}
}

// centrifugoPublishBody appends Centrifugo's publish API request for data on
// channel.
func centrifugoPublishBody(b []byte, channel string, data func([]byte) []byte) []byte {
	b = append(b, `{"channel":"`...)
	b = append(b, channel...)
	b = append(b, `","data":`...)
	b = data(b)
	return append(b, '}')
}

// centrifugoAccepted reports whether a publish API answer is a success: the
// API answers 200 with either a result or an error object.
func centrifugoAccepted(status int, answer []byte) bool {
	return status == http.StatusOK && !bytes.Contains(answer, []byte(`"error"`))
}

// centrifugoUsersFor builds the run's users for a Centrifugo target.
func centrifugoUsersFor(_ context.Context, cfg config, n int) ([]user, error) {
	return centrifugoUsers(n, cfg.CentrifugoSecret)
}
