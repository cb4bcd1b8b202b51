package main

import (
	"bytes"
	"strconv"
)

// payloadSize is the length of every event payload, like the ~60-byte JSON
// payloads Centrifugo was measured with.
const payloadSize = 60

// appendPayload appends the event data for publish number i sent at sendNanos
// (Unix nanoseconds): {"t":<nanos>,"i":<i>,"p":"xx…"} padded to payloadSize.
func appendPayload(b []byte, sendNanos int64, i int) []byte {
	start := len(b)
	b = append(b, `{"t":`...)
	b = strconv.AppendInt(b, sendNanos, 10)
	b = append(b, `,"i":`...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, `,"p":"`...)
	for len(b)-start < payloadSize-2 {
		b = append(b, 'x')
	}
	return append(b, `"}`...)
}

var (
	eventPrefix = []byte(`{"op":"event"`)
	dataKey     = []byte(`"data":`)
	sendTimeKey = []byte(`"t":`)
	chatTimeKey = []byte(`t=`) // in -chat mode the send time travels in the message text
)

// isEvent reports whether a server frame is an event frame. The hub writes
// "op" first in every frame, so a prefix check suffices.
func isEvent(frame []byte) bool { return bytes.HasPrefix(frame, eventPrefix) }

// sendTime extracts the publish time (Unix nanoseconds) from an event frame
// carrying a payload made by appendPayload, without decoding the JSON: it
// finds "t": inside the data value and parses the integer after it.
func sendTime(frame []byte) (int64, bool) {
	d := bytes.Index(frame, dataKey)
	if d < 0 {
		return 0, false
	}
	rest := frame[d+len(dataKey):]
	key := sendTimeKey
	k := bytes.Index(rest, key)
	if k < 0 {
		key = chatTimeKey
		if k = bytes.Index(rest, key); k < 0 {
			return 0, false
		}
	}
	rest = bytes.TrimLeft(rest[k+len(key):], " ") // history from Postgres (jsonb) has spaces
	var n int64
	digits := 0
	for _, c := range rest {
		if c < '0' || c > '9' {
			break
		}
		if digits == 19 { // more than an int64 of nanoseconds holds
			return 0, false
		}
		n = n*10 + int64(c-'0')
		digits++
	}
	return n, digits > 0
}
