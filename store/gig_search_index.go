package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store/gigindex"
)

// GigSearchConfig tunes a GigSearch; zero values are the defaults.
type GigSearchConfig struct {
	// MaxLag is how old the index may be when a search starts. Zero (the default) is
	// strict: every search first reads the changes committed before it began, one
	// indexed query shared by the searches waiting at that moment, unless nothing
	// changed since the last read (see Stale and Listening).
	MaxLag time.Duration
	// Refresh is how often Run reads changes when no search asks (default 1s).
	Refresh time.Duration
	// Rebuild is the share of dead entries past which Run rebuilds the index from the
	// database (default 0.25).
	Rebuild float64
	// CacheSize is how many results of searches are kept (default 2000; negative:
	// none); see resultCache.
	CacheSize int
}

// GigSearch is the catalogue's search engine (market.GigSearch): this node's
// gigindex.Index of the listed gigs, kept up to date from gigs.search_xid (migration
// 00015), with the gigs themselves read from PostgreSQL by id. Queries with a quoted
// phrase, and plain listings without a query, facets or the engine's filters, go to
// SQL (PublishedGigs), whose indexes serve them.
type GigSearch struct {
	db      *DB
	cfg     GigSearchConfig
	log     *slog.Logger
	index   atomic.Pointer[gigindex.Index]
	cats    atomic.Pointer[categoryTree]
	version atomic.Uint64 // bumped whenever the index takes a change in, or one is heard of
	cache   *resultCache
	// heard counts the changes heard of (Stale: the database's notices and this
	// node's own writes), and listening says whether notices are being heard now: a
	// search needs no read while it holds and heard has not moved since the last
	// read began (readHeard).
	heard     atomic.Uint64
	listening atomic.Bool

	mu        sync.Mutex
	mark      string    // the xmin of the last read's snapshot: rows written since are read next
	lastRead  time.Time // when the last finished read began
	readHeard uint64    // heard when the last finished read began
	next      *pendingRead
	reading   bool
}

// pendingRead is a read of changes that searches wait for; it begins after they asked.
type pendingRead struct {
	done chan struct{}
	err  error
}

// NewGigSearch returns an empty engine over db; Load fills it.
func NewGigSearch(db *DB, cfg GigSearchConfig, log *slog.Logger) *GigSearch {
	if cfg.Refresh <= 0 {
		cfg.Refresh = time.Second
	}
	if cfg.Rebuild <= 0 {
		cfg.Rebuild = 0.25
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 2000
	}
	if log == nil {
		log = slog.Default()
	}
	s := &GigSearch{db: db, cfg: cfg, log: log, cache: newResultCache(cfg.CacheSize)}
	s.index.Store(gigindex.New())
	s.cats.Store(&categoryTree{})
	return s
}

// Load builds the index from every listed gig (seconds at 100,000 gigs) and the
// category tree. Serve calls it before listening.
func (s *GigSearch) Load(ctx context.Context) error {
	start, heard := time.Now(), s.heard.Load()
	idx := gigindex.New()
	mark, _, err := s.readChanges(ctx, idx, "0", true)
	if err != nil {
		return err
	}
	if err := s.loadCategories(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	s.index.Store(idx)
	s.version.Add(1)
	s.mark, s.lastRead, s.readHeard = mark, start, heard
	s.mu.Unlock()
	s.log.Info("search index loaded", slog.Int("gigs", idx.Len()), slog.Duration("took", time.Since(start)))
	return nil
}

// Run keeps the index fresh until ctx ends: it reads changes every Refresh, reloads
// the categories, and rebuilds the index when too much of it is dead.
func (s *GigSearch) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.CatchUp(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("search index: reading changes failed", slog.Any("err", err))
		}
		if err := s.loadCategories(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("search index: reading categories failed", slog.Any("err", err))
		}
		if s.index.Load().Garbage() > s.cfg.Rebuild {
			if err := s.Load(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("search index: rebuild failed", slog.Any("err", err))
			}
		}
	}
}

// fresh makes sure the index holds what was committed before the call, or within
// lag of it (0: strictly). With heardOK, a search that comes while notices are heard
// and none came since the last read began needs no read: the database announces
// every change of a gig at its commit (migration 00048), so such a commit on another
// node is in the index once its notice has reached this node, and this node's own
// writes tell Stale before they answer.
func (s *GigSearch) fresh(ctx context.Context, lag time.Duration, heardOK bool) error {
	s.mu.Lock()
	if lag > 0 && time.Since(s.lastRead) < lag || heardOK && s.listening.Load() && s.heard.Load() == s.readHeard {
		s.mu.Unlock()
		return nil
	}
	return s.waitRead(ctx)
}

// Stale implements ReadCacheListener: keys of gigs ("gig:…") or of the categories
// that a commit made stale start a new version (the cached results may show them)
// and make the next search read the changes first. ListenReadCache calls it with the
// database's notices; this node's writes call it after their commit (through the
// read cache's invalidation), so their next search sees them without waiting for
// the notice. It never fails.
func (s *GigSearch) Stale(_ context.Context, keys ...string) error {
	for _, k := range keys {
		if strings.HasPrefix(k, "gig:") || k == "categories" {
			s.changed()
			return nil
		}
	}
	return nil
}

// Listening implements ReadCacheListener: while on, searches trust the notices
// (see fresh); turning on again counts as a change, since notices sent while the
// connection was down are lost.
func (s *GigSearch) Listening(on bool) {
	if on {
		s.changed()
	}
	s.listening.Store(on)
}

// changed starts a new version of the cached results and makes the next search read.
func (s *GigSearch) changed() {
	s.heard.Add(1)
	s.version.Add(1)
}

// CatchUp reads the changes committed before the call into the index.
func (s *GigSearch) CatchUp(ctx context.Context) error {
	s.mu.Lock()
	return s.waitRead(ctx)
}

// waitRead (called with mu held, which it releases) joins the next read, starting the
// reader when none runs: a read already under way may have begun before the caller's
// change committed, so callers only ever wait for a read that begins after them.
func (s *GigSearch) waitRead(ctx context.Context) error {
	if s.next == nil {
		s.next = &pendingRead{done: make(chan struct{})}
	}
	p := s.next
	if !s.reading {
		s.reading = true
		go s.reader()
	}
	s.mu.Unlock()
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reader runs the pending reads one after the other until none waits.
func (s *GigSearch) reader() {
	for {
		s.mu.Lock()
		p, mark := s.next, s.mark
		s.next = nil
		if p == nil {
			s.reading = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		start, idx, heard := time.Now(), s.index.Load(), s.heard.Load()
		next, changed, err := s.readChanges(ctx, idx, mark, false)
		cancel()
		if changed > 0 {
			s.version.Add(1)
		}
		s.mu.Lock()
		if err == nil && s.index.Load() == idx {
			s.mark, s.lastRead, s.readHeard = next, start, heard
		}
		s.mu.Unlock()
		p.err = err
		close(p.done)
	}
}

// indexRow is a gig as the index reads it.
type indexRow struct {
	ID           string         `db:"id"`
	Title        string         `db:"title"`
	Tags         market.GigTags `db:"tags"`
	Description  string         `db:"description"`
	CategoryID   string         `db:"category_id"`
	Currency     string         `db:"currency"`
	PriceMinor   int64          `db:"price_minor"`
	DeliveryDays int            `db:"delivery_days"`
	RatingMean   int            `db:"rating_mean"`
	RatingScore  int64          `db:"rating_score"`
	SellerID     string         `db:"seller_id"`
	PublishedAt  time.Time      `db:"published_at"`
	Listed       bool           `db:"listed"`
}

// readChanges puts into idx every gig written by a transaction from mark on (all
// listed gigs when listedOnly) and removes those no longer listed, in one read-only
// snapshot, and returns the snapshot's xmin (the mark of the next read) and how many
// rows it applied.
func (s *GigSearch) readChanges(ctx context.Context, idx *gigindex.Index, mark string, listedOnly bool) (string, int, error) {
	tx, err := s.db.x.BeginTxx(ctx, &sqlTxRepeatableRead)
	if err != nil {
		return "", 0, fmt.Errorf("search index: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var next string
	if err := tx.GetContext(ctx, &next, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text`); err != nil {
		return "", 0, fmt.Errorf("search index snapshot: %w", err)
	}
	where := `g.search_xid >= $1::xid8`
	if listedOnly {
		where += ` AND g.status = 'published' AND u.deleted_at IS NULL AND u.disabled_at IS NULL`
	}
	rows, err := tx.QueryxContext(ctx, `
		SELECT g.id, g.title, to_json(g.tags) AS tags, g.description, g.category_id,
			coalesce(g.price_currency, '') AS currency, coalesce(g.price_minor, 0) AS price_minor,
			coalesce(g.delivery_days, 0) AS delivery_days, coalesce(g.rating_mean, -1) AS rating_mean,
			g.rating_score, g.seller_id, coalesce(g.published_at, g.created_at) AS published_at,
			(g.status = 'published' AND u.deleted_at IS NULL AND u.disabled_at IS NULL) AS listed
		FROM gigs g JOIN users u ON u.id = g.seller_id
		WHERE `+where, mark)
	if err != nil {
		return "", 0, fmt.Errorf("search index rows: %w", err)
	}
	defer func() { _ = rows.Close() }()
	changed := 0
	for rows.Next() {
		changed++
		var r indexRow
		if err := rows.StructScan(&r); err != nil {
			return "", 0, fmt.Errorf("search index row: %w", err)
		}
		applyRow(idx, r)
	}
	if err := rows.Err(); err != nil {
		return "", 0, fmt.Errorf("search index rows: %w", err)
	}
	if _, err := strconv.ParseUint(next, 10, 64); err != nil {
		return "", 0, fmt.Errorf("search index snapshot %q: %w", next, err)
	}
	return next, changed, tx.Commit()
}

func applyRow(idx *gigindex.Index, r indexRow) {
	if !r.Listed {
		idx.Remove(r.ID)
		return
	}
	idx.Put(gigindex.Doc{
		ID: r.ID, Title: r.Title, Tags: r.Tags, Description: r.Description, CategoryID: r.CategoryID,
		Currency: r.Currency, PriceMinor: r.PriceMinor, DeliveryDays: r.DeliveryDays, RatingMean: r.RatingMean,
		RatingScore: r.RatingScore, SellerID: r.SellerID, PublishedAt: r.PublishedAt,
	})
}

// categoryTree is the categories by id, for filters, facets and suggestions.
type categoryTree struct {
	list   []market.Category
	byID   map[string]market.Category
	bySlug map[string]market.Category
}

func (s *GigSearch) loadCategories(ctx context.Context) error {
	list, err := s.db.AllCategories(ctx) // archived too: their gigs keep their category
	if err != nil {
		return err
	}
	t := &categoryTree{list: list, byID: map[string]market.Category{}, bySlug: map[string]market.Category{}}
	for _, c := range list {
		t.byID[c.ID], t.bySlug[c.Slug] = c, c
	}
	if old := s.cats.Swap(t); !reflect.DeepEqual(old.list, list) {
		s.version.Add(1) // cached facets name the categories
	}
	return nil
}

// archived reports whether c or its parent is archived.
func (t *categoryTree) archived(c market.Category) bool {
	return c.ArchivedAt != nil || (c.ParentID != nil && t.byID[*c.ParentID].ArchivedAt != nil)
}

// subtree is the ids of a category and its children; nil when there is no such slug.
func (t *categoryTree) subtree(slug string) []string {
	c, ok := t.bySlug[slug]
	if !ok {
		return nil
	}
	ids := []string{c.ID}
	for _, k := range t.byID {
		if k.ParentID != nil && *k.ParentID == c.ID {
			ids = append(ids, k.ID)
		}
	}
	return ids
}

var _ market.GigSearch = (*GigSearch)(nil)

// sqlTxRepeatableRead is a read-only transaction with one snapshot for all statements.
var sqlTxRepeatableRead = sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
