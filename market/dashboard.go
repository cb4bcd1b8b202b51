package market

import (
	"context"
	"math"
	"time"
)

// Dashboard serves a seller's private figures: what they earned, where their orders
// stand and how gig views turn into orders.
type Dashboard struct {
	store DashboardStore
}

// NewDashboard returns the seller dashboard over its store.
func NewDashboard(s DashboardStore) *Dashboard { return &Dashboard{store: s} }

// The windows of the dashboard.
const (
	DashboardMonths         = 12
	DashboardConversionDays = 30
	DashboardGigs           = 100
)

// MonthEarnings is what a seller earned in one currency in one UTC month: the seller's
// share (after fees and refunds) of the orders settled in it.
type MonthEarnings struct {
	Month    string `json:"month" db:"month"` // YYYY-MM
	Currency string `json:"currency" db:"currency"`
	NetMinor int64  `json:"net_minor" db:"net_minor"`
	Orders   int    `json:"orders" db:"orders"`
}

// GigConversion is how many times a gig was viewed and ordered (orders paid) in the
// window, and the ratio of the two (null without views).
type GigConversion struct {
	GigID  string   `json:"gig_id" db:"gig_id"`
	Title  string   `json:"title" db:"title"`
	Views  int64    `json:"views" db:"views"`
	Orders int      `json:"orders" db:"orders"`
	Rate   *float64 `json:"rate" db:"-"`
}

// SellerDashboard is GET /me/dashboard.
type SellerDashboard struct {
	Earnings       []MonthEarnings `json:"earnings"`
	OrdersByStatus map[string]int  `json:"orders_by_status"`
	Conversion     struct {
		Days   int             `json:"days"`
		Views  int64           `json:"views"`
		Orders int             `json:"orders"`
		Rate   *float64        `json:"rate"`
		Gigs   []GigConversion `json:"gigs"`
	} `json:"conversion"`
}

// DashboardStore reads the dashboard's figures; store/ implements it.
type DashboardStore interface {
	// SellerEarnings returns sellerID's earnings per month and currency since since, newest first.
	SellerEarnings(ctx context.Context, sellerID string, since time.Time) ([]MonthEarnings, error)
	// SellerOrdersByStatus counts sellerID's orders by status.
	SellerOrdersByStatus(ctx context.Context, sellerID string) (map[string]int, error)
	// SellerConversion returns the views and paid orders of all sellerID's gigs since
	// since, and the limit most viewed gigs with theirs.
	SellerConversion(ctx context.Context, sellerID string, since time.Time, limit int) (views int64, orders int, gigs []GigConversion, err error)
}

// Seller returns u's dashboard; a user who is not a seller gets a forbidden Error.
func (d *Dashboard) Seller(ctx context.Context, u User, now time.Time) (SellerDashboard, error) {
	var out SellerDashboard
	if !u.IsSeller {
		return out, Errorf(CodeForbidden, "the dashboard is for sellers")
	}
	now = now.UTC()
	firstMonth := time.Date(now.Year(), now.Month()-DashboardMonths+1, 1, 0, 0, 0, 0, time.UTC)
	var err error
	if out.Earnings, err = d.store.SellerEarnings(ctx, u.ID, firstMonth); err != nil {
		return out, err
	}
	if out.OrdersByStatus, err = d.store.SellerOrdersByStatus(ctx, u.ID); err != nil {
		return out, err
	}
	since := time.Date(now.Year(), now.Month(), now.Day()-DashboardConversionDays+1, 0, 0, 0, 0, time.UTC)
	c := &out.Conversion
	c.Days = DashboardConversionDays
	if c.Views, c.Orders, c.Gigs, err = d.store.SellerConversion(ctx, u.ID, since, DashboardGigs); err != nil {
		return out, err
	}
	c.Rate = conversionRate(c.Views, c.Orders)
	for i := range c.Gigs {
		c.Gigs[i].Rate = conversionRate(c.Gigs[i].Views, c.Gigs[i].Orders)
	}
	return out, nil
}

// conversionRate is orders per view to four decimals, nil without views.
func conversionRate(views int64, orders int) *float64 {
	if views == 0 {
		return nil
	}
	r := math.Round(float64(orders)/float64(views)*1e4) / 1e4
	return &r
}
