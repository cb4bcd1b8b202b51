package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
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
	connMu   sync.Mutex // guards conn, which a reconnect replaces
	conn     *websocket.Conn
	target   string       // targetGigStream or targetCentrifugo
	index    int          // its number in the run
	user     user         // whose socket it is
	channel  int          // index of the channel it subscribed to
	received atomic.Int64 // events carrying a send time
	lastRecv atomic.Int64 // Unix nanoseconds of the latest event
	seqs     seqTrack     // durable runs: the seq stream seen
}

// deliveries is what every socket's reader reports into.
type deliveries struct {
	latency *histogram
	errs    *errorLog
	closing atomic.Bool // set before gigload closes the sockets itself
	dropped atomic.Int64
	durable bool   // events carry seqs: check each socket's stream
	storm   *storm // a reconnect storm is run: victims reconnect
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
	s := &socket{conn: conn, target: target, user: u, channel: channel}
	if target == targetCentrifugo {
		err = s.centrifugoHandshake(u)
	} else {
		err = s.handshake(u.channel(), 0, false)
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

// handshake reads the hello frame, subscribes (with since when hasSince)
// and waits for the reply.
func (s *socket) handshake(channel string, since uint64, hasSince bool) error {
	_, err := handshakeOn(s.conn, channel, since, hasSince)
	return err
}

// handshakeOn does the handshake on conn and returns the subscribe reply.
func handshakeOn(conn *websocket.Conn, channel string, since uint64, hasSince bool) ([]byte, error) {
	_ = conn.SetReadDeadline(time.Now().Add(setupTimeout))
	_, hello, err := conn.ReadMessage()
	if err != nil {
		return nil, fmt.Errorf("read hello: %w", err)
	}
	var h struct {
		Op   string `json:"op"`
		Ping int    `json:"ping"`
	}
	if err := json.Unmarshal(hello, &h); err != nil || h.Op != "hello" {
		return nil, fmt.Errorf("first frame is not a hello: %.200s", hello)
	}
	sub := `{"op":"subscribe","id":1,"channel":"` + channel + `"}`
	if hasSince {
		sub = `{"op":"subscribe","id":1,"channel":"` + channel + `","since":` + strconv.FormatUint(since, 10) + `}`
	}
	_ = conn.SetWriteDeadline(time.Now().Add(setupTimeout))
	if err := conn.WriteMessage(websocket.TextMessage, []byte(sub)); err != nil {
		return nil, fmt.Errorf("send subscribe: %w", err)
	}
	_, reply, err := conn.ReadMessage()
	if err != nil {
		return nil, fmt.Errorf("read subscribe reply: %w", err)
	}
	if !bytes.HasPrefix(reply, []byte(`{"op":"reply","id":1,"ok":true`)) {
		return nil, fmt.Errorf("subscribe refused: %.200s", reply)
	}
	// The server pings every h.Ping seconds; the default ping handler answers
	// while the reader below is blocked in a read, so no deadline is set.
	_ = conn.SetReadDeadline(time.Time{})
	_ = conn.SetWriteDeadline(time.Time{})
	return reply, nil
}

// read is the socket's only reader: it timestamps each event, parses the
// send time out of it without decoding the JSON, and records the latency.
// In a storm, a victim whose connection breaks reconnects and reads on.
func (s *socket) read(d *deliveries) {
	for {
		err := s.readConn(s.currentConn(), d)
		if d.closing.Load() {
			return
		}
		if d.storm != nil && d.storm.isVictim(s) && s.reconnect(d) == nil {
			continue
		}
		d.dropped.Add(1)
		d.errs.add("socket dropped", err)
		return
	}
}

func (s *socket) currentConn() *websocket.Conn {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	return s.conn
}

// readConn reads conn until it fails, and returns why.
func (s *socket) readConn(conn *websocket.Conn, d *deliveries) error {
	buf := make([]byte, 0, 256)
	for {
		_, r, err := conn.NextReader()
		if err != nil {
			return err
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
// In a storm, the latency of what victims recover after the kill goes to a
// histogram of its own (those events are late by design), and what the
// other sockets receive meanwhile to another.
func (s *socket) recordEvent(msg []byte, now int64, d *deliveries) {
	if d.durable {
		s.seqs.note(msg, d.storm, now)
	}
	t, ok := sendTime(msg)
	if !ok {
		d.errs.add("foreign event", fmt.Errorf("%.200s", msg))
		return
	}
	switch latency := time.Duration(now - t); {
	case d.storm == nil || !d.storm.started():
		d.latency.Record(latency)
	case d.storm.isVictim(s):
		d.storm.recovered.Record(latency)
	default:
		d.latency.Record(latency)
		if !d.storm.over() {
			d.storm.bystanders.Record(latency)
		}
	}
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
	conn := s.currentConn()
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	_ = conn.Close()
}
