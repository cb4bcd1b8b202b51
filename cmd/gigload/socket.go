package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
)

// setupTimeout bounds the hello and the subscribe reply of a new socket.
const setupTimeout = 30 * time.Second

// sharedWriteBuffers lets idle sockets hold no write buffer: the client only
// writes its subscribe frame (and pongs, which bypass the buffer).
var sharedWriteBuffers = &sync.Pool{}

// newDialer returns a WebSocket dialer with small buffers, so that thousands
// of client sockets stay cheap next to the server under test.
func newDialer() *websocket.Dialer {
	return &websocket.Dialer{
		HandshakeTimeout: setupTimeout,
		ReadBufferSize:   512,
		WriteBufferSize:  256,
		WriteBufferPool:  sharedWriteBuffers,
		Subprotocols:     []string{"gigstream.v1"},
	}
}

// socket is one subscribed client. Only its reader goroutine writes its
// counters; they are atomics so the main goroutine can watch them.
type socket struct {
	conn     *websocket.Conn
	target   string       // targetGigStream or targetCentrifugo
	channel  int          // index of the channel it subscribed to
	received atomic.Int64 // events carrying a send time
	lastRecv atomic.Int64 // Unix nanoseconds of the latest event
}

// deliveries is what every socket's reader reports into.
type deliveries struct {
	latency *histogram
	errs    *errorLog
	closing atomic.Bool // set before gigload closes the sockets itself
	dropped atomic.Int64
}

// wsURL turns a node's http(s) base URL into its /ws URL.
func wsURL(node string) string {
	if rest, ok := strings.CutPrefix(node, "https://"); ok {
		return "wss://" + rest + "/ws"
	}
	return "ws://" + strings.TrimPrefix(node, "http://") + "/ws"
}

// dialSocket connects to node as u and subscribes to u's channel, waiting
// for the reply: on GigStream it reads the hello frame first, on Centrifugo
// it sends the connect command. The socket is not read afterwards until its
// reader starts.
func dialSocket(ctx context.Context, d *websocket.Dialer, target, node string, u user, channel int) (*socket, error) {
	url, hdr := wsURL(node), http.Header{"Authorization": []string{"Bearer " + u.Token}}
	switch {
	case target == targetCentrifugo:
		url, hdr = centrifugoWSURL(node), nil
	case u.ConnToken != "":
		url, hdr = url+"?token="+u.ConnToken, nil
	}
	conn, resp, err := d.DialContext(ctx, url, hdr)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial %s: status %s: %w", node, resp.Status, err)
		}
		return nil, fmt.Errorf("dial %s: %w", node, err)
	}
	s := &socket{conn: conn, target: target, channel: channel}
	if target == targetCentrifugo {
		err = s.centrifugoHandshake(u)
	} else {
		err = s.handshake(u.channel())
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

// handshake reads the hello frame, subscribes and waits for the reply.
func (s *socket) handshake(channel string) error {
	_ = s.conn.SetReadDeadline(time.Now().Add(setupTimeout))
	_, hello, err := s.conn.ReadMessage()
	if err != nil {
		return fmt.Errorf("read hello: %w", err)
	}
	var h struct {
		Op   string `json:"op"`
		Ping int    `json:"ping"`
	}
	if err := json.Unmarshal(hello, &h); err != nil || h.Op != "hello" {
		return fmt.Errorf("first frame is not a hello: %.200s", hello)
	}
	sub := `{"op":"subscribe","id":1,"channel":"` + channel + `"}`
	_ = s.conn.SetWriteDeadline(time.Now().Add(setupTimeout))
	if err := s.conn.WriteMessage(websocket.TextMessage, []byte(sub)); err != nil {
		return fmt.Errorf("send subscribe: %w", err)
	}
	_, reply, err := s.conn.ReadMessage()
	if err != nil {
		return fmt.Errorf("read subscribe reply: %w", err)
	}
	if !bytes.HasPrefix(reply, []byte(`{"op":"reply","id":1,"ok":true`)) {
		return fmt.Errorf("subscribe refused: %.200s", reply)
	}
	// The server pings every h.Ping seconds; the default ping handler answers
	// while the reader below is blocked in a read, so no deadline is set.
	_ = s.conn.SetReadDeadline(time.Time{})
	_ = s.conn.SetWriteDeadline(time.Time{})
	return nil
}

// read is the socket's only reader: it timestamps each event, parses the
// send time out of it without decoding the JSON, and records the latency.
func (s *socket) read(d *deliveries) {
	buf := make([]byte, 0, 256)
	for {
		_, r, err := s.conn.NextReader()
		if err != nil {
			if !d.closing.Load() {
				d.dropped.Add(1)
				d.errs.add("socket dropped", err)
			}
			return
		}
		buf, err = readFrame(r, buf[:0])
		now := time.Now().UnixNano()
		switch {
		case err != nil: // NextReader reports the broken connection next
		case s.target == targetCentrifugo:
			s.centrifugoFrame(buf, now, d)
		case isEvent(buf):
			s.recordEvent(buf, now, d)
		case bytes.HasPrefix(buf, []byte(`{"op":"error"`)):
			d.errs.add("error frame", fmt.Errorf("%.200s", buf))
		}
	}
}

// recordEvent counts one event that arrived at now and records its latency.
func (s *socket) recordEvent(msg []byte, now int64, d *deliveries) {
	t, ok := sendTime(msg)
	if !ok {
		d.errs.add("foreign event", fmt.Errorf("%.200s", msg))
		return
	}
	d.latency.Record(time.Duration(now - t))
	s.received.Add(1)
	s.lastRecv.Store(now)
}

// readFrame reads one message into buf, growing it as needed.
func readFrame(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, fmt.Errorf("read frame: %w", err)
		}
	}
}

// close sends a normal close frame and closes the connection.
func (s *socket) close() {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	_ = s.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	_ = s.conn.Close()
}
