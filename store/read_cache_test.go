package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/readcache"
	"github.com/gigstream/hub/store"
)

// readCacheFixture is a migrated database with two users (b sells), a read cache in
// the real Redis of REDIS_URL under a prefix of its own, and the database's notices
// of stale pages invalidating it, as every node does.
type readCacheFixture struct {
	db      *store.DB
	url     string
	raw     *sql.DB
	cache   *readcache.Redis
	reg     *prometheus.Registry
	gigs    *market.Gigs // through the cache
	direct  *market.Gigs // without it
	seller  string
	profile *market.Profiles
}

func newReadCacheFixture(t testing.TB) readCacheFixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	db, url := migratedDBAt(t)
	_, err := db.Seed(ctx, store.SeedData{Categories: []store.SeedCategory{{Slug: "design", Name: "Design"}}})
	must(t, err)
	raw, err := sql.Open("postgres", url)
	must(t, err)
	t.Cleanup(func() { _ = raw.Close() })
	if os.Getenv("REDIS_URL") == "" {
		t.Fatal("REDIS_URL is not set (eval \"$(scripts/devstack env)\")")
	}
	opts, err := redis.ParseURL(os.Getenv("REDIS_URL"))
	must(t, err)
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	reg := prometheus.NewRegistry()
	cache, err := readcache.NewRedis(readcache.Config{Client: rdb, Prefix: "test-" + uuid.NewString(), Registerer: reg})
	must(t, err)
	go func() {
		_ = store.ListenReadCache(ctx, url, slog.New(slog.DiscardHandler), store.ReadCacheInvalidator(cache.Invalidate))
	}()
	_, seller := twoUsers(t, db)
	gigs := market.NewGigs(db, market.GigsDeps{Cache: cache}, nil)
	f := readCacheFixture{db: db, url: url, raw: raw, cache: cache, reg: reg, gigs: gigs, direct: market.NewGigs(db, market.GigsDeps{}, nil),
		seller: seller, profile: market.NewProfiles(db, gigs, nil, cache, nil)}
	f.waitListening(t)
	return f
}

// waitListening returns once the listener invalidates what the database announces.
func (f readCacheFixture) waitListening(t testing.TB) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		_, err := f.raw.Exec(`UPDATE categories SET name = name || '' WHERE slug = 'design'`)
		must(t, err)
		if gen, _ := f.cache.Generation(context.Background(), "categories"); gen != "0" {
			return
		}
	}
	t.Fatal("the listener never invalidated the category list")
}

func (f readCacheFixture) published(t testing.TB, title string) market.Gig {
	t.Helper()
	g := newGig(t, f.db, f.seller, title, "design", basicAt(1500))
	g, err := f.db.SetGigStatus(context.Background(), g.ID, f.seller, market.GigPublished)
	must(t, err)
	return g
}

// hits is what the cache's metric counted as hits of kind.
func (f readCacheFixture) hits(t *testing.T, kind string) float64 {
	t.Helper()
	families, err := f.reg.Gather()
	must(t, err)
	for _, fam := range families {
		for _, m := range fam.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if fam.GetName() == "gigstream_read_cache_requests_total" && labels["kind"] == kind && labels["result"] == "hit" {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestReadCacheNeverServesAGigOlderThanItsLastEdit has sellers edit their gigs while
// readers read them by id and by slug through the cache, concurrently: once an edit
// returned (committed and invalidated), no reader may get an earlier edition.
func TestReadCacheNeverServesAGigOlderThanItsLastEdit(t *testing.T) {
	ctx := context.Background()
	f := newReadCacheFixture(t)
	const gigCount, editions = 3, 25
	list := make([]market.Gig, gigCount)
	floors := make([]atomic.Int64, gigCount)
	for i := range list {
		list[i] = f.published(t, fmt.Sprintf("Edition 0000 of gig %d", i))
	}
	// Readers whose database read takes a while: the stale store this test looks for
	// needs a read that began before an edit's commit and stores after its invalidation.
	gigs := market.NewGigs(slowGigReads{f.db}, market.GigsDeps{Cache: f.cache}, nil)
	var readers sync.WaitGroup
	done := make(chan struct{})
	failures := make(chan string, 16)
	writers := startEditions(ctx, f.gigs, f.seller, list, editions, "Edition %04d of gig %d", 0, floors, failures)
	for r := range 6 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for n := r; ; n++ {
				select {
				case <-done:
					return
				default:
				}
				i := n % gigCount
				idOrSlug := list[i].ID
				if n%2 == 1 {
					idOrSlug = list[i].Slug
				}
				floor := floors[i].Load()
				got, err := gigs.Show(ctx, idOrSlug, "")
				if err != nil {
					failures <- err.Error()
					return
				}
				var edition int64
				if _, err := fmt.Sscanf(got.Title, "Edition %d", &edition); err != nil || edition < floor {
					failures <- fmt.Sprintf("read %q by %s after edition %d was invalidated", got.Title, idOrSlug, floor)
					return
				}
			}
		}()
	}
	awaitEditions(t, writers, done, &readers, failures)
	if f.hits(t, "gig") == 0 {
		t.Fatal("no read was a cache hit: the cache was never used")
	}
}

// startEditions has seller retitle each gig of list editions times through gigs,
// concurrently, with title (a format of the edition and the gig's position), pausing
// between edits; floors[i] holds the last edition of list[i] whose edit returned. An
// error goes to failures and ends that gig's edits.
func startEditions(ctx context.Context, gigs *market.Gigs, seller string, list []market.Gig, editions int, title string,
	pause time.Duration, floors []atomic.Int64, failures chan<- string) *sync.WaitGroup {
	var writers sync.WaitGroup
	for i, g := range list {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for v := 1; v <= editions; v++ {
				t := fmt.Sprintf(title, v, i)
				if _, err := gigs.Update(ctx, g.ID, seller, market.GigChange{Title: &t}); err != nil {
					failures <- err.Error()
					return
				}
				floors[i].Store(int64(v))
				time.Sleep(pause)
			}
		}()
	}
	return &writers
}

// awaitEditions waits for the writers, then tells the readers they are done and waits
// for them, and fails on the first failure either reported.
func awaitEditions(t *testing.T, writers *sync.WaitGroup, done chan struct{}, readers *sync.WaitGroup, failures chan string) {
	t.Helper()
	writers.Wait()
	close(done)
	readers.Wait()
	close(failures)
	for msg := range failures {
		t.Fatal(msg)
	}
}

// slowGigReads is the store whose Gig reads return a few milliseconds after reading.
type slowGigReads struct{ *store.DB }

func (s slowGigReads) Gig(ctx context.Context, idOrSlug string) (market.Gig, error) {
	g, err := s.DB.Gig(ctx, idOrSlug)
	time.Sleep(time.Duration(rand.IntN(8)) * time.Millisecond)
	return g, err
}

// TestReadCacheHearsOfEveryWriteFromTheDatabase caches a gig page and a profile, then
// changes what they show with plain SQL (as a job, an admin command or another node
// would), and expects the pages to change within a second through the database's
// notices alone, long before their TTL.
func TestReadCacheHearsOfEveryWriteFromTheDatabase(t *testing.T) {
	ctx := context.Background()
	f := newReadCacheFixture(t)
	g := f.published(t, "A cached logo design gig")
	buyer := newBuyer(t, f.db)
	show := func() (market.Gig, error) { return f.gigs.Show(ctx, g.Slug, "") }
	for _, c := range []struct {
		what, sql string
		args      []any
		changed   func(market.Gig, error) bool
	}{
		{"seller renamed", `UPDATE users SET display_name = 'Renamed' WHERE id = $1`, []any{f.seller},
			func(g market.Gig, err error) bool { return err == nil && g.Seller.DisplayName == "Renamed" }},
		{"category renamed", `UPDATE categories SET name = 'Graphic design' WHERE slug = 'design'`, nil,
			func(g market.Gig, err error) bool { return err == nil && g.Category.Name == "Graphic design" }},
		{"package repriced", `UPDATE gig_packages SET price_minor = 2500 WHERE gig_id = $1`, []any{g.ID},
			func(g market.Gig, err error) bool { return err == nil && g.Packages[0].PriceMinor == 2500 }},
		{"favorited", `INSERT INTO favorites (user_id, gig_id) VALUES ($1, $2)`, []any{buyer, g.ID},
			func(g market.Gig, err error) bool { return err == nil && *g.FavoriteCount == 1 }},
		{"rated", `UPDATE gigs SET rating_count = 2, rating_total = 9 WHERE id = $1`, []any{g.ID},
			func(g market.Gig, err error) bool { return err == nil && g.Rating.Count == 2 }},
		{"seller disabled", `UPDATE users SET disabled_at = now() WHERE id = $1`, []any{f.seller},
			func(_ market.Gig, err error) bool { return market.ErrorCode(err) == market.CodeNotFound }},
	} {
		// Cached first (notices of the setup may still come in and invalidate).
		waitFor(t, c.what+": cached", func() bool {
			before := f.hits(t, "gig")
			_, err := show()
			return err == nil && f.hits(t, "gig") == before+1
		})
		if _, err := f.raw.ExecContext(ctx, c.sql, c.args...); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		waitFor(t, c.what, func() bool { return c.changed(show()) })
	}
}

// TestReadCacheInvalidatesProfiles caches a seller's profile and expects it to follow
// a bio edit and a new gig through the database's notices.
func TestReadCacheInvalidatesProfiles(t *testing.T) {
	ctx := context.Background()
	f := newReadCacheFixture(t)
	f.published(t, "The first gig on a profile")
	read := func() (market.PublicProfile, error) { return f.profile.Public(ctx, "user_b") }
	waitFor(t, "cached", func() bool {
		before := f.hits(t, "profile")
		p, err := read()
		return err == nil && len(p.Gigs) == 1 && f.hits(t, "profile") == before+1
	})
	if _, err := f.raw.ExecContext(ctx, `UPDATE users SET bio = 'New bio' WHERE id = $1`, f.seller); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bio", func() bool { p, err := read(); return err == nil && p.Bio == "New bio" })
	f.published(t, "The second gig on a profile")
	waitFor(t, "second gig", func() bool { p, err := read(); return err == nil && len(p.Gigs) == 2 })
}

// TestCachedPagesShowTheSameJSON compares a gig page and a profile read from the cache
// with the same pages read without it, byte for byte.
func TestCachedPagesShowTheSameJSON(t *testing.T) {
	ctx := context.Background()
	f := newReadCacheFixture(t)
	g := f.published(t, "A gig whose JSON is compared")
	_, err := f.raw.ExecContext(ctx, `UPDATE gigs SET rating_count = 7, rating_total = 31 WHERE id = $1`, g.ID)
	must(t, err)
	want, err := f.direct.Show(ctx, g.ID, "")
	must(t, err)
	plain := market.NewProfiles(f.db, f.direct, nil, nil, nil)
	wantProfile, err := plain.Public(ctx, "user_b")
	must(t, err)
	// Until a read is a hit (notices of the setup may still invalidate), each read
	// must show what the uncached read shows.
	waitFor(t, "gig hit", func() bool {
		before := f.hits(t, "gig")
		got, err := f.gigs.Show(ctx, g.ID, "")
		must(t, err)
		if a, b := mustJSON(t, want), mustJSON(t, got); a != b {
			t.Fatalf("cached gig\n%s\nuncached\n%s", b, a)
		}
		return f.hits(t, "gig") == before+1
	})
	waitFor(t, "profile hit", func() bool {
		before := f.hits(t, "profile")
		got, err := f.profile.Public(ctx, "user_b")
		must(t, err)
		if a, b := mustJSON(t, wantProfile), mustJSON(t, got); a != b {
			t.Fatalf("cached profile\n%s\nuncached\n%s", b, a)
		}
		return f.hits(t, "profile") == before+1
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return string(b)
}

// waitFor fails t unless ok becomes true within a second.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("%s: the cached page did not change within a second", what)
}

// newBuyer adds a buyer besides twoUsers' pair.
func newBuyer(t *testing.T, db *store.DB) string {
	t.Helper()
	u, err := db.CreateUser(context.Background(), market.NewUser{Email: "c@x.test", Username: "user_c", DisplayName: "C", IsBuyer: true})
	must(t, err)
	return u.ID
}

// switchPresence is a Presence whose answer the test sets.
type switchPresence struct{ online atomic.Bool }

func (p *switchPresence) IsOnline(context.Context, string) (bool, error) { return p.online.Load(), nil }

// TestCachedProfileIsDecodedOnceAndFollowsPresence: hits of the same cached record
// share one decoded record and memo (no decoding per read), presence is still asked
// on every read (online at once, and back), and an edit gives a new record and memo
// within the notice's bound.
func TestCachedProfileIsDecodedOnceAndFollowsPresence(t *testing.T) {
	ctx := context.Background()
	f := newReadCacheFixture(t)
	f.published(t, "A gig on a memoized profile")
	presence := &switchPresence{}
	profiles := market.NewProfiles(f.db, f.gigs, presence, f.cache, nil)
	read := func() market.PublicProfile {
		t.Helper()
		p, err := profiles.Public(ctx, "user_b")
		must(t, err)
		return p
	}
	var first market.PublicProfile
	waitFor(t, "cached", func() bool {
		before := f.hits(t, "profile")
		first = read()
		return f.hits(t, "profile") == before+1
	})
	second := read()
	if first.Memo == nil || second.Memo != first.Memo || &second.Gigs[0] != &first.Gigs[0] {
		t.Fatalf("two hits of one record: memos %p and %p, gigs %p and %p; want one decoded record",
			first.Memo, second.Memo, &first.Gigs[0], &second.Gigs[0])
	}
	if first.Presence.Online || first.PresenceVariant() != 0 {
		t.Fatalf("offline presence %+v", first.Presence)
	}
	presence.online.Store(true)
	if p := read(); !p.Presence.Online || p.Presence.LastSeenAt != nil || p.PresenceVariant() != 1 || p.Memo != first.Memo {
		t.Fatalf("online: presence %+v variant %d, memo %p (want the record's %p)", p.Presence, p.PresenceVariant(), p.Memo, first.Memo)
	}
	presence.online.Store(false)
	if p := read(); p.Presence.Online {
		t.Fatalf("offline again: presence %+v", p.Presence)
	}
	first.Memo.SetEncoded(0, "answer of the old record")
	if _, err := f.raw.ExecContext(ctx, `UPDATE users SET bio = 'Edited bio' WHERE id = $1`, f.seller); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "edited bio", func() bool { p := read(); return p.Bio == "Edited bio" })
	edited := read()
	if edited.Memo == first.Memo || edited.Memo.Encoded(0) != nil {
		t.Fatalf("the edited record kept the old memo (%p, %v)", edited.Memo, edited.Memo.Encoded(0))
	}
	if first.Bio == "Edited bio" {
		t.Fatal("the edit changed a record a reader held")
	}
}

// TestCachedProfileAsksPresenceBesideTheCacheRead: once a node has read a profile, a
// later read asks the user's presence while it loads the cached record, not after
// (the two Redis waits overlap), once per read, and shows the record's user's answer.
// The cache's Load waits for the presence lookup (for at most 5 s): read one after
// the other, as before, the lookup is asked only after Load returned.
func TestCachedProfileAsksPresenceBesideTheCacheRead(t *testing.T) {
	ctx := context.Background()
	f := newReadCacheFixture(t)
	f.published(t, "A gig on a profile read with its presence")
	presence := &askedPresence{online: f.seller, asked: make(chan string, 4096)}
	cache := &presenceFirstCache{Redis: f.cache, asked: presence.asked}
	profiles := market.NewProfiles(f.db, f.gigs, presence, cache, nil)
	waitFor(t, "cached", func() bool {
		before := f.hits(t, "profile")
		_, err := profiles.Public(ctx, "user_b")
		must(t, err)
		return f.hits(t, "profile") == before+1
	})
	drain(presence.asked)
	cache.wait.Store(true)
	for range 3 {
		p, err := profiles.Public(ctx, "user_b")
		must(t, err)
		if !p.Presence.Online {
			t.Fatalf("the seller is online, the profile shows %+v", p.Presence)
		}
		if asked := drain(presence.asked); len(asked) != 1 || asked[0] != f.seller {
			t.Fatalf("presence asked of %v for one read, want once of the seller %s", asked, f.seller)
		}
	}
	if n := cache.sequential.Load(); n != 0 {
		t.Fatalf("%d cache loads of 3 found no presence lookup under way: asked after the load, not beside it", n)
	}
}

// askedPresence tells who was asked of on asked; only online is online.
type askedPresence struct {
	online string
	asked  chan string
}

func (p *askedPresence) IsOnline(_ context.Context, userID string) (bool, error) {
	p.asked <- userID
	return userID == p.online, nil
}

// presenceFirstCache is a read cache whose Load, once wait is set, first waits up to
// 5 s for a presence lookup to be asked (and puts it back for the test to count);
// sequential counts the loads that waited in vain.
type presenceFirstCache struct {
	*readcache.Redis
	asked      chan string
	wait       atomic.Bool
	sequential atomic.Int32
}

func (c *presenceFirstCache) Load(ctx context.Context, key string) ([]byte, string, error) {
	if c.wait.Load() {
		select {
		case id := <-c.asked:
			c.asked <- id
		case <-time.After(5 * time.Second):
			c.sequential.Add(1)
		}
	}
	return c.Redis.Load(ctx, key)
}

// drain takes what ch holds now.
func drain(ch chan string) []string {
	var out []string
	for {
		select {
		case s := <-ch:
			out = append(out, s)
		default:
			return out
		}
	}
}
