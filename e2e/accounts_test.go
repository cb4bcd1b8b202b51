package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// generous keeps rate limits out of the way of tests that are not about them.
var generous = map[string]string{"RATE_LIMIT_AUTH_PER_MINUTE": "10000", "RATE_LIMIT_IP_PER_MINUTE": "100000",
	"RATE_LIMIT_ORDERS_PER_MINUTE": "100000", "RATE_LIMIT_UPLOADS_PER_MINUTE": "100000", "RATE_LIMIT_CONVERSATIONS_PER_MINUTE": "100000",
	"RATE_LIMIT_SEARCH_PER_MINUTE": "100000", "RATE_LIMIT_EXPORTS_PER_HOUR": "100000", "RATE_LIMIT_WEBHOOKS_PER_MINUTE": "100000",
	"WS_MAX_SOCKETS_PER_USER": "100000", "WS_MAX_SOCKETS_PER_IP": "100000"}

func withGenerous(extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range generous {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func TestAccountLifecycle(t *testing.T) {
	n := startCluster(t, 1, withGenerous(nil))[0]
	email, password := uniqueEmail(t, "life"), "correct horse battery"
	user := "life_" + strings.ToLower(n.URL[len(n.URL)-5:])
	browser := &client{t: t, base: n.URL}
	id := browser.register(email, user, password)

	// Verify the address with the mailed link.
	token := linkToken(t, mailTo(t, email, "Confirm your GigStream"))
	expect(t, browser.do("POST", "/auth/verify-email", map[string]string{"token": token}), 204, "verify")
	expect(t, browser.do("POST", "/auth/verify-email", map[string]string{"token": token}), 410, "verify twice")

	browser.login(email, password)
	var me struct {
		ID              string
		EmailVerifiedAt *time.Time `json:"email_verified_at"`
	}
	expect(t, browser.do("GET", "/me", nil), 200, "me").json(t, &me)
	if me.ID != id || me.EmailVerifiedAt == nil {
		t.Fatalf("me = %+v, want verified user %s", me, id)
	}

	// Rich text is sanitized.
	var prof struct{ Bio string }
	expect(t, browser.do("PATCH", "/me", map[string]string{"bio": `<b>Hi</b><script>alert(1)</script><a href="javascript:x()">x</a>`}), 200, "patch").json(t, &prof)
	if strings.Contains(prof.Bio, "script") || strings.Contains(prof.Bio, "javascript:") || !strings.Contains(prof.Bio, "<b>Hi</b>") {
		t.Fatalf("bio not sanitized: %q", prof.Bio)
	}

	// Password reset: mailed link, new password, every old session ends.
	app := &client{t: t, base: n.URL}
	r := expect(t, app.do("POST", "/auth/tokens", map[string]string{"email": email, "password": password}), 201, "bearer login")
	var tok struct{ Token string }
	r.json(t, &tok)
	app.bearer = tok.Token
	expect(t, app.do("GET", "/me", nil), 200, "bearer me")

	expect(t, (&client{t: t, base: n.URL}).do("POST", "/auth/password-reset", map[string]string{"email": email}), 202, "reset request")
	expect(t, (&client{t: t, base: n.URL}).do("POST", "/auth/password-reset", map[string]string{"email": "nobody-" + email}), 202, "reset for unknown")
	reset := linkToken(t, mailTo(t, email, "Reset your GigStream password"))
	weak := expect(t, app.do("POST", "/auth/password-reset/confirm", map[string]string{"token": reset, "new_password": user + "-123456"}), 422, "weak new password")
	if !slices.Contains(weak.problemFields(t), "new_password") {
		t.Fatalf("weak password problem does not name new_password: %s", weak.body)
	}
	newPassword := "a much better passphrase"
	expect(t, (&client{t: t, base: n.URL}).do("POST", "/auth/password-reset/confirm", map[string]string{"token": reset, "new_password": newPassword}), 204, "reset")
	expect(t, browser.do("GET", "/me", nil), 401, "old cookie session after reset")
	expect(t, app.do("GET", "/me", nil), 401, "old bearer session after reset")
	expect(t, (&client{t: t, base: n.URL}).do("POST", "/auth/login", map[string]string{"email": email, "password": password}), 401, "old password")
	browser.login(email, newPassword)

	// Export holds the user's data.
	var export struct {
		User     struct{ ID, Email string }
		Sessions []struct{ ID string }
	}
	r = expect(t, browser.do("GET", "/me/export", nil), 200, "export")
	r.json(t, &export)
	if export.User.ID != id || export.User.Email != email || len(export.Sessions) != 1 {
		t.Fatalf("export = %s", r.body)
	}
	if strings.Contains(string(r.body), "password") || strings.Contains(string(r.body), "csrf") {
		t.Fatalf("export leaks secrets: %s", r.body)
	}

	// Deletion anonymizes and signs out.
	expect(t, browser.do("DELETE", "/me", map[string]string{"password": "wrong password!"}), 403, "delete with wrong password")
	expect(t, browser.do("DELETE", "/me", map[string]string{"password": newPassword}), 204, "delete")
	expect(t, browser.do("GET", "/me", nil), 401, "me after delete")
	expect(t, (&client{t: t, base: n.URL}).do("POST", "/auth/login", map[string]string{"email": email, "password": newPassword}), 401, "login after delete")
	expect(t, (&client{t: t, base: n.URL}).do("POST", "/auth/register", map[string]any{"email": email, "username": user, "display_name": "Again", "password": "another fine passphrase"}), 201, "address and username free again")

	// Nothing secret reached the logs.
	logs := n.Logs()
	for _, secret := range []string{password, newPassword, token, reset, tok.Token, browser.cookie, browser.csrf} {
		if secret != "" && strings.Contains(logs, secret) {
			t.Fatalf("the node's log contains a secret (%.6s…)", secret)
		}
	}
}

func TestSessionsRotateAndExpire(t *testing.T) {
	n := startCluster(t, 1, withGenerous(map[string]string{"SESSION_IDLE_TIMEOUT": "2s"}))[0]
	email, password := uniqueEmail(t, "exp"), "long enough password"
	a := &client{t: t, base: n.URL}
	a.register(email, "exp_"+strings.ToLower(n.URL[len(n.URL)-5:]), password)
	a.login(email, password)
	first := a.cookie
	a.login(email, password)
	if a.cookie == first {
		t.Fatal("a second login kept the same session token")
	}
	var list struct{ Sessions []struct{ Current bool } }
	expect(t, a.do("GET", "/me/sessions", nil), 200, "sessions").json(t, &list)
	if len(list.Sessions) != 2 {
		t.Fatalf("sessions = %+v, want 2", list.Sessions)
	}
	time.Sleep(2500 * time.Millisecond)
	expect(t, a.do("GET", "/me", nil), 401, "after idle timeout")
}

func TestCSRFProtectsCookieWrites(t *testing.T) {
	n := startCluster(t, 1, withGenerous(map[string]string{"ALLOWED_ORIGINS": "https://app.gigstream.test"}))[0]
	email, password := uniqueEmail(t, "csrf"), "long enough password"
	a := &client{t: t, base: n.URL}
	a.register(email, "csrf_"+strings.ToLower(n.URL[len(n.URL)-5:]), password)
	a.login(email, password)

	noToken := &client{t: t, base: n.URL, cookie: a.cookie}
	expect(t, noToken.do("PATCH", "/me", map[string]string{"display_name": "Hacked"}), 403, "cookie write without CSRF token")
	wrong := &client{t: t, base: n.URL, cookie: a.cookie, csrf: "not-the-token"}
	expect(t, wrong.do("PATCH", "/me", map[string]string{"display_name": "Hacked"}), 403, "cookie write with a wrong CSRF token")
	expect(t, a.do("PATCH", "/me", map[string]string{"display_name": "Evil"}, "Origin", "https://evil.example"), 403, "foreign Origin")
	expect(t, a.do("PATCH", "/me", map[string]string{"display_name": "Fine"}, "Origin", "https://app.gigstream.test"), 200, "allowed Origin")
	expect(t, (&client{t: t, base: n.URL}).do("POST", "/auth/login", map[string]string{"email": email, "password": password}, "Origin", "https://evil.example"), 403, "cross-site login")

	r := expect(t, (&client{t: t, base: n.URL}).do("POST", "/auth/tokens", map[string]string{"email": email, "password": password}), 201, "token")
	var tok struct{ Token string }
	r.json(t, &tok)
	expect(t, (&client{t: t, base: n.URL, bearer: tok.Token}).do("PATCH", "/me", map[string]string{"display_name": "App"}), 200, "bearer write needs no CSRF token")

	pre := expect(t, (&client{t: t, base: n.URL}).do("OPTIONS", "/me", nil, "Origin", "https://app.gigstream.test", "Access-Control-Request-Method", "PATCH"), 204, "CORS preflight")
	if pre.header.Get("Access-Control-Allow-Origin") != "https://app.gigstream.test" || pre.header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("preflight headers %v", pre.header)
	}
	foreign := (&client{t: t, base: n.URL}).do("OPTIONS", "/me", nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "PATCH")
	if foreign.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("CORS answered a foreign origin: %v", foreign.header)
	}
}

func TestUserBCannotReachUserAsObjects(t *testing.T) {
	n := startCluster(t, 1, withGenerous(nil))[0]
	suffix := strings.ToLower(n.URL[len(n.URL)-5:])
	a, b := &client{t: t, base: n.URL}, &client{t: t, base: n.URL}
	ea, eb := uniqueEmail(t, "idora"), uniqueEmail(t, "idorb")
	a.register(ea, "idora_"+suffix, "long enough password")
	b.register(eb, "idorb_"+suffix, "long enough password")
	a.login(ea, "long enough password")
	b.login(eb, "long enough password")
	var list struct{ Sessions []struct{ ID string } }
	expect(t, a.do("GET", "/me/sessions", nil), 200, "a's sessions").json(t, &list)
	aSession := list.Sessions[0].ID

	for _, row := range []struct{ method, path string }{
		{"DELETE", "/me/sessions/" + aSession},
		{"DELETE", "/me/sessions/not-a-uuid"},
		{"DELETE", "/me/sessions/00000000-0000-0000-0000-000000000000"},
	} {
		expect(t, b.do(row.method, row.path, nil), 404, "B: "+row.method+" "+row.path)
	}
	expect(t, a.do("GET", "/me", nil), 200, "A's session survives B's attempts")
	expect(t, (&client{t: t, base: n.URL}).do("GET", "/me/export", nil), 401, "anonymous export")
}

func TestBadInputIsAClearProblem(t *testing.T) {
	n := startCluster(t, 1, withGenerous(nil))[0]
	c := &client{t: t, base: n.URL}
	email := uniqueEmail(t, "bad")
	reg := func(extra map[string]any) map[string]any {
		m := map[string]any{"email": email, "username": "bad_" + strings.ToLower(n.URL[len(n.URL)-5:]), "display_name": "Bad", "password": "long enough password"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"admin by mass assignment", reg(map[string]any{"is_admin": true}), 400, "is_admin"},
		{"id by mass assignment", reg(map[string]any{"id": "00000000-0000-0000-0000-000000000001"}), 400, "id"},
		{"wrong type", reg(map[string]any{"is_seller": "yes"}), 400, "is_seller"},
		{"missing field", map[string]any{"email": email}, 422, "username"},
		{"bad email", reg(map[string]any{"email": "not-an-address"}), 422, "email"},
		{"short password", reg(map[string]any{"password": "short"}), 422, "password"},
		{"password with username", reg(map[string]any{"password": "bad_" + strings.ToLower(n.URL[len(n.URL)-5:]) + "123456"}), 422, "password"},
		{"malformed JSON", `{"email": `, 400, ""},
		{"two objects", `{} {}`, 400, ""},
	}
	for _, tc := range cases {
		r := expect(t, c.do("POST", "/auth/register", tc.body), tc.status, tc.name)
		if r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: content type %q", tc.name, r.header.Get("Content-Type"))
		}
		if tc.field != "" && !slices.Contains(r.problemFields(t), tc.field) {
			t.Errorf("%s: problem does not name %q: %s", tc.name, tc.field, r.body)
		}
	}
	expect(t, c.do("POST", "/auth/register", "email=x", "Content-Type", "application/x-www-form-urlencoded"), 415, "form body")
	expect(t, c.do("POST", "/auth/register", reg(nil)), 201, "valid registration after all the bad ones")
	dup := expect(t, c.do("POST", "/auth/register", reg(map[string]any{"username": "other_" + strings.ToLower(n.URL[len(n.URL)-5:])})), 409, "duplicate email")
	if !slices.Contains(dup.problemFields(t), "email") {
		t.Errorf("duplicate problem does not name email: %s", dup.body)
	}
}

func TestSecurityHeaders(t *testing.T) {
	n := startCluster(t, 1, withGenerous(map[string]string{"TRUSTED_PROXIES": "127.0.0.1"}))[0]
	c := &client{t: t, base: n.URL}
	r := c.do("GET", "/healthz", nil)
	for h, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "strict-origin-when-cross-origin",
	} {
		if !strings.Contains(r.header.Get(h), want) {
			t.Errorf("%s = %q, want %q", h, r.header.Get(h), want)
		}
	}
	if r.header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent over plain HTTP")
	}
	r = c.do("GET", "/healthz", nil, "X-Forwarded-Proto", "https")
	if r.header.Get("Strict-Transport-Security") != "max-age=31536000; includeSubDomains" {
		t.Errorf("HSTS behind a trusted TLS proxy = %q", r.header.Get("Strict-Transport-Security"))
	}
}
