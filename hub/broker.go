package hub

import (
	"context"
	"encoding/binary"
	"errors"
)

// Broker carries events between the nodes of a cluster. A node calls
// Subscribe for a channel when its first local subscriber arrives and
// Unsubscribe when the last one leaves, so a broker only receives what the
// node needs. Calls for one channel are serialized by the node.
//
// Payloads are opaque: the node encodes an envelope (seq + the ready event
// frame) once on the publishing node and every receiving node sends those
// bytes to its sockets as they are.
type Broker interface {
	// Start begins delivering to h and returns once the broker is ready to
	// publish and subscribe. It returns an error when the backend cannot be
	// reached at all.
	Start(ctx context.Context, h BrokerHandler) error
	// Publish sends payload to every node subscribed to channel. It does
	// not wait for delivery.
	Publish(ctx context.Context, channel string, payload []byte) error
	// PublishControl sends payload to every node, this one included.
	PublishControl(ctx context.Context, payload []byte) error
	// Subscribe starts delivery of channel and returns once the backend
	// has confirmed it, so an event published afterwards is not missed.
	Subscribe(ctx context.Context, channel string) error
	// Unsubscribe stops delivery of channel.
	Unsubscribe(ctx context.Context, channel string) error
	// Close stops the broker; HandleMessage is not called after it returns.
	Close() error
}

// RecentBroker is a Broker that also keeps the latest durable events of each
// channel it carries, written before they are published, so a recovery can
// read them there instead of asking History (a database). Because an event
// is kept before it is published, a read made after a subscription attached
// holds every event published before that moment that is still kept, and
// anything missing from it was either published afterwards (and reaches the
// subscription live) or is older than what is kept (and the read does not
// continue since: the node then asks History).
type RecentBroker interface {
	// Recent returns the kept durable events of channel with seq > since,
	// in seq order (at most limit), as ready event frames. known is false
	// when the broker keeps nothing for the channel.
	Recent(ctx context.Context, channel string, since uint64, limit int) (events []Event, known bool, err error)
}

// BrokerHandler receives what a Broker delivers. Methods may be called
// concurrently and must not block for long.
type BrokerHandler interface {
	// HandleMessage delivers a payload published on channel. The handler
	// owns payload.
	HandleMessage(channel string, payload []byte)
	// HandleControl delivers a control payload.
	HandleControl(payload []byte)
	// HandleDisconnect reports that the broker lost its connection:
	// messages, control ones included, may be lost until HandleReconnect.
	HandleDisconnect()
	// HandleReconnect reports that the broker lost its connection and is
	// subscribed again: messages may have been lost in between, so durable
	// channels must be re-synced from history.
	HandleReconnect()
}

// ErrBrokerClosed is returned by a Broker used after Close.
var ErrBrokerClosed = errors.New("hub: broker closed")

// errBadEnvelope marks a broker payload this version cannot read.
var errBadEnvelope = errors.New("hub: bad broker envelope")

// Envelope versions: v1 is the version byte, the big-endian seq and the frame;
// v2, used only for an event that carries a trace, puts a length byte and the
// W3C traceparent between the seq and the frame. Untraced events stay v1, so a
// node of an earlier version reads everything as long as tracing is off.
const (
	envelopeV1     = 1
	envelopeV2     = 2
	envelopeHeader = 9 // version byte + big-endian seq
)

// encodeEnvelope wraps a ready event frame with its seq (and traceparent, when
// there is one), so receivers can order durable events without parsing JSON.
func encodeEnvelope(seq uint64, traceparent string, frame []byte) []byte {
	if len(traceparent) > 255 {
		traceparent = ""
	}
	head := envelopeHeader
	if traceparent != "" {
		head += 1 + len(traceparent)
	}
	b := make([]byte, envelopeHeader, head+len(frame))
	b[0] = envelopeV1
	binary.BigEndian.PutUint64(b[1:], seq)
	if traceparent != "" {
		b[0] = envelopeV2
		b = append(b, byte(len(traceparent)))
		b = append(b, traceparent...)
	}
	return append(b, frame...)
}

// decodeEnvelope returns an envelope's seq, traceparent ("" in v1) and frame, or
// errBadEnvelope.
func decodeEnvelope(b []byte) (seq uint64, traceparent string, frame []byte, err error) {
	if len(b) < envelopeHeader || b[0] != envelopeV1 && b[0] != envelopeV2 {
		return 0, "", nil, errBadEnvelope
	}
	seq, frame = binary.BigEndian.Uint64(b[1:envelopeHeader]), b[envelopeHeader:]
	if b[0] == envelopeV2 {
		if len(frame) == 0 || len(frame) < 1+int(frame[0]) {
			return 0, "", nil, errBadEnvelope
		}
		traceparent, frame = string(frame[1:1+int(frame[0])]), frame[1+int(frame[0]):]
	}
	return seq, traceparent, frame, nil
}
