package e2e

import (
	"net/http"
	"testing"
	"time"
)

const wsTokenSecret = "e2e-connection-token-secret-0123456789abcdef"

// tokenEnv is realtimeEnv with connection tokens on.
func tokenEnv(extra map[string]string) map[string]string {
	return realtimeEnv(merge(map[string]string{"WS_TOKEN_SECRET": wsTokenSecret}, extra))
}

// connToken gets a connection token with a bearer session.
func connToken(t *testing.T, n *Node, bearer string) string {
	t.Helper()
	var tok struct {
		Token     string `json:"token"`
		ExpiresIn int    `json:"expires_in"`
	}
	expect(t, (&client{t: t, base: n.URL, bearer: bearer}).do("POST", "/ws/token", nil), 201, "connection token").json(t, &tok)
	if tok.Token == "" || tok.ExpiresIn < 60 {
		t.Fatalf("connection token answer %+v", tok)
	}
	return tok.Token
}

// tokenStatus is the HTTP status of an upgrade with a connection token (101
// when the socket opened; it is then closed).
func tokenStatus(t *testing.T, n *Node, token string) int {
	t.Helper()
	s, resp, err := dial(t, n, "?token="+token, nil)
	if err == nil {
		_ = s.conn.Close()
		return http.StatusSwitchingProtocols
	}
	if resp == nil {
		t.Fatalf("token upgrade: %v", err)
	}
	return resp.StatusCode
}

// eventuallyStatus waits until a token upgrade on n answers want.
func eventuallyStatus(t *testing.T, n *Node, token string, want int, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := tokenStatus(t, n, token)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: token upgrade answered %d, want %d", what, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A connection token from one node opens sockets on another without a session
// lookup; ending its session (logout, revocation) closes its sockets and refuses
// the token on every node, while the user's other sessions keep theirs.
func TestConnectionTokensOpenSocketsAndDieWithTheirSession(t *testing.T) {
	nodes := startCluster(t, 2, tokenEnv(nil))
	id, laptopBearer := appUser(t, nodes[0], "tok")
	other, _ := appUser(t, nodes[0], "tokother")
	var me struct{ Email string }
	expect(t, (&client{t: t, base: nodes[0].URL, bearer: laptopBearer}).do("GET", "/me", nil), 200, "me").json(t, &me)
	var phoneTok struct{ Token string }
	expect(t, (&client{t: t, base: nodes[0].URL}).do("POST", "/auth/tokens",
		map[string]string{"email": me.Email, "password": "long enough password"}), 201, "second device").json(t, &phoneTok)
	phoneBearer := phoneTok.Token
	laptop, phone := connToken(t, nodes[0], laptopBearer), connToken(t, nodes[0], phoneBearer)

	s, _, err := dial(t, nodes[1], "?token="+laptop, nil)
	if err != nil {
		t.Fatalf("token from node 0 on node 1: %v", err)
	}
	if f := s.subscribe("user:"+id, nil); f.Op != "reply" {
		t.Fatalf("own channel over a token socket: %+v", f)
	}
	if f := s.subscribe("user:"+other, nil); f.Op != "error" || f.Code != "forbidden" {
		t.Fatalf("another user's channel over a token socket: %+v", f)
	}
	p, _, err := dial(t, nodes[1], "?token="+phone, nil)
	if err != nil {
		t.Fatalf("second session's token: %v", err)
	}
	for what, bad := range map[string]string{
		"tampered": laptop[:len(laptop)-2] + "xx", "garbage": "abc", "bearer as token": laptopBearer,
	} {
		if got := tokenStatus(t, nodes[1], bad); got != 401 {
			t.Errorf("%s token: status %d, want 401", what, got)
		}
	}
	foreign := http.Header{"Origin": {"https://evil.example"}}
	if _, resp, err := dial(t, nodes[1], "?token="+phone, foreign); err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("token upgrade from a foreign origin: err %v, resp %v; want 403", err, resp)
	}

	expect(t, (&client{t: t, base: nodes[0].URL, bearer: laptopBearer}).do("POST", "/auth/logout", nil), 204, "logout")
	if code := s.closeCode(5 * time.Second); code != 4001 {
		t.Fatalf("token socket of the ended session closed with %d, want 4001", code)
	}
	for i, n := range nodes {
		eventuallyStatus(t, n, laptop, 401, "logged-out session's token on node "+string(rune('0'+i)))
	}
	if f := p.subscribe("user:"+id, nil); f.Op != "reply" {
		t.Fatalf("the other session's socket did not survive the logout: %+v", f)
	}
	if got := tokenStatus(t, nodes[0], phone); got != 101 {
		t.Fatalf("the other session's token after the logout: %d", got)
	}

	var list struct {
		Sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		}
	}
	phoneClient := &client{t: t, base: nodes[0].URL, bearer: phoneBearer}
	expect(t, phoneClient.do("GET", "/me/sessions", nil), 200, "sessions").json(t, &list)
	for _, sess := range list.Sessions {
		if sess.Current {
			expect(t, phoneClient.do("DELETE", "/me/sessions/"+sess.ID, nil), 204, "revoke the session")
		}
	}
	if code := p.closeCode(5 * time.Second); code != 4001 {
		t.Fatalf("token socket of the revoked session closed with %d, want 4001", code)
	}
	eventuallyStatus(t, nodes[1], phone, 401, "revoked session's token")
}

// Without WS_TOKEN_SECRET there are no connection tokens: POST /ws/token is 404
// and a ?token= upgrade is treated as anonymous.
func TestConnectionTokensOffWithoutASecret(t *testing.T) {
	n := startCluster(t, 1, realtimeEnv(nil))[0]
	_, bearer := appUser(t, n, "notok")
	r := (&client{t: t, base: n.URL, bearer: bearer}).do("POST", "/ws/token", nil)
	expect(t, r, 404, "connection token without a secret")
	if got := tokenStatus(t, n, "anything"); got != 401 {
		t.Fatalf("?token= upgrade without tokens: %d, want 401", got)
	}
}
