package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

// errSeedInProduction refuses the demo seed in production mode: its users share a
// published password.
var errSeedInProduction = errors.New("seed: the demo data has a published password and is for local runs only; refused with GIGSTREAM_ENV=production")

// seed runs `gigstream seed`: it loads demoData and reports what it inserted. A
// second run inserts nothing. It refuses to run in production mode.
func seed(ctx context.Context, e *envReader, log *slog.Logger) error {
	if loadDatabaseConfig(e).Production {
		return errSeedInProduction
	}
	return withDatabase(ctx, e, log, func(db *store.DB) error {
		if err := checkMigrated(ctx, db, log); err != nil {
			return err
		}
		data, err := withDemoPassword(ctx, demoData)
		if err != nil {
			return err
		}
		n, err := db.Seed(ctx, data)
		if err != nil {
			return err
		}
		log.InfoContext(ctx, "seed loaded", "users", n.Users, "categories", n.Categories, "gigs", n.Gigs, "packages", n.Packages)
		return nil
	})
}

// checkMigrated refuses to run against a database behind this binary's migrations.
func checkMigrated(ctx context.Context, db *store.DB, log *slog.Logger) error {
	m, err := store.NewMigrator(db, log)
	if err != nil {
		return err
	}
	return m.CheckMigrated(ctx)
}

// DemoPassword signs in every demo user (README); demo data is for local runs only.
const DemoPassword = "gigstream-demo-2026"

// withDemoPassword gives every demo user the demo password's argon2id hash.
func withDemoPassword(ctx context.Context, data store.SeedData) (store.SeedData, error) {
	hash, err := market.NewPasswordHasher(market.HasherConfig{}).Hash(ctx, DemoPassword)
	if err != nil {
		return data, err
	}
	users := make([]store.SeedUser, len(data.Users))
	for i, u := range data.Users {
		u.PasswordHash = hash
		users[i] = u
	}
	data.Users = users
	return data, nil
}

// demoData is a small marketplace: two sellers, two buyers, three categories and four
// published gigs with their priced packages (minor units).
var demoData = store.SeedData{
	Users: []store.SeedUser{
		{Email: "maya@demo.gigstream.test", Username: "maya_designs", DisplayName: "Maya Chen", Bio: "Brand identities and logos for small businesses.", IsBuyer: true, IsSeller: true},
		{Email: "tomas@demo.gigstream.test", Username: "tomas_dev", DisplayName: "Tomás Ortega", Bio: "Go and PostgreSQL back ends, APIs and performance work.", IsBuyer: true, IsSeller: true},
		{Email: "lena@demo.gigstream.test", Username: "lena_buys", DisplayName: "Lena Fischer", IsBuyer: true},
		{Email: "sam@demo.gigstream.test", Username: "sam_startup", DisplayName: "Sam Okafor", IsBuyer: true},
	},
	Categories: []store.SeedCategory{
		{Slug: "graphics-design", Name: "Graphics & Design"},
		{Slug: "programming-tech", Name: "Programming & Tech"},
		{Slug: "writing-translation", Name: "Writing & Translation"},
	},
	Gigs: []store.SeedGig{
		{
			Slug: "minimalist-logo-design", SellerUsername: "maya_designs", CategorySlug: "graphics-design",
			Title:       "I will design a minimalist logo for your brand",
			Description: "Three initial concepts, vector files and a small brand sheet.",
			Packages: []store.SeedPackage{
				{Tier: "basic", Title: "One concept", PriceMinor: 4500, Currency: "USD", DeliveryDays: 3, Revisions: 1},
				{Tier: "standard", Title: "Three concepts", PriceMinor: 9500, Currency: "USD", DeliveryDays: 5, Revisions: 3},
				{Tier: "premium", Title: "Brand kit", PriceMinor: 24000, Currency: "USD", DeliveryDays: 7, Revisions: 5},
			},
		},
		{
			Slug: "social-media-kit", SellerUsername: "maya_designs", CategorySlug: "graphics-design",
			Title:       "I will create a social media kit with templates",
			Description: "Profile images, banners and ten post templates in your colours.",
			Packages: []store.SeedPackage{
				{Tier: "basic", Title: "Banners", PriceMinor: 3000, Currency: "USD", DeliveryDays: 2, Revisions: 1},
				{Tier: "standard", Title: "Banners and templates", PriceMinor: 7000, Currency: "USD", DeliveryDays: 4, Revisions: 2},
			},
		},
		{
			Slug: "go-rest-api", SellerUsername: "tomas_dev", CategorySlug: "programming-tech",
			Title:       "I will build a fast REST API in Go with PostgreSQL",
			Description: "A documented, tested API with migrations, Docker image and CI.",
			Packages: []store.SeedPackage{
				{Tier: "basic", Title: "Five endpoints", PriceMinor: 30000, Currency: "EUR", DeliveryDays: 7, Revisions: 2},
				{Tier: "standard", Title: "Fifteen endpoints", PriceMinor: 75000, Currency: "EUR", DeliveryDays: 14, Revisions: 3},
				{Tier: "premium", Title: "Full service", PriceMinor: 150000, Currency: "EUR", DeliveryDays: 30, Revisions: 5},
			},
		},
		{
			Slug: "postgres-performance-review", SellerUsername: "tomas_dev", CategorySlug: "programming-tech",
			Title:       "I will review and speed up your PostgreSQL queries",
			Description: "EXPLAIN-driven review of your slowest queries, with indexes and rewrites.",
			Packages: []store.SeedPackage{
				{Tier: "basic", Title: "Five queries", PriceMinor: 12000, Currency: "EUR", DeliveryDays: 3, Revisions: 1},
			},
		},
	},
}
