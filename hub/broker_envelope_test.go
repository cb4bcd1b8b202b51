package hub

import (
	"bytes"
	"testing"
)

// TestEnvelopeCarriesTraceOnlyWhenTraced: an untraced event keeps the v1 envelope
// (which earlier nodes read); a traced one goes out as v2 with its traceparent, and
// both decode to the same seq and frame. Truncated v2 envelopes are refused.
func TestEnvelopeCarriesTraceOnlyWhenTraced(t *testing.T) {
	frame := []byte(`{"op":"event"}`)
	tp := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	v1 := encodeEnvelope(7, "", frame)
	if v1[0] != envelopeV1 || len(v1) != envelopeHeader+len(frame) {
		t.Fatalf("untraced envelope: %q", v1)
	}
	v2 := encodeEnvelope(7, tp, frame)
	if v2[0] != envelopeV2 {
		t.Fatalf("traced envelope version %d", v2[0])
	}
	for _, env := range [][]byte{v1, v2} {
		seq, gotTP, gotFrame, err := decodeEnvelope(env)
		if err != nil || seq != 7 || !bytes.Equal(gotFrame, frame) {
			t.Fatalf("decode %q: %d %q %v", env, seq, gotFrame, err)
		}
		if want := map[byte]string{envelopeV1: "", envelopeV2: tp}[env[0]]; gotTP != want {
			t.Fatalf("traceparent %q, want %q", gotTP, want)
		}
	}
	for _, bad := range [][]byte{v2[:envelopeHeader], v2[:envelopeHeader+10], {3, 0, 0, 0, 0, 0, 0, 0, 1}} {
		if _, _, _, err := decodeEnvelope(bad); err == nil {
			t.Fatalf("decoded a bad envelope %q", bad)
		}
	}
}

// FuzzDecodeEnvelope: no input makes the decoder panic, and what it accepts
// re-encodes to the same bytes.
func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(encodeEnvelope(1, "", []byte("{}")))
	f.Add(encodeEnvelope(2, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", []byte("{}")))
	f.Fuzz(func(t *testing.T, b []byte) {
		seq, tp, frame, err := decodeEnvelope(b)
		if err != nil {
			return
		}
		if b[0] == envelopeV2 && tp == "" {
			return // a v2 envelope with an empty traceparent is read, and re-encoded as v1
		}
		if again := encodeEnvelope(seq, tp, frame); !bytes.Equal(again, b) {
			t.Fatalf("re-encoded %q as %q", b, again)
		}
	})
}
