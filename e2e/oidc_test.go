package e2e

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

// freeAddr returns a loopback address no one listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// googleNode starts a mock OpenID provider and a node that signs in with it.
func googleNode(t *testing.T) (*Node, *mockoidc.MockOIDC) {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatalf("mock OIDC provider: %v", err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	addr := freeAddr(t)
	cfg := m.Config()
	env := migratedEnv(t, withGenerous(map[string]string{
		"HTTP_ADDR": addr, "PUBLIC_URL": "http://" + addr,
		"OIDC_ISSUER": cfg.Issuer, "OIDC_CLIENT_ID": cfg.ClientID, "OIDC_CLIENT_SECRET": cfg.ClientSecret,
	}))
	n := StartNode(t, bin, env)
	n.WaitReady(t)
	return n, m
}

// googleSignIn runs the browser's side of the flow: start, the provider's authorize
// page, and the callback, carrying the flow cookie as a browser would.
func googleSignIn(t *testing.T, n *Node, m *mockoidc.MockOIDC, user *mockoidc.MockUser) *client {
	t.Helper()
	c, landed := googleSignInReturning(t, n, m, user, "/inbox")
	if landed != "/inbox" {
		t.Fatalf("callback sent the browser to %q, want /inbox", landed)
	}
	return c
}

// googleSignInReturning runs the flow with return_to (query-escaped here) and returns
// the signed-in client and where the callback sent the browser.
func googleSignInReturning(t *testing.T, n *Node, m *mockoidc.MockOIDC, user *mockoidc.MockUser, returnTo string) (*client, string) {
	t.Helper()
	c := &client{t: t, base: n.URL}
	start := expect(t, c.do("GET", "/auth/google/start?return_to="+url.QueryEscape(returnTo), nil), 302, "start")
	flowCookie := cookieValue(start.header, "__Host-gs_oidc")
	authURL, err := url.Parse(start.header.Get("Location"))
	if err != nil || authURL.Query().Get("code_challenge_method") != "S256" || authURL.Query().Get("nonce") == "" {
		t.Fatalf("authorize URL lacks PKCE or nonce: %s", start.header.Get("Location"))
	}
	m.QueueUser(user)
	resp, err := noRedirect.Get(authURL.String())
	if err != nil {
		t.Fatalf("provider authorize: %v", err)
	}
	resp.Body.Close()
	callback, _ := url.Parse(resp.Header.Get("Location"))
	cb := c.do("GET", callback.RequestURI(), nil, "Cookie", "__Host-gs_oidc="+flowCookie)
	if cb.status != 302 || c.cookie == "" {
		t.Fatalf("callback: %d to %q (session cookie %v): %s", cb.status, cb.header.Get("Location"), c.cookie != "", cb.body)
	}
	return c, cb.header.Get("Location")
}

// TestGoogleSignInNeverRedirectsOffSite: return_to values that browsers would read as
// another host (a tab or newline they drop, a backslash they read as a slash) land on
// "/" after sign-in; a plain path is kept.
func TestGoogleSignInNeverRedirectsOffSite(t *testing.T) {
	n, m := googleNode(t)
	email := uniqueEmail(t, "redirect")
	user := &mockoidc.MockUser{Subject: "redirect-sub-" + email, Email: email, EmailVerified: true}
	for _, tc := range []struct{ returnTo, want string }{
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\\evil.example", "/"},
		{"//evil.example", "/"},
		{"https://evil.example/", "/"},
		{"/orders?tab=files", "/orders?tab=files"},
	} {
		if _, landed := googleSignInReturning(t, n, m, user, tc.returnTo); landed != tc.want {
			t.Errorf("return_to %q landed on %q, want %q", tc.returnTo, landed, tc.want)
		}
	}
}

func cookieValue(h http.Header, name string) string {
	for _, line := range h.Values("Set-Cookie") {
		if strings.HasPrefix(line, name+"=") {
			v, _, _ := strings.Cut(strings.TrimPrefix(line, name+"="), ";")
			return v
		}
	}
	return ""
}

func TestGoogleSignInCreatesThenReusesTheAccount(t *testing.T) {
	n, m := googleNode(t)
	email := uniqueEmail(t, "google")
	user := &mockoidc.MockUser{Subject: "google-sub-" + email, Email: email, EmailVerified: true}

	first := googleSignIn(t, n, m, user)
	var me struct {
		ID, Email       string
		EmailVerifiedAt *string `json:"email_verified_at"`
	}
	expect(t, first.do("GET", "/me", nil), 200, "me after google").json(t, &me)
	if me.Email != email || me.EmailVerifiedAt == nil {
		t.Fatalf("google account = %+v", me)
	}
	again := googleSignIn(t, n, m, user)
	var me2 struct{ ID string }
	expect(t, again.do("GET", "/me", nil), 200, "me after second google sign-in").json(t, &me2)
	if me2.ID != me.ID {
		t.Fatalf("second sign-in made another account: %s vs %s", me2.ID, me.ID)
	}
	var export struct {
		Identities []struct{ Provider, Subject string }
	}
	expect(t, again.do("GET", "/me/export", nil), 200, "export").json(t, &export)
	if len(export.Identities) != 1 || export.Identities[0].Provider != "google" {
		t.Fatalf("identities = %+v", export.Identities)
	}
}

func TestGoogleCallbackRefusesForgedOrReplayedState(t *testing.T) {
	n, _ := googleNode(t)
	c := &client{t: t, base: n.URL}
	start := expect(t, c.do("GET", "/auth/google/start", nil), 302, "start")
	flowCookie := cookieValue(start.header, "__Host-gs_oidc")
	state := flowCookie
	expect(t, c.do("GET", "/auth/google/callback?code=x&state="+state, nil), 400, "callback without the browser's cookie")
	expect(t, c.do("GET", "/auth/google/callback?code=x&state=forged", nil, "Cookie", "__Host-gs_oidc=forged"), 400, "unknown state")
	expect(t, c.do("GET", "/auth/google/callback?code=not-a-code&state="+state, nil, "Cookie", "__Host-gs_oidc="+flowCookie), 401, "bad code")
	expect(t, c.do("GET", "/auth/google/callback?code=x&state="+state, nil, "Cookie", "__Host-gs_oidc="+flowCookie), 400, "state used twice")
	if c.cookie != "" {
		t.Fatal("a refused callback set a session cookie")
	}
}

func TestGoogleUnverifiedEmailCannotTakeOverAnAccount(t *testing.T) {
	n, m := googleNode(t)
	email := uniqueEmail(t, "victim")
	(&client{t: t, base: n.URL}).register(email, "victim_"+n.URL[len(n.URL)-5:], "victim's own password")
	c := &client{t: t, base: n.URL}
	start := expect(t, c.do("GET", "/auth/google/start", nil), 302, "start")
	m.QueueUser(&mockoidc.MockUser{Subject: "attacker", Email: email, EmailVerified: false})
	resp, err := noRedirect.Get(start.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cb, _ := url.Parse(resp.Header.Get("Location"))
	expect(t, c.do("GET", cb.RequestURI(), nil, "Cookie", "__Host-gs_oidc="+cookieValue(start.header, "__Host-gs_oidc")), 401, "unverified e-mail")
}

// TestGooglePreRegistrationCannotTakeOverTheVictim: an attacker registers the victim's
// address with a password and never verifies it; when the victim signs in with Google,
// the victim gets an account of their own and nothing the attacker set up reaches it:
// not the password, not the sessions, not the mailed verification link.
func TestGooglePreRegistrationCannotTakeOverTheVictim(t *testing.T) {
	n, m := googleNode(t)
	email, password := uniqueEmail(t, "squatted"), "attacker chose this one"
	attacker := &client{t: t, base: n.URL}
	squatterID := attacker.register(email, "squat_"+n.URL[len(n.URL)-5:], password)
	attacker.login(email, password)
	app := &client{t: t, base: n.URL}
	var tok struct{ Token string }
	expect(t, app.do("POST", "/auth/tokens", map[string]string{"email": email, "password": password}), 201, "attacker's app token").json(t, &tok)
	app.bearer = tok.Token
	verifyLink := linkToken(t, mailTo(t, email, "Confirm your GigStream"))

	victim := googleSignIn(t, n, m, &mockoidc.MockUser{Subject: "victim-sub-" + email, Email: email, EmailVerified: true})
	var me struct {
		ID, Email       string
		EmailVerifiedAt *string `json:"email_verified_at"`
	}
	expect(t, victim.do("GET", "/me", nil), 200, "victim's me").json(t, &me)
	if me.ID == squatterID || me.Email != email || me.EmailVerifiedAt == nil {
		t.Fatalf("victim signed into %+v; the squatter's account is %s", me, squatterID)
	}

	// The attacker's password no longer opens anything under the address.
	expect(t, (&client{t: t, base: n.URL}).do("POST", "/auth/login", map[string]string{"email": email, "password": password}), 401, "attacker's password")
	// The attacker's sessions reach only the squatter's account, which lost the address.
	for _, c := range []*client{attacker, app} {
		var them struct{ ID, Email string }
		expect(t, c.do("GET", "/me", nil), 200, "attacker's session").json(t, &them)
		if them.ID != squatterID || them.Email == email {
			t.Fatalf("attacker's session sees %+v", them)
		}
	}
	// The link mailed for the squatter's account is void: clicking it verifies nothing.
	expect(t, (&client{t: t, base: n.URL}).do("POST", "/auth/verify-email", map[string]string{"token": verifyLink}), 410, "squatter's verification link")
	// The victim signs in again into the same account.
	again := googleSignIn(t, n, m, &mockoidc.MockUser{Subject: "victim-sub-" + email, Email: email, EmailVerified: true})
	var me2 struct{ ID string }
	expect(t, again.do("GET", "/me", nil), 200, "victim again").json(t, &me2)
	if me2.ID != me.ID {
		t.Fatalf("second sign-in reached %s, not %s", me2.ID, me.ID)
	}
}

// TestGoogleLinksAVerifiedAccount: an owner who registered and verified the address
// keeps one account when they later sign in with Google.
func TestGoogleLinksAVerifiedAccount(t *testing.T) {
	n, m := googleNode(t)
	email, password := uniqueEmail(t, "owner"), "owner's own passphrase"
	owner := &client{t: t, base: n.URL}
	id := owner.register(email, "owner_"+n.URL[len(n.URL)-5:], password)
	token := linkToken(t, mailTo(t, email, "Confirm your GigStream"))
	expect(t, owner.do("POST", "/auth/verify-email", map[string]string{"token": token}), 204, "verify")

	g := googleSignIn(t, n, m, &mockoidc.MockUser{Subject: "owner-sub-" + email, Email: email, EmailVerified: true})
	var me struct{ ID string }
	expect(t, g.do("GET", "/me", nil), 200, "me").json(t, &me)
	if me.ID != id {
		t.Fatalf("google sign-in reached %s, want the verified account %s", me.ID, id)
	}
	owner.login(email, password) // the owner's password still works
}
