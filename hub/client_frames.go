package hub

import (
	"context"
	"errors"
	"log/slog"
)

// handleFrame answers one client frame. Nothing a client sends can crash
// the socket: every failure becomes an error frame.
func (c *client) handleFrame(msg []byte) {
	f, err := DecodeClientFrame(msg)
	if err != nil {
		c.sendError(f.ID, asProtocolError(err), "")
		return
	}
	switch f.Op {
	case OpSubscribe:
		c.subscribe(f)
	case OpUnsubscribe:
		c.unsubscribe(f)
	case OpPublish:
		c.publish(f)
	case OpAck:
		c.ack(f)
	case OpPing:
		c.send(rawFrame(replyFrame(f.ID, nil)))
	}
}

func asProtocolError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return newError(CodeInternal, "internal error")
}

// callbackError turns a callback's error into what the client may see.
func callbackError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return newError(CodeForbidden, "not allowed")
}

func (c *client) callbackContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.ctx, c.node.cfg.CallbackTimeout)
}

func (c *client) subscribe(f ClientFrame) {
	if err := c.authorizeChannel(f.Channel); errors.Is(err, errAuthorizeBudget) {
		c.sendError(f.ID, errAuthorizeBudget, "")
		return
	} else if err != nil {
		c.node.log.Debug("hub: subscribe refused", slog.String("user", c.info.UserID),
			slog.String("channel", f.Channel), slog.Any("err", err))
		c.sendError(f.ID, newError(CodeForbidden, "subscription refused"), "")
		return
	}
	s, perr := c.addSubscription(f)
	if perr != nil {
		c.sendError(f.ID, perr, "")
		return
	}
	if err := c.node.attach(c.ctx, s); err != nil {
		c.node.log.Warn("hub: broker subscribe failed", slog.String("channel", f.Channel), slog.Any("err", err))
		c.forget(s)
		c.sendError(f.ID, newError(CodeUnavailable, "try again later"), "")
		return
	}
	c.node.startSubscription(c.ctx, s, f)
}

// addSubscription records a pending subscription for f.Channel.
func (c *client) addSubscription(f ClientFrame) (*subscription, *Error) {
	c.subsMu.Lock()
	defer c.subsMu.Unlock()
	if _, ok := c.subs[f.Channel]; ok {
		return nil, newError(CodeAlreadySubscribed, "already subscribed")
	}
	if len(c.subs) >= c.node.cfg.MaxSubscriptions {
		return nil, newError(CodeTooManyChannels, "subscription limit reached")
	}
	s := newSubscription(c, f.Channel, f.Since, f.HasSince)
	c.subs[f.Channel] = s
	return s, nil
}

// forget drops s from the client's map if it is still the current one.
func (c *client) forget(s *subscription) {
	c.subsMu.Lock()
	defer c.subsMu.Unlock()
	if c.subs[s.channel] == s {
		delete(c.subs, s.channel)
	}
}

func (c *client) unsubscribe(f ClientFrame) {
	c.subsMu.Lock()
	s, ok := c.subs[f.Channel]
	delete(c.subs, f.Channel)
	c.subsMu.Unlock()
	if !ok {
		c.sendError(f.ID, newError(CodeNotSubscribed, "not subscribed"), "")
		return
	}
	s.stop()
	c.node.detach(s)
	c.send(rawFrame(replyFrame(f.ID, nil)))
}

// unsubscribeAll runs when the socket is gone.
func (c *client) unsubscribeAll() {
	c.subsMu.Lock()
	subs := c.subs
	c.subs = make(map[string]*subscription)
	c.subsMu.Unlock()
	for _, s := range subs {
		s.stop()
		c.node.detach(s)
	}
}

func (c *client) publish(f ClientFrame) {
	cb := c.node.cfg.Callbacks.ClientEvent
	if cb == nil {
		c.sendError(f.ID, newError(CodeForbidden, "client events are not accepted"), "")
		return
	}
	ctx, cancel := c.callbackContext()
	defer cancel()
	if err := cb(ctx, c.info, f.Channel, f.Type, f.Data); err != nil {
		c.sendError(f.ID, callbackError(err), "")
		return
	}
	c.send(rawFrame(replyFrame(f.ID, nil)))
}

func (c *client) ack(f ClientFrame) {
	if cb := c.node.cfg.Callbacks.Ack; cb != nil {
		ctx, cancel := c.callbackContext()
		defer cancel()
		if err := cb(ctx, c.info, f.Channel, f.Seq); err != nil {
			c.sendError(f.ID, callbackError(err), "")
			return
		}
	}
	c.send(rawFrame(replyFrame(f.ID, nil)))
}
