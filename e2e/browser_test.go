package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestBrowserChatAcrossNodes drives the hub's chat page (web/static) in two real
// Chromium browsers: the buyer's on node A, the seller's on node B. They chat both ways,
// see each other typing and "seen", get HTML back as text, and carry on with nothing lost
// after node B restarts under the seller's open page.
func TestBrowserChatAcrossNodes(t *testing.T) {
	chromium := chromiumPath(t)
	env := migratedEnv(t, realtimeEnv(nil))
	nodeA, nodeB := StartNode(t, bin, env), StartNode(t, bin, env)
	nodeA.WaitReady(t)
	nodeB.WaitReady(t)

	const password = "long enough password"
	buyer := chatUser(t, nodeA, "buyer", "Bea Buyer", password)
	seller := chatUser(t, nodeA, "seller", "Sam Seller", password)
	api := &client{t: t, base: nodeA.URL}
	api.login(buyer.email, password)
	var conv struct{ ID string }
	r := api.do("POST", "/conversations", map[string]string{"participant_id": seller.id})
	if r.status != 201 && r.status != 200 {
		t.Fatalf("open conversation: status %d: %s", r.status, r.body)
	}
	r.json(t, &conv)

	bp := openPage(t, chromium, "buyer")
	sp := openPage(t, chromium, "seller")
	bp.peer, sp.peer = sp, bp
	bp.login(pageURL(nodeA), buyer.email, password)
	sp.login(pageURL(nodeB), seller.email, password)
	convSel := fmt.Sprintf(`.conversation[data-id="%s"]`, conv.ID)

	// The buyer writes first while the seller only has the list open: an unread badge.
	bp.open(convSel)
	var want []string // every message of the conversation, in order
	send := func(p *page, text string) {
		t.Helper()
		p.send(text)
		want = append(want, text)
	}
	send(bp, "Hello! Is the logo gig still available?")
	sp.waitJS("an unread badge of 1 and a total of 1", fmt.Sprintf(
		`(() => { const b = document.querySelector('%s .unread-badge');
		  return !!b && !b.hidden && b.textContent === '1' && document.querySelector('#total-unread').textContent === '1'; })()`,
		convSel), 15*time.Second)

	// Opening the conversation reads it: the badge goes, and the buyer sees "seen".
	sp.open(convSel)
	sp.waitThread(want)
	sp.waitJS("the unread badge to clear", fmt.Sprintf(
		`document.querySelector('%s .unread-badge').hidden && document.querySelector('#total-unread').textContent === '0'`,
		convSel), 15*time.Second)
	bp.waitSeenOnLastOwn()

	// Both ways, several in a row: each arrives once, in order, on both pages.
	send(sp, "Yes it is. What do you need?")
	bp.waitThread(want)
	send(bp, "A logo for a bakery.")
	send(bp, "Warm colours, please.")
	send(sp, "Sure, I can do that.")
	bp.waitThread(want)
	sp.waitThread(want)
	sp.waitSeenOnLastOwn() // the buyer's page is open and focused: it read the seller's message

	// Typing: the buyer types, the seller sees it, and it ends at once with the message.
	bp.typeOnly("Great, ")
	sp.waitJS("the buyer's typing indicator", `(() => { const e = document.querySelector('#typing');
		return !e.hidden && e.textContent.includes('Bea Buyer') && e.textContent.includes('typing'); })()`, 10*time.Second)
	bp.typeOnly("thanks!")
	bp.click("#send")
	want = append(want, "Great, thanks!")
	sp.waitThread(want)
	sp.waitJS("the typing indicator to end with the message", `document.querySelector('#typing').hidden`, 2*time.Second)

	// The seller types and stops: the buyer's indicator expires on its own (~6 s).
	sp.typeOnly("Let me think")
	bp.waitJS("the seller's typing indicator", `(() => { const e = document.querySelector('#typing');
		return !e.hidden && e.textContent.includes('Sam Seller'); })()`, 10*time.Second)
	shown := time.Now()
	bp.waitJS("the typing indicator to expire", `document.querySelector('#typing').hidden`, 12*time.Second)
	if d := time.Since(shown); d < 3*time.Second {
		t.Errorf("the typing indicator disappeared after %v, want about 6 s", d)
	}
	sp.click("#send")
	want = append(want, "Let me think")
	bp.waitThread(want)

	// HTML is text: shown exactly as typed, and no element is made from it.
	html := `<b>hi</b><script>x()</script>`
	send(bp, html)
	sp.waitThread(want)
	bp.waitThread(want)
	for _, p := range []*page{bp, sp} {
		if n := evalJS[int](p, `document.querySelectorAll('#messages .message-text *').length`); n != 0 {
			p.fail("chat text became %d HTML elements", n)
		}
	}
	var latest struct {
		Messages []struct{ Text string }
	}
	expect(t, api.do("GET", "/conversations/"+conv.ID+"/messages?limit=1", nil), 200, "history").json(t, &latest)
	if len(latest.Messages) != 1 || latest.Messages[0].Text != html {
		t.Fatalf("stored text %+v, want %q", latest.Messages, html)
	}

	// Node B goes away under the seller's open page (SIGTERM: sockets get 1001).
	bAddr := strings.TrimPrefix(nodeB.URL, "http://")
	if err := nodeB.Stop(t); err != nil {
		t.Logf("node B exit: %v", err)
	}
	sp.waitJS("the page to notice the outage", `document.querySelector('#status').dataset.state !== 'open'`, 10*time.Second)
	// Meanwhile the buyer writes, and the seller sends too: that REST call fails until B is
	// back and is retried with the same client_id.
	send(bp, "Are you there?")
	send(bp, "I sent you the brief by mail.")
	sp.typeOnly("Sorry, my connection dropped.")
	sp.click("#send")
	time.Sleep(time.Second)
	send(bp, "Talk soon.")

	// B comes back on the same address, so the page reconnects by itself and recovers by seq.
	nodeB2 := StartNode(t, bin, append(slices.Clone(env), "HTTP_ADDR="+bAddr))
	nodeB2.WaitReady(t)
	sp.waitJS("the socket to reconnect", `document.querySelector('#status').dataset.state === 'open'`, 30*time.Second)
	// It resumed the conversation from its last seq (the page logs frames with ?debug),
	// and the server could replay from there.
	sp.waitConsole(`"channel":"conversation:`+conv.ID+`","since":`, 10*time.Second)
	sp.waitConsole(`"recovered":true`, 10*time.Second)
	sp.waitJS("the seller's retried message to be stored", `document.querySelectorAll('#messages .message.pending').length === 0`, 30*time.Second)
	sellerMsg := "Sorry, my connection dropped."
	got := sp.thread()
	pos := slices.Index(got, sellerMsg)
	if pos < 0 {
		sp.fail("the message sent during the outage is missing: %q", got)
	}
	// Where the retried message lands depends on when B came back: take the order the
	// server gave it, then both pages must show exactly that list.
	want = append(want, sellerMsg)
	want = serverOrder(t, api, conv.ID, len(want))
	sp.waitThread(want)
	bp.waitThread(want)

	// Live chat carries on over the restarted node.
	send(bp, "Welcome back!")
	sp.waitThread(want)
	send(sp, "Thanks, all good now.")
	bp.waitThread(want)
	bp.waitSeenOnLastOwn()
	sp.waitSeenOnLastOwn()
}

// chatUser registers an account with a display name and returns its id and e-mail.
type chatAccount struct{ id, email string }

func chatUser(t *testing.T, n *Node, who, name, password string) chatAccount {
	t.Helper()
	c := &client{t: t, base: n.URL}
	email := uniqueEmail(t, who)
	r := expect(t, c.do("POST", "/auth/register", map[string]any{
		"email": email, "username": fmt.Sprintf("%s_%d", who, time.Now().UnixNano()%1e9),
		"display_name": name, "password": password, "is_buyer": true, "is_seller": true,
	}), 201, "register "+who)
	var u struct{ ID string }
	r.json(t, &u)
	return chatAccount{id: u.ID, email: email}
}

// serverOrder reads the conversation's last n messages over REST, oldest first.
func serverOrder(t *testing.T, api *client, convID string, n int) []string {
	t.Helper()
	var hist struct {
		Messages []struct{ Text string }
	}
	expect(t, api.do("GET", fmt.Sprintf("/conversations/%s/messages?limit=%d", convID, n+5), nil), 200, "history").json(t, &hist)
	var out []string
	for i := len(hist.Messages) - 1; i >= 0; i-- {
		out = append(out, hist.Messages[i].Text)
	}
	if len(out) != n {
		t.Fatalf("the server stores %d messages, want %d: %q", len(out), n, out)
	}
	return out
}

// pageURL is the chat page of node n on localhost, not 127.0.0.1: Chromium keeps Secure
// cookies (the __Host- session cookie) over plain HTTP only on localhost. ?debug makes the
// page log every socket frame, which failures print and the restart check reads.
func pageURL(n *Node) string {
	u, err := url.Parse(n.URL)
	if err != nil {
		panic(err)
	}
	return "http://localhost:" + u.Port() + "/app/?debug"
}

// chromiumPath finds the browser; its absence is a failure, not a skip: `make test`
// runs scripts/devstack up, which installs the Debian package.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed: run scripts/devstack up (it installs the Debian package chromium)")
	return ""
}

// page is one browser (its own process and profile, so cookies never mix) with one tab.
type page struct {
	t    *testing.T
	name string
	ctx  context.Context
	peer *page // also dumped when this page fails

	mu      sync.Mutex
	console []string
}

func openPage(t *testing.T, chromium, name string) *page {
	t.Helper()
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.WindowSize(1100, 800))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	p := &page{t: t, name: name, ctx: ctx}
	// The first action starts the browser; it must run on the context without a timeout.
	// Focus emulation makes the headless tab count as focused, as a user's active window:
	// the page marks live messages read only then.
	focus := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return chromedp.Void{}, err
	}
	if err := chromedp.Do(ctx, focus); err != nil {
		t.Fatalf("%s: start chromium: %v", name, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m.String())
			p.mu.Unlock()
		}
	}()
	return p
}

// do runs steps with a timeout, failing the test with the page's state on error.
func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fail("%s: %v", what, err)
	}
}

func evalJS[T any](p *page, expr string) T {
	p.t.Helper()
	v, err := tryEval[T](p, expr)
	if err != nil {
		p.fail("evaluate %s: %v", expr, err)
	}
	return v
}

func tryEval[T any](p *page, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// waitJS polls a JavaScript condition until it is true.
func (p *page) waitJS(what, cond string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		ok, err := tryEval[bool](p, cond)
		if err == nil && ok {
			return
		}
		lastErr = err
		if time.Now().After(deadline) {
			p.fail("waited %v for %s (last error: %v)", timeout, what, lastErr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *page) login(pageURL, email, password string) {
	p.t.Helper()
	p.do("sign in",
		chromedp.Navigate(pageURL),
		chromedp.WaitVisible(chromedp.CSS("#login-email")),
		chromedp.SendKeys(chromedp.CSS("#login-email"), email),
		chromedp.SendKeys(chromedp.CSS("#login-password"), password),
		chromedp.Click(chromedp.CSS("#login-submit")),
		chromedp.WaitVisible(chromedp.CSS("#chat-view")),
	)
	p.waitJS("the socket to open", `document.querySelector('#status').dataset.state === 'open'`, 15*time.Second)
}

func (p *page) open(sel string) {
	p.t.Helper()
	p.waitJS("the conversation in the list", fmt.Sprintf(`!!document.querySelector('%s')`, sel), 15*time.Second)
	p.do("open the conversation", chromedp.Click(chromedp.CSS(sel)), chromedp.WaitVisible(chromedp.CSS("#composer")))
}

func (p *page) click(sel string) {
	p.t.Helper()
	p.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// typeOnly types into the message box without sending (key by key, as a user would).
func (p *page) typeOnly(text string) {
	p.t.Helper()
	p.do("type", chromedp.SendKeys(chromedp.CSS("#message-input"), text))
}

func (p *page) send(text string) {
	p.t.Helper()
	p.typeOnly(text)
	p.click("#send")
}

// thread is the text of every stored message shown, top to bottom.
func (p *page) thread() []string {
	p.t.Helper()
	return evalJS[[]string](p, `[...document.querySelectorAll('#messages .message[data-seq]')].map(e => e.querySelector('.message-text').textContent)`)
}

// waitThread waits until the page shows exactly want (each once, in order), no pending
// sends, and seqs that only go up.
func (p *page) waitThread(want []string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := p.thread()
		ordered := evalJS[bool](p, `(() => { const s = [...document.querySelectorAll('#messages .message[data-seq]')].map(e => +e.dataset.seq);
			return s.every((v, i) => i === 0 || v > s[i-1]); })()`)
		if slices.Equal(got, want) && ordered {
			return
		}
		if time.Now().After(deadline) {
			p.fail("thread (in seq order: %v):\n  got  %q\n  want %q", ordered, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitConsole waits until the page has logged a console message containing substr.
func (p *page) waitConsole(substr string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		p.mu.Lock()
		found := slices.ContainsFunc(p.console, func(m string) bool { return strings.Contains(m, substr) })
		p.mu.Unlock()
		if found {
			return
		}
		if time.Now().After(deadline) {
			p.fail("waited %v for a console message with %s", timeout, substr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitSeenOnLastOwn waits for "seen" under this user's last message.
func (p *page) waitSeenOnLastOwn() {
	p.t.Helper()
	p.waitJS(`"seen" under the last own message`, `(() => { const own = document.querySelectorAll('#messages .message.own[data-seq]');
		return own.length > 0 && !!own[own.length - 1].querySelector('.seen'); })()`, 15*time.Second)
}

// fail stops the test with what both pages show: their text, status, console and a
// screenshot kept outside the test's temporary folder, so it survives the test.
func (p *page) fail(format string, args ...any) {
	p.t.Helper()
	msg := fmt.Sprintf(format, args...)
	report := p.dump()
	if p.peer != nil {
		report += "\n" + p.peer.dump()
	}
	p.t.Fatalf("%s: %s\n%s", p.name, msg, report)
}

func (p *page) dump() string {
	var b strings.Builder
	fmt.Fprintf(&b, "---- %s page ----\n", p.name)
	if loc, err := tryEval[string](p, `location.href + '  status=' + (document.querySelector('#status') || {}).textContent`); err == nil {
		fmt.Fprintf(&b, "at %s\n", loc)
	}
	if text, err := tryEval[string](p, `document.body.innerText`); err == nil {
		fmt.Fprintf(&b, "text:\n%s\n", text)
	} else {
		fmt.Fprintf(&b, "text: %v\n", err)
	}
	p.mu.Lock()
	fmt.Fprintf(&b, "console:\n  %s\n", strings.Join(p.console, "\n  "))
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		dir, _ := os.MkdirTemp("", "gigstream-browser-")
		path := filepath.Join(dir, p.name+".png")
		if os.WriteFile(path, png, 0o644) == nil {
			fmt.Fprintf(&b, "screenshot: %s\n", path)
		}
	}
	return b.String()
}
