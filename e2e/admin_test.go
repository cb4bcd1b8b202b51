package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestAdminCLIGrantsRoleAndDisablesAccounts(t *testing.T) {
	env := migratedEnv(t, withGenerous(map[string]string{"WS_TOKEN_SECRET": wsTokenSecret}))
	n := StartNode(t, bin, env)
	n.WaitReady(t)
	email, password := uniqueEmail(t, "admin"), "long enough password"
	c := &client{t: t, base: n.URL}
	id := c.register(email, "admin_"+n.URL[len(n.URL)-5:], password)
	c.login(email, password)
	r := expect(t, c.do("POST", "/auth/tokens", map[string]string{"email": email, "password": password}), 201, "app token")
	var tok struct{ Token string }
	r.json(t, &tok)
	sock := mustDial(t, n, tok.Token)
	sock.subscribe("user:"+id, nil)
	connTok := connToken(t, n, tok.Token)
	tokenSock, _, err := dial(t, n, "?token="+connTok, nil)
	if err != nil {
		t.Fatalf("token socket: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if code, out := Run(ctx, bin, env, "admin", "grant", strings.ToUpper(email)); code != 0 {
		t.Fatalf("admin grant: exit %d\n%s", code, out)
	}
	var me struct {
		IsAdmin bool `json:"is_admin"`
	}
	expect(t, c.do("GET", "/me", nil), 200, "me").json(t, &me)
	if !me.IsAdmin {
		t.Fatal("admin grant did not make the user an admin")
	}
	if code, out := Run(ctx, bin, env, "admin", "disable", email); code != 0 {
		t.Fatalf("admin disable: exit %d\n%s", code, out)
	}
	expect(t, c.do("GET", "/me", nil), 401, "session of a disabled account")
	if code := sock.closeCode(5 * time.Second); code != 4001 {
		t.Fatalf("socket of the disabled user closed with %d, want 4001", code)
	}
	if code := tokenSock.closeCode(5 * time.Second); code != 4001 {
		t.Fatalf("token socket of the disabled user closed with %d, want 4001", code)
	}
	eventuallyStatus(t, n, connTok, 401, "a disabled user's connection token")
	expect(t, c.do("POST", "/auth/login", map[string]string{"email": email, "password": password}), 401, "login to a disabled account")
	if code, _ := Run(ctx, bin, env, "admin", "grant", "nobody@example.com"); code == 0 {
		t.Fatal("admin grant of an unknown address succeeded")
	}
}

func TestEmailChangeNeedsTheNewAddressToConfirm(t *testing.T) {
	n := startCluster(t, 1, withGenerous(nil))[0]
	old, password := uniqueEmail(t, "old"), "long enough password"
	c := &client{t: t, base: n.URL}
	c.register(old, "mover_"+n.URL[len(n.URL)-5:], password)
	c.login(old, password)
	fresh := uniqueEmail(t, "new")
	expect(t, c.do("POST", "/me/email", map[string]string{"new_email": fresh, "current_password": "wrong password"}), 403, "wrong password")
	expect(t, c.do("POST", "/me/email", map[string]string{"new_email": fresh, "current_password": password}), 202, "change request")
	var me struct{ Email string }
	expect(t, c.do("GET", "/me", nil), 200, "me").json(t, &me)
	if me.Email != old {
		t.Fatalf("address changed before confirmation: %s", me.Email)
	}
	token := linkToken(t, mailTo(t, fresh, "Confirm your GigStream"))
	expect(t, (&client{t: t, base: n.URL}).do("POST", "/auth/email-change/confirm", map[string]string{"token": token}), 204, "confirm")
	expect(t, c.do("GET", "/me", nil), 200, "me").json(t, &me)
	if me.Email != fresh {
		t.Fatalf("address after confirmation: %s", me.Email)
	}
	if notice := mailTo(t, old, "was changed"); !strings.Contains(notice, fresh) {
		t.Fatalf("notice to the old address does not name the new one:\n%s", notice)
	}
	(&client{t: t, base: n.URL}).login(fresh, password)
}

func TestSecurityEventsAreLogged(t *testing.T) {
	n := startCluster(t, 1, withGenerous(map[string]string{"TRUSTED_PROXIES": "127.0.0.1"}))[0]
	c := &client{t: t, base: n.URL}
	c.do("POST", "/auth/login", map[string]string{"email": "who@example.com", "password": "secret-guess-123"}, "X-Forwarded-For", "203.0.113.77")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(n.Logs(), "\n") {
			if strings.Contains(line, `"event":"login_failed"`) {
				for _, want := range []string{`"ip":"203.0.113.77"`, `"route":"/auth/login"`, `"at":"`} {
					if !strings.Contains(line, want) {
						t.Fatalf("security event lacks %s: %s", want, line)
					}
				}
				if strings.Contains(line, "secret-guess-123") || strings.Contains(line, "who@example.com") {
					t.Fatalf("security event holds the attempt's secrets: %s", line)
				}
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no login_failed security event in:\n%s", n.Logs())
}

func TestForceHTTPSRedirectsPlainRequests(t *testing.T) {
	n := startCluster(t, 1, withGenerous(map[string]string{"FORCE_HTTPS": "true", "TRUSTED_PROXIES": "127.0.0.1"}))[0]
	c := &client{t: t, base: n.URL}
	r := expect(t, c.do("GET", "/me?x=1", nil, "X-Forwarded-Host", "evil.example"), 308, "plain HTTP")
	if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "https://127.0.0.1:") || !strings.HasSuffix(loc, "/me?x=1") {
		t.Fatalf("redirect to %q", loc)
	}
	expect(t, c.do("GET", "/me", nil, "X-Forwarded-Proto", "https"), 401, "HTTPS through a trusted proxy")
	expect(t, c.do("GET", "/healthz", nil), 200, "health probe over plain HTTP")
}
