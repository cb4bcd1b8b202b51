package handlers

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/go-redis/redis_rate/v10"
	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/gigstream/hub/market"
)

// commandCounter counts the commands a Redis client sends, each one a round trip
// (nothing here pipelines).
type commandCounter struct{ n atomic.Int64 }

func (h *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// limiterRedis is database 14 of the devstack's Redis, emptied, counting its commands.
func limiterRedis(t *testing.T) (*redis.Client, *commandCounter) {
	t.Helper()
	u, err := url.Parse(os.Getenv("REDIS_URL"))
	if err != nil || u.Host == "" {
		t.Fatal("REDIS_URL is not set: run tests with `make test` or after `eval \"$(scripts/devstack env)\"`")
	}
	u.Path = "/14"
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("flush redis db 14: %v", err)
	}
	count := &commandCounter{}
	rdb.AddHook(count)
	return rdb, count
}

// budgetApp is the front of New's middleware chain (front door, a stand-in for
// authenticate that takes the address from X-Test-Addr and signs in the user of a
// bearer token, searchBudget) before /gigs and /search/suggest answering 200.
func budgetApp(rdb redis.UniversalClient, perIP, perUser, search int) *fiber.App {
	return budgetAppOf(rdb, perIP, perUser, search, true)
}

// budgetAppOf is budgetApp whose front door spends the budgets together (together
// set) or one by one, as before it did.
func budgetAppOf(rdb redis.UniversalClient, perIP, perUser, search int, together bool) *fiber.App {
	log := slog.New(slog.DiscardHandler)
	app := fiber.New(fiber.Config{ErrorHandler: errorHandler(log, nil)})
	rl := &rateLimiter{lim: newLimiter(rdb), limits: RateLimits{PerIP: perIP, PerUser: perUser}.withDefaults(), log: log}
	door := newFrontDoor(rl, rdb, search, 0)
	if !together {
		door.rdb = nil
	}
	addr := func(c *fiber.Ctx) error {
		c.Locals(localClientIP, c.Get("X-Test-Addr"))
		return c.Next()
	}
	signIn := func(c *fiber.Ctx) error {
		if tok := bearerToken(c); tok != "" {
			c.Locals(localUser, market.User{ID: tok})
		}
		return c.Next()
	}
	app.Use(addr, door.perIP(perIP), signIn, door.perUser(perUser))
	ok := func(c *fiber.Ctx) error { return c.SendString("ok") }
	app.Get("/gigs", rl.searchBudget(search), ok)
	app.Get("/search/suggest", rl.searchBudget(search), ok)
	return app
}

// messageApp is the front of New's middleware chain as budgetApp builds it, with a
// message budget of messages a minute, before POST /conversations/:id/messages, which
// answers "spent" when the front door marked the message budget spent, else "left".
func messageApp(rdb redis.UniversalClient, perUser, messages int) *fiber.App {
	log := slog.New(slog.DiscardHandler)
	app := fiber.New(fiber.Config{ErrorHandler: errorHandler(log, nil)})
	rl := &rateLimiter{lim: newLimiter(rdb), limits: RateLimits{PerIP: 1 << 30, PerUser: perUser}.withDefaults(), log: log}
	door := newFrontDoor(rl, rdb, 1<<30, messages)
	signIn := func(c *fiber.Ctx) error {
		c.Locals(localClientIP, "192.0.2.50")
		if tok := bearerToken(c); tok != "" {
			c.Locals(localUser, market.User{ID: tok})
		}
		return c.Next()
	}
	app.Use(door.perIP(1<<30), signIn, door.perUser(perUser))
	app.Post("/conversations/:id/messages", func(c *fiber.Ctx) error {
		return c.SendString(map[bool]string{true: "spent", false: "left"}[market.MessageBudgetSpent(c.UserContext())])
	})
	return app
}

// messagePost posts to path as bearer and returns the status and the body.
func messagePost(t *testing.T, app *fiber.App, path, bearer string) (int, string) {
	t.Helper()
	req := httptest.NewRequest("POST", path, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, body := do(t, app, req)
	if resp.StatusCode == 429 {
		decodeProblem(t, resp, body)
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
			t.Fatalf("POST %s: 429 without a usable Retry-After (%q)", path, resp.Header.Get("Retry-After"))
		}
	}
	return resp.StatusCode, string(body)
}

// A chat message spends the sender's "all" budget and message budget in one Redis round
// trip, on the key market.Chat.Send's limiter spends (so Send is told not to spend it
// again); the message budget running out answers 429 with Retry-After, a refusal by the
// "all" budget spends none of the message budget, and other routes leave it alone.
func TestFrontDoorSpendsAMessagesBudgetsInOneRoundTrip(t *testing.T) {
	rdb, count := limiterRedis(t)
	app := messageApp(rdb, 100, 3)
	messagePost(t, app, "/conversations/c0/messages", "user-0") // loads the script
	before := count.n.Load()
	status, body := messagePost(t, app, "/conversations/c1/messages", "user-1")
	if status != 200 || body != "spent" {
		t.Fatalf("message: %d %q, want 200 spent", status, body)
	}
	// The address's budget (a request with a token spends it on its own), then the user's two.
	if got := count.n.Load() - before; got != 2 {
		t.Errorf("message: %d Redis round trips, want 2", got)
	}
	if got := remaining(t, rdb, messageBudgetKey+"user-1", 3); got != 2 {
		t.Errorf("message budget after one message: %d left, want 2", got)
	}
	if got := remaining(t, rdb, "all:user:user-1", 100); got != 99 {
		t.Errorf("all budget after one message: %d left, want 99", got)
	}
	for _, path := range []string{"/conversations/c1/messages/", "/conversations/c1/read", "/conversations/a/b/messages"} {
		if status, body := messagePost(t, app, path, "user-1"); status == 200 && body == "spent" {
			t.Errorf("POST %s: the message budget marked spent", path)
		}
	}
	messagePost(t, app, "/conversations/c1/messages", "user-1")
	messagePost(t, app, "/conversations/c1/messages", "user-1")
	if status, _ := messagePost(t, app, "/conversations/c1/messages", "user-1"); status != 429 {
		t.Fatalf("fourth message with a budget of 3: %d, want 429", status)
	}

	app = messageApp(rdb, 1, 3)
	messagePost(t, app, "/conversations/c2/messages", "user-2")
	if status, _ := messagePost(t, app, "/conversations/c2/messages", "user-2"); status != 429 {
		t.Fatalf("second message with an all budget of 1: %d, want 429", status)
	}
	if got := remaining(t, rdb, messageBudgetKey+"user-2", 3); got != 2 {
		t.Errorf("message budget after a message refused by the all budget: %d left, want 2", got)
	}
}

// While Redis cannot answer, a message passes the front door marked spent, as the
// message budget fails open in market.Chat.Send too.
func TestFrontDoorLetsMessagesThroughWhileRedisIsDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	app := messageApp(rdb, 1, 1)
	for i := range 3 {
		if status, body := messagePost(t, app, "/conversations/c3/messages", "user-3"); status != 200 || body != "spent" {
			t.Fatalf("message %d with Redis down: %d %q, want 200 spent", i, status, body)
		}
	}
}

func budgetGet(t *testing.T, app *fiber.App, path, addr, bearer string) (int, string) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("X-Test-Addr", addr)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, body := do(t, app, req)
	if resp.StatusCode == 429 {
		decodeProblem(t, resp, body)
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
			t.Fatalf("GET %s: 429 without a usable Retry-After (%q)", path, resp.Header.Get("Retry-After"))
		}
	}
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// remaining is what redis_rate (what check spends with) says is left of key's budget.
func remaining(t *testing.T, rdb *redis.Client, key string, perMin int) int {
	t.Helper()
	res, err := redis_rate.NewLimiter(rdb).AllowN(context.Background(), "gs:rl:"+key, perMinute(perMin), 0)
	if err != nil {
		t.Fatal(err)
	}
	return res.Remaining
}

// A search spends the caller's "all" budget and search budget in one Redis round trip,
// signed out (per address) and signed in (per user, after the address's "all" budget),
// on the keys redis_rate uses; browsing spends the "all" budget alone.
func TestFrontDoorSpendsASearchsBudgetsInOneRoundTrip(t *testing.T) {
	rdb, count := limiterRedis(t)
	app := budgetApp(rdb, 100, 100, 50)
	// Load both scripts (a first call may be EVALSHA answered NOSCRIPT, then EVAL).
	budgetGet(t, app, "/search/suggest?q=warm", "192.0.2.99", "")
	budgetGet(t, app, "/gigs", "192.0.2.99", "")

	for _, c := range []struct {
		path, bearer string
		trips        int64
	}{
		{"/gigs?q=logo", "", 1},
		{"/search/suggest?q=lo", "", 1},
		{"/gigs", "", 1},              // browsing: the address's budget only
		{"/gigs?q=logo", "user-1", 2}, // the address's budget, then the user's two
		{"/search/suggest?q=lo", "user-1", 2},
	} {
		before := count.n.Load()
		if status, _ := budgetGet(t, app, c.path, "192.0.2.1", c.bearer); status != 200 {
			t.Fatalf("GET %s (bearer %q): %d, want 200", c.path, c.bearer, status)
		}
		if got := count.n.Load() - before; got != c.trips {
			t.Errorf("GET %s (bearer %q): %d Redis round trips, want %d", c.path, c.bearer, got, c.trips)
		}
	}
	for key, want := range map[string]int{
		"all:ip:192.0.2.1": 100 - 5, "search:ip:192.0.2.1": 50 - 2,
		"all:user:user-1": 100 - 2, "search:user:user-1": 50 - 2,
	} {
		if got := remaining(t, rdb, key, map[bool]int{true: 50, false: 100}[key[0] == 's']); got != want {
			t.Errorf("%s: %d left, want %d", key, got, want)
		}
	}
}

// The budgets spent together refuse as they did one by one: the search budget runs out
// first (429 problem with Retry-After, browsing still passes), the address's budget
// refuses everything, and a search refused by the address's budget spends none of the
// search budget; another address has its budgets untouched.
func TestFrontDoorRefusesLikeTheBudgetsOneByOne(t *testing.T) {
	rdb, _ := limiterRedis(t)
	app := budgetApp(rdb, 6, 100, 3)
	for i := range 3 {
		if status, _ := budgetGet(t, app, "/gigs?q=logo", "192.0.2.2", ""); status != 200 {
			t.Fatalf("search %d within the budget: %d", i, status)
		}
	}
	if status, _ := budgetGet(t, app, "/search/suggest?q=lo", "192.0.2.2", ""); status != 429 {
		t.Fatalf("suggest past the search budget: %d, want 429", status)
	}
	if status, _ := budgetGet(t, app, "/gigs", "192.0.2.2", ""); status != 200 {
		t.Fatalf("browse past the search budget: %d, want 200", status)
	}
	if status, _ := budgetGet(t, app, "/gigs", "192.0.2.2", ""); status != 200 {
		t.Fatalf("browse, sixth request: %d, want 200", status)
	}
	if status, _ := budgetGet(t, app, "/gigs", "192.0.2.2", ""); status != 429 {
		t.Fatalf("browse past the address's budget: %d, want 429", status)
	}
	if status, _ := budgetGet(t, app, "/search/suggest?q=lo", "192.0.2.3", ""); status != 200 {
		t.Fatalf("another address: %d, want 200", status)
	}

	// The address's budget refuses first: the search budget is not spent.
	app = budgetApp(rdb, 2, 100, 10)
	for i := range 4 {
		status, _ := budgetGet(t, app, "/gigs?q=logo", "192.0.2.4", "")
		if want := map[bool]int{true: 200, false: 429}[i < 2]; status != want {
			t.Fatalf("search %d with an address budget of 2: %d, want %d", i, status, want)
		}
	}
	if got := remaining(t, rdb, "search:ip:192.0.2.4", 10); got != 8 {
		t.Fatalf("search budget after two searches and two refused by the address's budget: %d left, want 8", got)
	}
}

// While Redis cannot answer, the front door lets searches through (the budgets fail open).
func TestFrontDoorFailsOpenWhileRedisIsDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	app := budgetApp(rdb, 1, 1, 1)
	for i := range 3 {
		for _, bearer := range []string{"", "user-2"} {
			if status, _ := budgetGet(t, app, "/gigs?q=logo", "192.0.2.5", bearer); status != 200 {
				t.Fatalf("search %d (bearer %q) with Redis down: %d, want 200", i, bearer, status)
			}
		}
	}
}

// BenchmarkFrontDoorSearch is a signed-out search's budgets against the devstack's Redis,
// spent in one script (together) and one by one (two scripts, as before frontDoor),
// the two alternating in one run: Redis round-trip time per request, what a cache hit
// waits for before its answer.
func BenchmarkFrontDoorSearch(b *testing.B) {
	u, err := url.Parse(os.Getenv("REDIS_URL"))
	if err != nil || u.Host == "" {
		b.Fatal("REDIS_URL is not set")
	}
	u.Path = "/14"
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		b.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	for _, together := range []bool{true, false, true, false} {
		name := map[bool]string{true: "together", false: "one-by-one"}[together]
		b.Run(name, func(b *testing.B) {
			app := budgetAppOf(rdb, 1<<30, 1<<30, 1<<30, together)
			req := httptest.NewRequest("GET", "/gigs?q=logo", nil)
			req.Header.Set("X-Test-Addr", "192.0.2.200")
			b.ResetTimer()
			for range b.N {
				resp, err := app.Test(req, -1)
				if err != nil || resp.StatusCode != 200 {
					b.Fatalf("search: %v %v", err, resp)
				}
				resp.Body.Close()
			}
		})
	}
}
