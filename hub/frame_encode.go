package hub

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// appendEventFrame appends the event frame for ev on channel. Channel and
// type are validated names, so they need no escaping; Data is a JSON value
// checked when it entered the hub.
func appendEventFrame(b []byte, channel string, ev Event) []byte {
	b = append(b, `{"op":"event","channel":"`...)
	b = append(b, channel...)
	if ev.Seq > 0 {
		b = append(b, `","seq":`...)
		b = strconv.AppendUint(b, ev.Seq, 10)
		b = append(b, `,"type":"`...)
	} else {
		b = append(b, `","type":"`...)
	}
	b = append(b, ev.Type...)
	b = append(b, `","data":`...)
	b = append(b, ev.Data...)
	return append(b, '}')
}

// encodeEventFrame returns the event frame for ev on channel in a new slice.
func encodeEventFrame(channel string, ev Event) []byte {
	return appendEventFrame(make([]byte, 0, 64+len(channel)+len(ev.Type)+len(ev.Data)), channel, ev)
}

// replyFrame is the success answer to the request with the given id.
// recovered is only written for a subscribe that asked for since.
func replyFrame(id uint64, recovered *bool) []byte {
	b := make([]byte, 0, 48)
	b = append(b, `{"op":"reply","id":`...)
	b = strconv.AppendUint(b, id, 10)
	b = append(b, `,"ok":true`...)
	if recovered != nil {
		b = append(b, `,"recovered":`...)
		b = strconv.AppendBool(b, *recovered)
	}
	return append(b, '}')
}

type errorFrameJSON struct {
	Op      string `json:"op"`
	ID      uint64 `json:"id,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Channel string `json:"channel,omitempty"`
}

// errorFrame is the failure answer to request id (0: not tied to a request).
// channel names the subscription an unsolicited error is about.
func errorFrame(id uint64, e *Error, channel string) []byte {
	b, err := json.Marshal(errorFrameJSON{Op: OpError, ID: id, Code: e.Code, Message: e.Message, Channel: channel})
	if err != nil { // unreachable: only strings and integers
		return []byte(`{"op":"error","code":"internal","message":""}`)
	}
	return b
}

// helloTemplate is the hello frame with everything but the socket id
// encoded once per node.
type helloTemplate struct{ head, tail []byte }

func newHelloTemplate(cfg *Config) helloTemplate {
	const marker = "~client-id~" // JSON keeps it as it is
	full := helloFrame(marker, cfg.NodeID, cfg)
	i := bytes.Index(full, []byte(marker))
	return helloTemplate{head: full[:i], tail: full[i+len(marker):]}
}

// frame is the hello frame of socket clientID (a hex id: no escaping).
func (h helloTemplate) frame(clientID string) []byte {
	b := make([]byte, 0, len(h.head)+len(clientID)+len(h.tail))
	b = append(b, h.head...)
	b = append(b, clientID...)
	return append(b, h.tail...)
}

type helloFrameJSON struct {
	Op          string  `json:"op"`
	Version     int     `json:"v"`
	Client      string  `json:"client"`
	Node        string  `json:"node"`
	PingSeconds int     `json:"ping"`
	MaxFrame    int64   `json:"max_frame"`
	FrameRate   float64 `json:"frame_rate"`
	FrameBurst  int     `json:"frame_burst"`
}

// helloFrame is the first frame on every socket.
func helloFrame(clientID, nodeID string, cfg *Config) []byte {
	b, _ := json.Marshal(helloFrameJSON{
		Op: OpHello, Version: ProtocolVersion, Client: clientID, Node: nodeID,
		PingSeconds: int(cfg.PingInterval.Seconds()), MaxFrame: cfg.MaxFrameBytes,
		FrameRate: cfg.FrameRate, FrameBurst: cfg.FrameBurst,
	})
	return b
}
