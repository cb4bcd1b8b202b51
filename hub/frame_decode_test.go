package hub

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestDecodeClientFrame(t *testing.T) {
	cases := []struct {
		in   string
		want ClientFrame
	}{
		{`{"op":"subscribe","id":1,"channel":"order:9"}`, ClientFrame{Op: OpSubscribe, ID: 1, Channel: "order:9"}},
		{` { "channel" : "order:9" , "since" : 0 , "op" : "subscribe" , "id" : 2 } `,
			ClientFrame{Op: OpSubscribe, ID: 2, Channel: "order:9", HasSince: true}},
		{`{"op":"subscribe","id":3,"channel":"order:9","since":null}`, ClientFrame{Op: OpSubscribe, ID: 3, Channel: "order:9"}},
		{`{"op":"publish","id":4,"channel":"c:1","type":"typing","data":{"a":[1,"}"]}}`,
			ClientFrame{Op: OpPublish, ID: 4, Channel: "c:1", Type: "typing", Data: []byte(`{"a":[1,"}"]}`)}},
		{`{"op":"ack","channel":"c:1","seq":18446744073709551615}`, ClientFrame{Op: OpAck, Channel: "c:1", Seq: 1<<64 - 1}},
		{`{"op":"ping","future":{"x":[true,null]},"id":5}`, ClientFrame{Op: OpPing, ID: 5}},
		{`{"op":"unsubscribe","channel":"\u006frder:1"}`, ClientFrame{Op: OpUnsubscribe, Channel: "order:1"}},
	}
	for _, tc := range cases {
		got, err := DecodeClientFrame([]byte(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !sameFrame(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}
}

func TestDecodeClientFrameRejects(t *testing.T) {
	cases := map[string]string{
		``:                       CodeBadFrame,
		`{`:                      CodeBadFrame,
		`{"op":"ping"} x`:        CodeBadFrame,
		`{"op":"ping","id":1.5}`: CodeBadFrame,
		`{"op":"ping","id":1e3}`: CodeBadFrame,
		`{"op":"ping","id":01}`:  CodeBadFrame,
		`{"op":"ping","id":"1"}`: CodeBadFrame,
		`{"op":"ping","id":18446744073709551616}`:     CodeBadFrame,
		`{"op":"ping","x":tru}`:                       CodeBadFrame,
		`{"op":"ping","x":"\q"}`:                      CodeBadFrame,
		`{"op":"ping",}`:                              CodeBadFrame,
		`{"id":1}`:                                    CodeBadFrame,
		`{"op":"fly"}`:                                CodeUnknownOp,
		`{"op":"subscribe"}`:                          CodeBadChannel,
		`{"op":"subscribe","channel":"a b"}`:          CodeBadChannel,
		`{"op":"publish","channel":"c:1","type":"t"}`: CodeBadFrame,
		`{"op":"ack","channel":"c:1"}`:                CodeBadFrame,
	}
	for in, code := range cases {
		_, err := DecodeClientFrame([]byte(in))
		var e *Error
		if !errors.As(err, &e) || e.Code != code {
			t.Errorf("%q: got %v, want code %s", in, err, code)
		}
	}
}

func TestDecodeErrorKeepsID(t *testing.T) {
	f, err := DecodeClientFrame([]byte(`{"id":7,"op":"subscribe","channel":"bad channel"}`))
	if err == nil || f.ID != 7 {
		t.Fatalf("got %+v, %v; want the id kept for the error frame", f, err)
	}
}

func sameFrame(a, b ClientFrame) bool {
	return a.Op == b.Op && a.ID == b.ID && a.Channel == b.Channel && a.Since == b.Since &&
		a.HasSince == b.HasSince && a.Seq == b.Seq && a.Type == b.Type && string(a.Data) == string(b.Data)
}

// referenceFrame is what encoding/json makes of a frame, for the fuzzer's
// cross-check.
type referenceFrame struct {
	Op      string          `json:"op"`
	ID      uint64          `json:"id"`
	Channel string          `json:"channel"`
	Since   *uint64         `json:"since"`
	Seq     uint64          `json:"seq"`
	Type    string          `json:"type"`
	Data    json.RawMessage `json:"data"`
}

// FuzzDecodeClientFrame checks that the decoder never panics, never
// accepts invalid JSON, and agrees with encoding/json on every frame it
// accepts (for keys spelled exactly, which is all the protocol allows).
func FuzzDecodeClientFrame(f *testing.F) {
	seeds := []string{
		`{"op":"subscribe","id":1,"channel":"order:9","since":42}`,
		`{"op":"unsubscribe","id":2,"channel":"conversation:1"}`,
		`{"op":"publish","id":3,"channel":"conversation:1","type":"typing","data":{"on":true}}`,
		`{"op":"ack","id":4,"channel":"conversation:1","seq":17}`,
		`{"op":"ping","id":5}`,
		`{"op":"ping","extra":[1,{"a":"\u00e9\""}],"id":6}`,
		`{"op":"subscribe","channel":"a","since":null}`,
		`{"op":"publish","channel":"c","type":"t","data":"\ud800"}`,
		`[]`, `{`, `{"op":1}`, `{"op":"ping","id":-1}`, "{\"op\":\"ping\"}\x00",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := DecodeClientFrame(b)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		var ref referenceFrame
		if err := json.Unmarshal(b, &ref); err != nil {
			if caseFoldedKeys(b) {
				return
			}
			t.Fatalf("encoding/json rejects accepted frame %q: %v", b, err)
		}
		if caseFoldedKeys(b) {
			return // encoding/json matches keys case-insensitively; we do not
		}
		if ref.Op != got.Op || ref.ID != got.ID || ref.Channel != got.Channel || ref.Seq != got.Seq ||
			ref.Type != got.Type || (ref.Since != nil) != got.HasSince || (ref.Since != nil && *ref.Since != got.Since) {
			t.Fatalf("%q: decoder %+v, encoding/json %+v", b, got, ref)
		}
		if got.Data != nil && string(ref.Data) != string(got.Data) {
			t.Fatalf("%q: data %q vs %q", b, got.Data, ref.Data)
		}
	})
}

// caseFoldedKeys reports whether b has a key that differs from a protocol
// key only in case, or is escaped, which encoding/json would also match.
func caseFoldedKeys(b []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return true
	}
	for k := range m {
		for _, known := range knownKeys {
			if k != known && len(k) == len(known) && equalFoldASCII(k, known) {
				return true
			}
		}
	}
	return false
}

func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

func TestHelloTemplateMatchesTheEncodedHello(t *testing.T) {
	cfg := Config{NodeID: "node-7"}.withDefaults()
	tmpl := newHelloTemplate(&cfg)
	for _, id := range []string{"0123456789abcdef", "x"} {
		if got, want := string(tmpl.frame(id)), string(helloFrame(id, cfg.NodeID, &cfg)); got != want {
			t.Errorf("hello for %s:\n got %s\nwant %s", id, got, want)
		}
	}
}
