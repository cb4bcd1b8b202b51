package market

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Profiles serves public profiles: who a user is, and for a seller what their record
// says (orders, ratings, delivery, replies, presence), their published gigs and their
// latest reviews.
type Profiles struct {
	store    ProfileStore
	gigs     *Gigs
	presence Presence // may be nil: nobody is shown online
	cached   *readThrough
	log      *slog.Logger
}

// NewProfiles returns the profile use cases; gigs lists a seller's published gigs,
// presence says who is online now and cache (nil: none) keeps profiles for every node.
func NewProfiles(s ProfileStore, gigs *Gigs, presence Presence, cache ReadCache, log *slog.Logger) *Profiles {
	if log == nil {
		log = slog.Default()
	}
	return &Profiles{store: s, gigs: gigs, presence: presence, cached: &readThrough{cache: cache, log: log}, log: log}
}

// The sizes of a profile's lists.
const (
	ProfileGigs    = 12
	ProfileReviews = 5
)

// ProfileDetails are the fields of a profile besides the account's own: where the user
// lives, what they speak and what they can do.
type ProfileDetails struct {
	Country   *string `json:"country" db:"country"`
	Languages GigTags `json:"languages" db:"languages"`
	Skills    GigTags `json:"skills" db:"skills"`
	AvatarID  *string `json:"-" db:"avatar_id"`
	Avatar    *string `json:"avatar_path" db:"-"`
	// AvatarImage is the avatar's responsive variants, once made (see Picture).
	AvatarImage *Picture `json:"avatar,omitempty" db:"avatar_picture"`
}

// ProfileUser is a user as their profile's store row has it: active users only.
type ProfileUser struct {
	ID          string    `db:"id"`
	Username    string    `db:"username"`
	DisplayName string    `db:"display_name"`
	Bio         string    `db:"bio"`
	IsSeller    bool      `db:"is_seller"`
	CreatedAt   time.Time `db:"created_at"`
	// LastActiveAt is the latest request of any of the user's sessions (to within a
	// minute, see touchEvery); nil when they have none.
	LastActiveAt *time.Time `db:"last_active_at"`
	ProfileDetails
	// SellerStats is the user's record as a seller, read in the same statement (all
	// zero or null for a user who never sold).
	SellerStats
}

// SellerStats is a seller's record computed from their orders, reviews and chats.
// A rate or mean with nothing to compute it from is null.
type SellerStats struct {
	CompletedOrders int `json:"completed_orders" db:"completed_orders"`
	RatingCount     int `json:"rating_count" db:"rating_count"`
	// RatingMean is the mean of the stars of every review across all the seller's
	// gigs, to two decimals.
	RatingMean *float64 `json:"rating_mean" db:"rating_mean"`
	// OnTimeRate is the share of the orders due so far whose first delivery came by the
	// due time (an overdue order without a delivery counts as late), to three decimals.
	OnTimeRate *float64 `json:"on_time_rate" db:"on_time_rate"`
	// ResponseSeconds is the median time from a buyer's first message in a
	// conversation to the seller's first answer, over the 100 latest conversations of
	// the last 90 days; ResponseRate is the share of them the seller answered.
	ResponseSeconds *int64   `json:"response_seconds" db:"response_seconds"`
	ResponseRate    *float64 `json:"response_rate" db:"response_rate"`
	// PublishedGigs is how many gigs the seller shows now; the profile lists the
	// ProfileGigs newest and points at the rest (see PublicProfile.MoreGigs).
	PublishedGigs int `json:"published_gigs" db:"published_gigs"`
}

// ProfilePresence is whether the user holds a socket now and, if not, when they were
// last active; it changes by the minute, so caches keep a profile briefly.
type ProfilePresence struct {
	Online     bool       `json:"online"`
	LastSeenAt *time.Time `json:"last_seen_at"`
}

// PublicProfile is a user as anyone sees them at GET /users/{username}. Sellers carry
// their stats, published gigs (newest first) and latest reviews; buyers only who they are.
type PublicProfile struct {
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Bio         string    `json:"bio"`
	MemberSince time.Time `json:"member_since"`
	ProfileDetails
	IsSeller bool            `json:"is_seller"`
	Presence ProfilePresence `json:"presence"`
	Stats    *SellerStats    `json:"seller_stats"`
	Gigs     []Gig           `json:"gigs"`
	Reviews  []Review        `json:"latest_reviews"`
	// MoreGigs is where the catalogue's newest-first listing of the seller
	// (GET /gigs?seller=username&sort=newest) continues after Gigs; nil when Gigs
	// holds them all. The HTTP layer writes it as a link.
	MoreGigs *GigCursor `json:"-"`
	// Memo is where this node keeps the answers made of the cached record this
	// profile was read from, one per presence (PresenceVariant); nil when it was not
	// read through the cache. Everything but Presence is the same for every reader of
	// the record, so an answer made for one variant serves the next reader of it.
	Memo *ReadMemo `json:"-"`
}

// PresenceVariant is the ReadMemo variant of the profile's presence: 1 online, 0 not
// (then last_seen_at is the cached record's).
func (p PublicProfile) PresenceVariant() int {
	if p.Presence.Online {
		return 1
	}
	return 0
}

// ProfileStore reads what profiles show; store/ implements it.
type ProfileStore interface {
	// ProfileUser returns the active user with username and their seller record
	// (SellerStats); a disabled, deleted or unknown one wraps ErrNotFound.
	ProfileUser(ctx context.Context, username string) (ProfileUser, error)
	// ProfileDetails returns a user's country, languages, skills and avatar upload.
	ProfileDetails(ctx context.Context, userID string) (ProfileDetails, error)
	// SellerReviews returns the latest reviews sellerID received on any gig, newest first.
	SellerReviews(ctx context.Context, sellerID string, limit int) ([]Review, error)
}

// Public returns the profile of username: anyone may read an active user's; a
// disabled, deleted or unknown user is a not-found Error. All but presence comes from
// the read cache when it has the profile (at most ReadCacheProfileTTL old, less for
// what a write invalidates); whether the user is online is asked every time. The
// record a node decoded is kept decoded while the cache holds the same bytes
// (memoRead), with its Memo for the HTTP layer's answers.
func (p *Profiles) Public(ctx context.Context, username string) (PublicProfile, error) {
	if CheckUsername(username) != nil {
		return PublicProfile{}, Errorf(CodeNotFound, "no such user")
	}
	key := "profile:" + username
	ahead := p.askPresenceAhead(ctx, key)
	page, memo, err := memoRead(ctx, p.cached, key, ReadCacheProfileTTL,
		func(ctx context.Context) (profilePage, bool, error) {
			page, err := p.record(ctx, username)
			return page, err == nil, err
		})
	if err != nil {
		ahead.wait()
		return PublicProfile{}, err
	}
	out := page.Profile // a copy: page may be shared by every reader (memoRead)
	out.MoreGigs = page.MoreGigs
	out.Presence = ahead.presenceOf(ctx, p, page.UserID, out.Presence.LastSeenAt)
	out.Memo = memo
	return out, nil
}

// profilePage is a profile as the read cache keeps it, with the user's id beside it
// (presence is looked up by id, which the API does not show).
type profilePage struct {
	Profile  PublicProfile `json:"profile"`
	UserID   string        `json:"user_id"`
	MoreGigs *GigCursor    `json:"more_gigs,omitempty"` // Profile.MoreGigs, which the API does not show as is
}

// record reads everything a profile shows but whether the user is online now.
func (p *Profiles) record(ctx context.Context, username string) (profilePage, error) {
	u, err := p.store.ProfileUser(ctx, username)
	if err != nil {
		return profilePage{}, err
	}
	out := PublicProfile{
		Username: u.Username, DisplayName: u.DisplayName, Bio: u.Bio, MemberSince: u.CreatedAt,
		ProfileDetails: withAvatar(u.ProfileDetails), IsSeller: u.IsSeller, Gigs: []Gig{}, Reviews: []Review{},
		Presence: ProfilePresence{LastSeenAt: u.LastActiveAt},
	}
	if u.IsSeller {
		out, err = p.withSellerRecord(ctx, u.ID, u.SellerStats, out)
	}
	return profilePage{Profile: out, UserID: u.ID, MoreGigs: out.MoreGigs}, err
}

// Details returns the caller's own profile details (GET and PATCH /me show them).
func (p *Profiles) Details(ctx context.Context, userID string) (ProfileDetails, error) {
	d, err := p.store.ProfileDetails(ctx, userID)
	return withAvatar(d), err
}

func withAvatar(d ProfileDetails) ProfileDetails {
	if d.AvatarID != nil {
		path := "/uploads/" + *d.AvatarID + "/download"
		d.Avatar = &path
	}
	if d.Languages == nil {
		d.Languages = GigTags{}
	}
	if d.Skills == nil {
		d.Skills = GigTags{}
	}
	return d
}

// presenceOf asks the hub whether userID is online; presence being down only hides it.
func (p *Profiles) presenceOf(ctx context.Context, userID string, lastSeen *time.Time) ProfilePresence {
	if p.presence == nil {
		return ProfilePresence{LastSeenAt: lastSeen}
	}
	online, err := p.presence.IsOnline(ctx, userID)
	return p.shownPresence(ctx, online, err, lastSeen)
}

// shownPresence is the presence a profile shows for an IsOnline answer.
func (p *Profiles) shownPresence(ctx context.Context, online bool, err error, lastSeen *time.Time) ProfilePresence {
	if err != nil {
		p.log.WarnContext(ctx, "profile: presence unavailable", "err", err)
		return ProfilePresence{LastSeenAt: lastSeen}
	}
	if online {
		return ProfilePresence{Online: true}
	}
	return ProfilePresence{LastSeenAt: lastSeen}
}

// presenceAhead is a presence lookup started before the profile's cache read, for the
// user this node last decoded under the profile's key: the two waits overlap instead
// of following each other (a cached profile then costs one Redis wait after the rate
// limit, not two). Its answer counts only if the profile read is of the same user.
type presenceAhead struct {
	userID string // "" when nothing was asked ahead
	answer chan onlineAnswer
}

type onlineAnswer struct {
	online bool
	err    error
}

// askPresenceAhead starts the presence lookup of the user last read under key, if
// this node knows one.
func (p *Profiles) askPresenceAhead(ctx context.Context, key string) presenceAhead {
	last, ok := p.cached.memo.last(key).(profilePage)
	if !ok || p.presence == nil {
		return presenceAhead{}
	}
	ahead := presenceAhead{userID: last.UserID, answer: make(chan onlineAnswer, 1)}
	go func() {
		online, err := p.presence.IsOnline(ctx, ahead.userID)
		ahead.answer <- onlineAnswer{online, err}
	}()
	return ahead
}

// presenceOf is userID's presence: the answer asked ahead when it was asked of
// userID, otherwise asked now. The lookup ahead is always waited for, so it never
// outlives the request.
func (a presenceAhead) presenceOf(ctx context.Context, p *Profiles, userID string, lastSeen *time.Time) ProfilePresence {
	if a.userID == "" {
		return p.presenceOf(ctx, userID, lastSeen)
	}
	got := <-a.answer // IsOnline ends with ctx
	if a.userID != userID {
		return p.presenceOf(ctx, userID, lastSeen)
	}
	return p.shownPresence(ctx, got.online, got.err, lastSeen)
}

// wait waits for the lookup ahead, if any, when its answer is not needed.
func (a presenceAhead) wait() {
	if a.userID != "" {
		<-a.answer
	}
}

func (p *Profiles) withSellerRecord(ctx context.Context, sellerID string, stats SellerStats, out PublicProfile) (PublicProfile, error) {
	var err error
	out.Stats = &stats
	if out.Reviews, err = p.store.SellerReviews(ctx, sellerID, ProfileReviews); err != nil {
		return out, err
	}
	page, err := p.gigs.List(ctx, GigFilter{Seller: sellerID, Sort: SortNewest, Limit: ProfileGigs})
	if err != nil {
		return out, fmt.Errorf("profile gigs: %w", err)
	}
	out.Gigs, out.MoreGigs = page.Gigs, page.Next
	return out, nil
}
