package market

import (
	"strings"
	"testing"
)

func okPackage(tier string) GigPackage {
	return GigPackage{Tier: tier, Title: "T", PriceMinor: 100, Currency: "USD", DeliveryDays: 1}
}

func TestCheckPackagesNamesTheField(t *testing.T) {
	mixed := okPackage("premium")
	mixed.Currency = "EUR"
	cases := map[string]struct {
		list  []GigPackage
		field string
	}{
		"none":          {nil, "packages"},
		"four":          {[]GigPackage{okPackage("basic"), okPackage("standard"), okPackage("premium"), okPackage("basic")}, "packages"},
		"bad tier":      {[]GigPackage{okPackage("gold")}, "packages[0].tier"},
		"repeated tier": {[]GigPackage{okPackage("basic"), okPackage("basic")}, "packages[1].tier"},
		"mixed":         {[]GigPackage{okPackage("basic"), mixed}, "packages[1].currency"},
		"lower case":    {[]GigPackage{{Tier: "basic", Title: "T", PriceMinor: 1, Currency: "usd", DeliveryDays: 1}}, "packages[0].currency"},
		"free":          {[]GigPackage{{Tier: "basic", Title: "T", Currency: "USD", DeliveryDays: 1}}, "packages[0].price_minor"},
		"slow":          {[]GigPackage{{Tier: "basic", Title: "T", PriceMinor: 1, Currency: "USD", DeliveryDays: 91}}, "packages[0].delivery_days"},
		"revisions":     {[]GigPackage{{Tier: "basic", Title: "T", PriceMinor: 1, Currency: "USD", DeliveryDays: 1, Revisions: 21}}, "packages[0].revisions"},
		"two lines":     {[]GigPackage{{Tier: "basic", Title: "a\nb", PriceMinor: 1, Currency: "USD", DeliveryDays: 1}}, "packages[0].title"},
	}
	for name, tc := range cases {
		_, err := CheckPackages(tc.list)
		e, ok := err.(*Error)
		if !ok || e.Code != CodeInvalid || e.Field != tc.field {
			t.Errorf("%s: %v, want invalid %s", name, err, tc.field)
		}
	}
	out, err := CheckPackages([]GigPackage{okPackage("premium"), okPackage("basic"), okPackage("standard")})
	if err != nil || out[0].Tier != "basic" || out[1].Tier != "standard" || out[2].Tier != "premium" {
		t.Fatalf("tier order: %+v, %v", out, err)
	}
}

func TestCheckNewGigSanitizesAndBoundsText(t *testing.T) {
	in := NewGig{Title: "  A title long enough  ", Description: `<p onclick="x()">Hi</p><script>alert(1)</script>`, CategorySlug: "c", Packages: []GigPackage{okPackage("basic")}}
	out, err := CheckNewGig(in)
	if err != nil || out.Title != "A title long enough" || out.Description != "<p>Hi</p>" {
		t.Fatalf("CheckNewGig = %+v, %v", out, err)
	}
	for name, title := range map[string]string{"short": "Too short", "long": strings.Repeat("é", 121), "control": "A title\twith a tab"} {
		in.Title = title
		if _, err := CheckNewGig(in); ErrorCode(err) != CodeInvalid {
			t.Errorf("%s title accepted: %v", name, err)
		}
	}
}

func TestGigTransitions(t *testing.T) {
	allowed := []struct {
		from  GigStatus
		basic bool
		to    GigStatus
		ok    bool
	}{
		{GigDraft, true, GigPublished, true},
		{GigDraft, false, GigPublished, false},
		{GigPaused, true, GigPublished, true},
		{GigPublished, true, GigPaused, true},
		{GigDraft, true, GigPaused, false},
		{GigPaused, true, GigDraft, false},
		{GigPublished, true, GigPublished, true},
	}
	for _, tc := range allowed {
		if err := GigTransition(tc.from, tc.basic, tc.to); (err == nil) != tc.ok {
			t.Errorf("%s -> %s (basic %v): %v", tc.from, tc.to, tc.basic, err)
		}
	}
}

func TestSlugify(t *testing.T) {
	for title, want := range map[string]string{
		"Logo design, fast!":      "logo-design-fast",
		"  --Go REST API 2.0--  ": "go-rest-api-2-0",
		"日本語のタイトルです":              "gig",
		strings.Repeat("ab ", 60): strings.TrimSuffix(strings.Repeat("ab-", 27), "-"),
	} {
		if got := Slugify(title); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", title, got, want)
		}
	}
}
