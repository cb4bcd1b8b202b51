package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// registerNamed creates an account with a chosen display name and returns its id.
func registerNamed(c *client, email, username, displayName, password string) string {
	c.t.Helper()
	r := expect(c.t, c.do("POST", "/auth/register", map[string]any{
		"email": email, "username": username, "display_name": displayName, "password": password, "is_buyer": true,
	}), 201, "register "+email)
	var u struct{ ID string }
	r.json(c.t, &u)
	return u.ID
}

// POST /me/email answers the same for an address that has an account and for one that
// has none, mails neither anything the requester wrote (the owner of a taken address
// gets a fixed notice instead of a 409 to the requester), and is limited per user per
// hour together with the other sensitive account changes.
func TestAbuseEmailChangeIsNeitherOracleNorRelay(t *testing.T) {
	n := startCluster(t, 1, withGenerous(map[string]string{"RATE_LIMIT_ACCOUNT_CHANGES_PER_HOUR": "4"}))[0]
	suffix := n.URL[len(n.URL)-5:]
	victim := uniqueEmail(t, "held")
	(&client{t: t, base: n.URL}).register(victim, "held_"+suffix, "victim's own password")

	const spam = "WIN a prize at evil.example"
	attacker, password := uniqueEmail(t, "asker"), "attacker password 1"
	c := &client{t: t, base: n.URL}
	registerNamed(c, attacker, "asker_"+suffix, spam, password)
	c.login(attacker, password)

	taken := c.do("POST", "/me/email", map[string]string{"new_email": strings.ToUpper(victim), "current_password": password})
	fresh := uniqueEmail(t, "free")
	free := c.do("POST", "/me/email", map[string]string{"new_email": fresh, "current_password": password})
	expect(t, taken, 202, "change to an address that has an account")
	expect(t, free, 202, "change to a free address")
	if string(taken.body) != string(free.body) || taken.header.Get("Content-Type") != free.header.Get("Content-Type") {
		t.Fatalf("answers differ: taken %q %q, free %q %q", taken.header.Get("Content-Type"), taken.body, free.header.Get("Content-Type"), free.body)
	}

	notice := mailTo(t, victim, "Someone tried to use your GigStream email address")
	link := mailTo(t, fresh, "Confirm your GigStream")
	for what, text := range map[string]string{"the owner's notice": notice, "the confirmation mail": link} {
		if strings.Contains(text, spam) || strings.Contains(text, attacker) {
			t.Fatalf("%s carries what the requester wrote:\n%s", what, text)
		}
	}
	if !strings.Contains(notice, "nothing was changed") || strings.Contains(notice, "token=") {
		t.Fatalf("the owner's notice is not the fixed text:\n%s", notice)
	}
	expect(t, c.do("GET", "/me", nil), 200, "still signed in")

	// Two of the four changes an hour are spent; a wrong password spends one too.
	expect(t, c.do("POST", "/me/email", map[string]string{"new_email": fresh, "current_password": "not my password"}), 403, "wrong password")
	expect(t, c.do("POST", "/me/email", map[string]string{"new_email": fresh, "current_password": password}), 202, "fourth change")
	for what, r := range map[string]response{
		"e-mail change":    c.do("POST", "/me/email", map[string]string{"new_email": fresh, "current_password": password}),
		"password change":  c.do("PUT", "/me/password", map[string]string{"current_password": password, "new_password": "another password 2"}),
		"account deletion": c.do("DELETE", "/me", map[string]string{"password": password}),
	} {
		expect(t, r, 429, what+" over the hourly budget")
		if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 60 {
			t.Fatalf("%s: Retry-After %q, want minutes", what, r.header.Get("Retry-After"))
		}
	}
}

// throttleEnv lets a test speak as many client addresses (X-Forwarded-For from the
// loopback proxy) without the per-address request budgets getting in the way.
func throttleEnv(extra map[string]string) map[string]string {
	return withGenerous(merge(map[string]string{"TRUSTED_PROXIES": "127.0.0.1", "ARGON2_MEMORY_KIB": "8192"}, extra))
}

// from is a client of node base that speaks from address ip.
func from(t *testing.T, base, ip string) *client {
	return &client{t: t, base: base, headers: map[string]string{"X-Forwarded-For": ip}}
}

// signIn tries a browser sign-in and returns the answer.
func (c *client) signIn(email, password string) response {
	return c.do("POST", "/auth/login", map[string]string{"email": email, "password": password})
}

func retryAfter(t *testing.T, r response) int {
	t.Helper()
	s, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || s < 1 {
		t.Fatalf("429 without a usable Retry-After: %q", r.header.Get("Retry-After"))
	}
	return s
}

// An attacker who fails on someone's address from many addresses slows only
// themselves: the owner signs in at once from a browser or app that signed in before,
// and from a new device too until unknown clients together pass
// RATE_LIMIT_FAILED_LOGINS_PER_ACCOUNT; after that only new devices wait (429, a
// minute and more), known ones never.
func TestAbuseFailedSignInsNeverLockOutTheOwner(t *testing.T) {
	n := startCluster(t, 1, throttleEnv(map[string]string{"RATE_LIMIT_FAILED_LOGINS_PER_ACCOUNT": "60"}))[0]
	email, password := uniqueEmail(t, "owner"), "the owner's password"
	home := from(t, n.URL, "198.51.100.10")
	home.register(email, "owner_"+n.URL[len(n.URL)-5:], password)
	home.login(email, password)
	if home.device == "" {
		t.Fatal("a browser sign-in set no __Host-gs_device cookie")
	}
	expect(t, home.do("POST", "/auth/logout", nil), 204, "owner signs out; the device cookie stays")
	home.csrf = ""
	var app struct {
		DeviceKey string `json:"device_key"`
	}
	expect(t, from(t, n.URL, "198.51.100.11").do("POST", "/auth/tokens", map[string]string{"email": email, "password": password}), 201, "owner's app").json(t, &app)

	// Fifty failures from ten addresses; one address keeps going and is slowed.
	for ip := range 10 {
		attacker := from(t, n.URL, "203.0.113."+strconv.Itoa(ip+1))
		for i := range 5 {
			expect(t, attacker.signIn(email, "guess "+strconv.Itoa(ip*5+i)), 401, "guess")
		}
	}
	slowed := false
	for i := range 6 {
		if r := from(t, n.URL, "203.0.113.1").signIn(email, "more guess "+strconv.Itoa(i)); r.status == 429 {
			retryAfter(t, r)
			slowed = true
			break
		}
	}
	if !slowed {
		t.Fatal("an address that kept failing was never slowed down")
	}

	// The owner: the known browser, even from an attacker's address; the known app;
	// and a new device.
	home.headers["X-Forwarded-For"] = "203.0.113.1"
	expect(t, home.signIn(email, password), 201, "owner's known browser during the attack")
	home.cookie = "" // signed out again: a browser signing in has no live session
	knownApp := from(t, n.URL, "203.0.113.2")
	knownApp.headers["X-Device-Key"] = app.DeviceKey
	expect(t, knownApp.do("POST", "/auth/tokens", map[string]string{"email": email, "password": password}), 201, "owner's known app during the attack")
	expect(t, from(t, n.URL, "192.0.2.50").signIn(email, password), 201, "owner on a new device")

	// Past sixty failures of unknown clients, every unknown client waits.
	wait := 0
	for i := range 20 {
		if r := from(t, n.URL, "203.0.113."+strconv.Itoa(100+i)).signIn(email, "late guess"); r.status == 429 {
			wait = retryAfter(t, r)
			break
		}
	}
	if wait < 30 {
		t.Fatalf("unknown clients past the account's ceiling wait %d s, want a minute", wait)
	}
	retryAfter(t, expect(t, from(t, n.URL, "192.0.2.51").signIn(email, password), 429, "owner on another new device past the ceiling"))
	expect(t, home.signIn(email, password), 201, "owner's known browser past the ceiling")
	expect(t, knownApp.do("POST", "/auth/tokens", map[string]string{"email": email, "password": password}), 201, "owner's known app past the ceiling")
}

// One address failing five times on each of a dozen accounts locks none of them: each
// owner signs in from their own address, new device or not.
func TestAbuseOneAddressCannotKeepAccountsLocked(t *testing.T) {
	n := startCluster(t, 1, throttleEnv(nil))[0]
	const accounts = 12
	emails := make([]string, accounts)
	for i := range emails {
		emails[i] = uniqueEmail(t, "many"+strconv.Itoa(i))
		from(t, n.URL, "198.51.100.20").register(emails[i], "many"+strconv.Itoa(i)+"_"+n.URL[len(n.URL)-5:], "password of "+strconv.Itoa(i)+" ok")
	}
	attacker := from(t, n.URL, "203.0.113.66")
	for i, email := range emails {
		for j := range 5 {
			expect(t, attacker.signIn(email, "wrong "+strconv.Itoa(j)), 401, "guess on account "+strconv.Itoa(i))
		}
	}
	for i, email := range emails {
		expect(t, from(t, n.URL, "192.0.2."+strconv.Itoa(i+1)).signIn(email, "password of "+strconv.Itoa(i)+" ok"), 201, "owner "+strconv.Itoa(i))
	}
}

// A disabled seller's published gig media and avatar stop being public at once: the
// metadata and the download answer 404 to anyone but the seller, as for an
// unpublished gig.
func TestAbuseDisabledSellersGigMediaStopBeingPublic(t *testing.T) {
	env := migratedEnv(t, realtimeEnv(nil))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if code, out := Run(ctx, bin, env, "seed"); code != 0 {
		t.Fatalf("seed: exit %d\n%s", code, out)
	}
	n := StartNode(t, bin, env)
	n.WaitReady(t)
	email, password := uniqueEmail(t, "banned"), "long enough password"
	c := &client{t: t, base: n.URL}
	c.register(email, "banned_"+n.URL[len(n.URL)-5:], password)
	var tok struct{ Token string }
	expect(t, c.do("POST", "/auth/tokens", map[string]string{"email": email, "password": password}), 201, "seller's app").json(t, &tok)
	seller := &client{t: t, base: n.URL, bearer: tok.Token}
	g := createGig(t, seller, gigBody("Hand-drawn logo for your brand", "graphics-design", pkg("basic", 2500, "USD")))
	var up uploaded
	expect(t, uploadForm(t, n, tok.Token, map[string]string{"kind": "gig_image", "gig_id": g.ID}, "logo.png", pngBytes(t)), 201, "gig image").json(t, &up)
	expect(t, seller.do("POST", "/gigs/"+g.ID+"/publish", nil), 200, "publish")
	var avatar uploaded
	expect(t, uploadForm(t, n, tok.Token, map[string]string{"kind": "avatar"}, "me.png", pngBytes(t)), 201, "avatar").json(t, &avatar)
	paths := []string{"/uploads/" + up.ID, "/uploads/" + up.ID + "/download", "/uploads/" + avatar.ID, "/uploads/" + avatar.ID + "/download"}
	expect(t, as(t, n, "", "GET", paths[0]), 200, "public gig image metadata")
	expect(t, as(t, n, "", "GET", paths[1]), 302, "public gig image download")
	expect(t, as(t, n, "", "GET", paths[2]), 200, "public avatar metadata")
	expect(t, as(t, n, "", "GET", paths[3]), 302, "public avatar download")

	if code, out := Run(ctx, bin, env, "admin", "disable", email); code != 0 {
		t.Fatalf("admin disable: exit %d\n%s", code, out)
	}
	_, otherTok := appUser(t, n, "onlooker")
	for _, who := range []string{"", otherTok} {
		for _, path := range paths {
			expect(t, as(t, n, who, "GET", path), 404, "GET "+path+" of a disabled seller's gig")
		}
	}
}

// DELETE /me removes the uploads no order needs: the avatar and gig media answer 404 to
// everyone at once, and their objects leave the object store after the commit (a job
// queued by the deleting transaction, retried until the object store answers).
func TestAbuseDeletedAccountsUploadsAreRemoved(t *testing.T) {
	env := migratedEnv(t, realtimeEnv(nil))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if code, out := Run(ctx, bin, env, "seed"); code != 0 { // the categories a gig needs
		t.Fatalf("seed: exit %d\n%s", code, out)
	}
	n := StartNode(t, bin, env)
	n.WaitReady(t)
	email, password := uniqueEmail(t, "leaving"), "long enough password"
	c := &client{t: t, base: n.URL}
	id := c.register(email, "leaving_"+strconv.FormatInt(time.Now().UnixNano()%1e9, 10), password)
	var tok struct{ Token string }
	expect(t, c.do("POST", "/auth/tokens", map[string]string{"email": email, "password": password}), 201, "app token").json(t, &tok)
	me := &client{t: t, base: n.URL, bearer: tok.Token}
	g := createGig(t, me, gigBody("Watercolour portraits from photos", "graphics-design", pkg("basic", 3000, "USD")))
	var avatar, image uploaded
	expect(t, uploadForm(t, n, tok.Token, map[string]string{"kind": "avatar"}, "me.png", pngBytes(t)), 201, "avatar").json(t, &avatar)
	expect(t, uploadForm(t, n, tok.Token, map[string]string{"kind": "gig_image", "gig_id": g.ID}, "gig.png", pngBytes(t)), 201, "gig image").json(t, &image)
	expect(t, me.do("POST", "/gigs/"+g.ID+"/publish", nil), 200, "publish")
	expect(t, as(t, n, "", "GET", "/uploads/"+avatar.ID+"/download"), 302, "public avatar")
	expect(t, as(t, n, "", "GET", "/uploads/"+image.ID+"/download"), 302, "public gig image")
	// Clean images get their variants from a media-queue job (w8.webp and w8.jpg for
	// this 8-pixel-wide PNG): wait for them, so that the deletion has every kind of
	// object to remove.
	ready := time.Now().Add(time.Minute)
	for got := stored(t, id); len(got) != 6; got = stored(t, id) {
		if time.Now().After(ready) {
			t.Fatalf("stored before deletion: %v, want the avatar and the gig image with a WebP and a JPEG variant each", got)
		}
		time.Sleep(250 * time.Millisecond)
	}

	expect(t, me.do("DELETE", "/me", map[string]string{"password": password}), 204, "delete")
	_, otherTok := appUser(t, n, "onlooker")
	for _, who := range []string{"", otherTok} {
		for _, up := range []string{avatar.ID, image.ID} {
			for _, path := range []string{"/uploads/" + up, "/uploads/" + up + "/download"} {
				expect(t, as(t, n, who, "GET", path), 404, "GET "+path+" of a deleted account")
			}
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for got := stored(t, id); len(got) > 0; got = stored(t, id) {
		if time.Now().After(deadline) {
			t.Fatalf("two minutes after the deletion, still in the object store: %v", got)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
