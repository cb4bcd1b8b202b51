package main

import (
	"encoding/json"
	"testing"
	"time"
)

func TestPayloadIsSixtyBytesOfJSON(t *testing.T) {
	now := time.Now().UnixNano()
	for _, i := range []int{0, 7, 123456} {
		p := appendPayload(nil, now, i)
		if len(p) != payloadSize {
			t.Errorf("payload %q is %d bytes", p, len(p))
		}
		var v struct {
			T int64 `json:"t"`
			I int   `json:"i"`
		}
		if err := json.Unmarshal(p, &v); err != nil || v.T != now || v.I != i {
			t.Errorf("payload %q decodes to %+v, %v", p, v, err)
		}
	}
}

func TestSendTimeFromEventFrame(t *testing.T) {
	now := time.Now().UnixNano()
	frame := `{"op":"event","channel":"user:0b6f-t","type":"bench","data":` + string(appendPayload(nil, now, 42)) + `}`
	if !isEvent([]byte(frame)) {
		t.Fatal("not recognised as an event")
	}
	got, ok := sendTime([]byte(frame))
	if !ok || got != now {
		t.Fatalf("sendTime = %d, %v; want %d", got, ok, now)
	}
	durable := `{"op":"event","channel":"user:1","seq":9,"type":"t","data":{"t":17,"i":1}}`
	if got, ok := sendTime([]byte(durable)); !ok || got != 17 {
		t.Errorf("durable frame: %d, %v", got, ok)
	}
}

func TestSendTimeRejectsOtherFrames(t *testing.T) {
	for _, f := range []string{
		`{"op":"reply","id":1,"ok":true}`,
		`{"op":"event","channel":"c","type":"x","data":{"i":1}}`,
		`{"op":"event","channel":"c","type":"x","data":{"t":"soon"}}`,
		`{"op":"event","channel":"c","type":"x","data":{"t":12345678901234567890}}`,
		`{"op":"event","channel":"c","type":"t"}`,
	} {
		if v, ok := sendTime([]byte(f)); ok {
			t.Errorf("%s: got %d", f, v)
		}
	}
	if isEvent([]byte(`{"op":"error","code":"forbidden"}`)) {
		t.Error("error frame taken for an event")
	}
}

func TestSendTimeInChatText(t *testing.T) {
	frame := []byte(`{"op":"event","channel":"conversation:x","seq":3,"type":"message.created","data":{"id":"a","text":"t=1732550000123456789 i=7","deleted":false}}`)
	if got, ok := sendTime(frame); !ok || got != 1732550000123456789 {
		t.Fatalf("sendTime = %d, %v", got, ok)
	}
}

// Durable events recovered from history come back from Postgres's jsonb:
// keys reordered, a space after each colon.
func TestSendTimeFromRecoveredEvent(t *testing.T) {
	frame := `{"op":"event","channel":"user:x","seq":4,"type":"bench","data":{"i": 300, "p": "xx", "t": 1796289105530375524}}`
	if got, ok := sendTime([]byte(frame)); !ok || got != 1796289105530375524 {
		t.Errorf("send time %d, %v", got, ok)
	}
	if seq, ok := frameSeq([]byte(frame)); !ok || seq != 4 {
		t.Errorf("seq %d, %v", seq, ok)
	}
}
