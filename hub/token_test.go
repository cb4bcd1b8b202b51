package hub

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var testSecret = []byte("a test connection-token secret of 32+ bytes")

// signClaims makes a token for arbitrary claims, signed like n's.
func signClaims(n *Node, c tokenClaims) string {
	payload, _ := json.Marshal(c)
	signing := tokenHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	return signing + "." + n.tokenMAC(signing)
}

func TestTokenRoundTripAndForgeries(t *testing.T) {
	n := newTestNode(t, Config{TokenSecret: testSecret, TokenTTL: time.Minute})
	tok, exp, err := n.IssueToken(ClientInfo{UserID: "u1", SessionID: "s1"})
	if err != nil || time.Until(exp) < 50*time.Second {
		t.Fatalf("IssueToken = %q, %v, %v", tok, exp, err)
	}
	if info, err := n.VerifyToken(tok); err != nil || info.UserID != "u1" || info.SessionID != "s1" {
		t.Fatalf("VerifyToken = %+v, %v", info, err)
	}
	other := newTestNode(t, Config{TokenSecret: []byte("another secret, also long enough!!")})
	now := time.Now()
	parts := strings.Split(tok, ".")
	forged := map[string]string{
		"another secret":  mustIssue(t, other, "u1"),
		"other claims":    parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin","iat":1,"exp":9999999999}`)) + "." + parts[2],
		"no signature":    parts[0] + "." + parts[1] + ".",
		"expired":         signClaims(n, tokenClaims{Sub: "u1", Iat: now.Add(-time.Hour).Unix(), Exp: now.Add(-time.Minute).Unix()}),
		"from the future": signClaims(n, tokenClaims{Sub: "u1", Iat: now.Add(time.Hour).Unix(), Exp: now.Add(2 * time.Hour).Unix()}),
		"no user":         signClaims(n, tokenClaims{Iat: now.Unix(), Exp: now.Add(time.Minute).Unix()}),
		"garbage":         "not.a.token",
		"empty":           "",
		"huge":            strings.Repeat("a", 5000),
	}
	for name, tok := range forged {
		if _, err := n.VerifyToken(tok); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("%s: VerifyToken error %v, want ErrTokenInvalid", name, err)
		}
	}
	off := newTestNode(t, Config{})
	if _, _, err := off.IssueToken(ClientInfo{UserID: "u1"}); !errors.Is(err, ErrTokensOff) {
		t.Errorf("IssueToken without a secret: %v", err)
	}
	if _, err := off.VerifyToken(tok); !errors.Is(err, ErrTokensOff) {
		t.Errorf("VerifyToken without a secret: %v", err)
	}
}

func mustIssue(t *testing.T, n *Node, user string) string {
	t.Helper()
	tok, _, err := n.IssueToken(ClientInfo{UserID: user, SessionID: "s-" + user})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// FuzzVerifyToken: nothing a client puts in ?token= crashes the node or
// passes without the secret.
func FuzzVerifyToken(f *testing.F) {
	n, err := NewNode(Config{TokenSecret: testSecret})
	if err != nil {
		f.Fatal(err)
	}
	tok, _, _ := n.IssueToken(ClientInfo{UserID: "u", SessionID: "s"})
	f.Add(tok)
	f.Add("a.b.c")
	f.Add(tokenHeader + "..")
	f.Fuzz(func(t *testing.T, s string) {
		info, err := n.VerifyToken(s)
		if err == nil && s != tok {
			t.Fatalf("forged token %q accepted as %+v", s, info)
		}
	})
}

// A session ended on one node refuses its tokens and closes its sockets on
// every node; the user's other sessions are untouched; disabling the user
// refuses every token issued until then.
func TestRevocationReachesEveryNode(t *testing.T) {
	prefix := testPrefix(t)
	cfg := func() Config { return Config{TokenSecret: testSecret, Revocations: redisRevocations(t, prefix)} }
	a, b := newRedisNode(t, prefix, false, cfg()), newRedisNode(t, prefix, false, cfg())
	ended, kept := mustIssue(t, a.node, "ann"), mustIssueSession(t, a.node, "ann", "s-other")
	if _, err := b.node.VerifyToken(ended); err != nil {
		t.Fatalf("token from node A on node B: %v", err)
	}
	sock := dial(t, b.url, "ann") // session s-ann on node B
	if err := a.node.DisconnectSessions(context.Background(), "ann", []string{"s-ann"}, CloseSessionEnded, "logged out"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node B refusing the ended session's token", func() bool {
		_, err := b.node.VerifyToken(ended)
		return errors.Is(err, ErrTokenRevoked)
	})
	if code := sock.closeCode(); code != CloseSessionEnded {
		t.Fatalf("socket of the ended session closed with %d", code)
	}
	if _, err := b.node.VerifyToken(kept); err != nil {
		t.Fatalf("the user's other session: %v", err)
	}
	if err := a.node.DisconnectUser(context.Background(), "ann", CloseSessionEnded, "disabled"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node B refusing every token of the disabled user", func() bool {
		_, err := b.node.VerifyToken(kept)
		return errors.Is(err, ErrTokenRevoked)
	})
	// A node that joins later reads the revocations from Redis.
	c := newRedisNode(t, prefix, false, cfg())
	if _, err := c.node.VerifyToken(ended); !errors.Is(err, ErrTokenRevoked) {
		t.Fatalf("a node started after the logout accepted the token: %v", err)
	}
}

func mustIssueSession(t *testing.T, n *Node, user, session string) string {
	t.Helper()
	tok, _, err := n.IssueToken(ClientInfo{UserID: user, SessionID: session})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func redisRevocations(t *testing.T, prefix string) *RedisRevocations {
	t.Helper()
	r, err := NewRedisRevocations(RedisRevocationsConfig{Client: redisClient(t, "hubtest-revocations"), Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// While its broker is down a node cannot hear revocations, so it refuses
// tokens (the client retries); once back it reads what it missed from the
// store, refuses those tokens and closes their sockets.
func TestTokensRefusedWhileRevocationsMayBeMissed(t *testing.T) {
	broker, store := NewMemoryBroker(), NewMemoryRevocations()
	n := newTestNode(t, Config{Broker: broker, Revocations: store, TokenSecret: testSecret})
	url := serve(t, n, serveOptions{})
	tok, still := mustIssue(t, n, "bo"), mustIssueSession(t, n, "bo", "s-phone")
	sock := dial(t, url, "bo")
	broker.Disconnect()
	if _, err := n.VerifyToken(tok); !errors.Is(err, ErrRevocationsOutOfSync) {
		t.Fatalf("VerifyToken while the broker is down: %v", err)
	}
	// A logout on another node during the outage reaches only the store.
	if err := store.Revoke(context.Background(), []string{sessionKey("s-bo")}, time.Now()); err != nil {
		t.Fatal(err)
	}
	broker.Reconnect()
	eventually(t, "revocations in sync again", func() bool {
		_, err := n.VerifyToken(still)
		return err == nil
	})
	if _, err := n.VerifyToken(tok); !errors.Is(err, ErrTokenRevoked) {
		t.Fatalf("token revoked during the outage: %v", err)
	}
	if code := sock.closeCode(); code != CloseSessionEnded {
		t.Fatalf("socket of the session revoked during the outage closed with %d", code)
	}
}
