package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
)

// ErrMalformedFrame is wrapped by every syntax error DecodeClientFrame returns.
var ErrMalformedFrame = errors.New("hub: malformed frame")

// DecodeClientFrame parses one client frame without reflection on the hot
// path (keys and strings without escapes are sliced, integers parsed by hand;
// only escaped strings and the data value go through encoding/json). Keys are
// case-sensitive; unknown keys are skipped so newer clients can add fields.
//
// It returns an *Error with CodeBadFrame, CodeUnknownOp or CodeBadChannel;
// the frame's ID is filled in when it was read before the failure, so the
// error frame can name the request.
func DecodeClientFrame(b []byte) (ClientFrame, error) {
	d := frameDecoder{b: b}
	var f ClientFrame
	if err := d.object(&f); err != nil {
		return f, newError(CodeBadFrame, err.Error())
	}
	return f, f.check()
}

// check enforces the fields each operation needs.
func (f *ClientFrame) check() error {
	switch f.Op {
	case OpPing:
		return nil
	case OpSubscribe, OpUnsubscribe, OpPublish, OpAck:
	case "":
		return newError(CodeBadFrame, "op missing")
	default:
		return newError(CodeUnknownOp, "unknown op")
	}
	if !ValidChannel(f.Channel) {
		return newError(CodeBadChannel, "invalid channel name")
	}
	if f.Op == OpPublish && (!ValidEventType(f.Type) || f.Data == nil) {
		return newError(CodeBadFrame, "publish needs type and data")
	}
	if f.Op == OpAck && f.Seq == 0 {
		return newError(CodeBadFrame, "ack needs seq")
	}
	return nil
}

type frameDecoder struct {
	b []byte
	i int
}

func (d *frameDecoder) fail(msg string) error {
	return errors.Join(ErrMalformedFrame, errors.New(msg))
}

func (d *frameDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// object parses the top-level {...} and nothing after it but whitespace.
func (d *frameDecoder) object(f *ClientFrame) error {
	d.space()
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return d.fail("frame is not a JSON object")
	}
	d.i++
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return d.end()
	}
	for {
		if err := d.member(f); err != nil {
			return err
		}
		d.space()
		if d.i >= len(d.b) {
			return d.fail("unterminated object")
		}
		c := d.b[d.i]
		d.i++
		if c == '}' {
			return d.end()
		}
		if c != ',' {
			return d.fail("expected , or }")
		}
		d.space()
	}
}

func (d *frameDecoder) end() error {
	d.space()
	if d.i != len(d.b) {
		return d.fail("data after the frame")
	}
	return nil
}

// member parses one "key": value pair into f.
func (d *frameDecoder) member(f *ClientFrame) error {
	key, err := d.key()
	if err != nil {
		return err
	}
	d.space()
	if d.i >= len(d.b) || d.b[d.i] != ':' {
		return d.fail("expected :")
	}
	d.i++
	d.space()
	if d.null() {
		return nil
	}
	return d.field(key, f)
}

// null consumes a JSON null, which every field treats as absent.
func (d *frameDecoder) null() bool {
	if bytes.HasPrefix(d.b[d.i:], []byte("null")) {
		d.i += 4
		return true
	}
	return false
}

func (d *frameDecoder) field(key string, f *ClientFrame) (err error) {
	switch key {
	case "op":
		f.Op, err = d.op()
	case "id":
		f.ID, err = d.uint()
	case "channel":
		f.Channel, err = d.str()
	case "since":
		f.Since, err = d.uint()
		f.HasSince = err == nil
	case "seq":
		f.Seq, err = d.uint()
	case "type":
		f.Type, err = d.str()
	case "data":
		f.Data, err = d.value()
	default:
		_, err = d.value()
	}
	return err
}

// key returns an object key; the known keys come back as constants, so
// the common case allocates nothing.
func (d *frameDecoder) key() (string, error) {
	raw, esc, err := d.strToken()
	if err != nil {
		return "", err
	}
	if esc {
		return unquote(raw)
	}
	inner := raw[1 : len(raw)-1]
	for _, k := range knownKeys {
		if string(inner) == k {
			return k, nil
		}
	}
	return "", nil // unknown keys are skipped; their name does not matter
}

var knownKeys = [...]string{"op", "id", "channel", "since", "seq", "type", "data"}

var knownOps = [...]string{OpSubscribe, OpUnsubscribe, OpPublish, OpAck, OpPing}

func (d *frameDecoder) op() (string, error) {
	raw, esc, err := d.strToken()
	if err != nil {
		return "", err
	}
	if esc {
		return unquote(raw)
	}
	inner := raw[1 : len(raw)-1]
	for _, op := range knownOps {
		if string(inner) == op {
			return op, nil
		}
	}
	return string(inner), nil
}

func (d *frameDecoder) str() (string, error) {
	raw, esc, err := d.strToken()
	if err != nil {
		return "", err
	}
	if esc {
		return unquote(raw)
	}
	return string(raw[1 : len(raw)-1]), nil
}

// strToken returns the quoted string at the cursor, and whether it needs
// the slow path (escapes, control bytes or non-ASCII).
func (d *frameDecoder) strToken() (raw []byte, slow bool, err error) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, false, d.fail("expected a string")
	}
	start := d.i
	for j := d.i + 1; j < len(d.b); j++ {
		c := d.b[j]
		switch {
		case c == '"':
			d.i = j + 1
			return d.b[start:d.i], slow, nil
		case c == '\\':
			slow = true
			j++
		case c < 0x20 || c >= 0x80:
			slow = true
		}
	}
	return nil, false, d.fail("unterminated string")
}

func unquote(raw []byte) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errors.Join(ErrMalformedFrame, err)
	}
	return s, nil
}

// uint parses a non-negative JSON integer without fraction or exponent.
func (d *frameDecoder) uint() (uint64, error) {
	start := d.i
	var n uint64
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		digit := uint64(d.b[d.i] - '0')
		if n > (math.MaxUint64-digit)/10 {
			return 0, d.fail("integer overflows uint64")
		}
		n = n*10 + digit
		d.i++
	}
	switch {
	case d.i == start:
		return 0, d.fail("expected a non-negative integer")
	case d.b[start] == '0' && d.i-start > 1:
		return 0, d.fail("leading zero")
	case d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E'):
		return 0, d.fail("expected an integer")
	}
	return n, nil
}

// value skips any JSON value and returns its bytes, validated.
func (d *frameDecoder) value() ([]byte, error) {
	start := d.i
	if err := d.skip(); err != nil {
		return nil, err
	}
	raw := d.b[start:d.i]
	if !json.Valid(raw) {
		return nil, d.fail("invalid JSON value")
	}
	return raw, nil
}

// skip moves past one value, tracking nesting and strings only; value
// validates the result.
func (d *frameDecoder) skip() error {
	if d.i >= len(d.b) {
		return d.fail("expected a value")
	}
	switch d.b[d.i] {
	case '"':
		_, _, err := d.strToken()
		return err
	case '{', '[':
		return d.skipNested()
	}
	for d.i < len(d.b) && !delimiter(d.b[d.i]) {
		d.i++
	}
	return nil
}

func (d *frameDecoder) skipNested() error {
	depth := 0
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case '"':
			if _, _, err := d.strToken(); err != nil {
				return err
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
		d.i++
		if depth == 0 {
			return nil
		}
	}
	return d.fail("unterminated value")
}

func delimiter(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}
