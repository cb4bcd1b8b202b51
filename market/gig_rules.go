package market

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The bounds of a gig and its packages. Prices are minor units: MaxPackagePriceMinor
// is ten million in a two-decimal currency.
const (
	MinGigTitle            = 10
	MaxGigTitle            = 120
	MaxGigDescription      = 20000 // bytes, after sanitizing
	MaxGigPackages         = 3
	MaxPackageTitle        = 80
	MaxPackageDescription  = 1000
	MaxPackagePriceMinor   = 1_000_000_000
	MaxPackageDeliveryDays = 90
	MaxPackageRevisions    = 20
	MaxGigTags             = 5
	MaxGigTag              = 30 // characters
)

// packageTiers are the tiers of a gig in the order they are shown.
var packageTiers = []string{"basic", "standard", "premium"}

// CheckNewGig checks and normalizes a draft: trimmed title, sanitized description,
// packages in tier order. It returns an invalid Error naming the first field at fault.
func CheckNewGig(in NewGig) (NewGig, error) {
	var err error
	if in.Title, err = checkGigTitle(in.Title); err != nil {
		return NewGig{}, err
	}
	if in.Description, err = checkGigDescription(in.Description); err != nil {
		return NewGig{}, err
	}
	if strings.TrimSpace(in.CategorySlug) == "" {
		return NewGig{}, FieldError(CodeInvalid, "category", "is required")
	}
	if in.Packages, err = CheckPackages(in.Packages); err != nil {
		return NewGig{}, err
	}
	if in.Tags, err = CheckTags(in.Tags); err != nil {
		return NewGig{}, err
	}
	return in, nil
}

// CheckTags normalizes a gig's tags (trimmed, lower case, inner spaces collapsed,
// duplicates dropped) and checks them: at most MaxGigTags, each 2 to MaxGigTag
// characters of letters, digits, spaces and hyphens. It returns an invalid Error
// naming tags or tags[i].
func CheckTags(tags []string) ([]string, error) {
	out := []string{}
	for i, t := range tags {
		t = strings.Join(strings.Fields(strings.ToLower(t)), " ")
		n := utf8.RuneCountInString(t)
		if n < 2 || n > MaxGigTag || strings.ContainsFunc(t, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != ' ' && r != '-'
		}) {
			return nil, FieldError(CodeInvalid, fmt.Sprintf("tags[%d]", i), "must be 2 to 30 letters, digits, spaces or hyphens")
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > MaxGigTags {
		return nil, FieldError(CodeInvalid, "tags", "must be at most 5")
	}
	return out, nil
}

// CheckGigChange checks and normalizes the fields a change sets, as CheckNewGig does.
func CheckGigChange(ch GigChange) (GigChange, error) {
	if ch.Title != nil {
		t, err := checkGigTitle(*ch.Title)
		if err != nil {
			return GigChange{}, err
		}
		ch.Title = &t
	}
	if ch.Description != nil {
		d, err := checkGigDescription(*ch.Description)
		if err != nil {
			return GigChange{}, err
		}
		ch.Description = &d
	}
	if ch.CategorySlug != nil && strings.TrimSpace(*ch.CategorySlug) == "" {
		return GigChange{}, FieldError(CodeInvalid, "category", "must not be empty")
	}
	if ch.Packages != nil {
		var err error
		if ch.Packages, err = CheckPackages(ch.Packages); err != nil {
			return GigChange{}, err
		}
	}
	if ch.Tags != nil {
		tags, err := CheckTags(*ch.Tags)
		if err != nil {
			return GigChange{}, err
		}
		ch.Tags = &tags
	}
	return ch, nil
}

func checkGigTitle(title string) (string, error) {
	title = strings.TrimSpace(title)
	if err := checkPlainLine(title); err != nil {
		return "", FieldError(CodeInvalid, "title", err.Error())
	}
	if n := utf8.RuneCountInString(title); n < MinGigTitle || n > MaxGigTitle {
		return "", FieldError(CodeInvalid, "title", fmt.Sprintf("must be %d to %d characters", MinGigTitle, MaxGigTitle))
	}
	return title, nil
}

func checkGigDescription(html string) (string, error) {
	if !utf8.ValidString(html) {
		return "", FieldError(CodeInvalid, "description", "must be valid UTF-8 text")
	}
	d := SanitizeRichText(html)
	if d == "" {
		return "", FieldError(CodeInvalid, "description", "must not be empty")
	}
	if len(d) > MaxGigDescription {
		return "", FieldError(CodeInvalid, "description", fmt.Sprintf("must be at most %d bytes", MaxGigDescription))
	}
	return d, nil
}

// checkPlainLine accepts one line of valid UTF-8 text without control characters.
func checkPlainLine(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("must be valid UTF-8 text")
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return fmt.Errorf("must be one line of text without control characters")
	}
	return nil
}

// CheckPackages checks a gig's whole list of packages: one to three distinct tiers,
// one currency for all, each within its bounds. It returns them in tier order, or an
// invalid Error naming the field, such as packages[1].currency.
func CheckPackages(list []GigPackage) ([]GigPackage, error) {
	if len(list) == 0 || len(list) > MaxGigPackages {
		return nil, FieldError(CodeInvalid, "packages", fmt.Sprintf("must hold 1 to %d packages", MaxGigPackages))
	}
	out := make([]GigPackage, len(list))
	seen := map[string]bool{}
	for i, p := range list {
		field := fmt.Sprintf("packages[%d].", i)
		p, err := checkPackage(p, field)
		if err != nil {
			return nil, err
		}
		if seen[p.Tier] {
			return nil, FieldError(CodeInvalid, field+"tier", "each tier may appear once")
		}
		seen[p.Tier] = true
		if p.Currency != list[0].Currency {
			return nil, FieldError(CodeInvalid, field+"currency", "all packages of a gig must share one currency")
		}
		out[i] = p
	}
	slices.SortFunc(out, func(a, b GigPackage) int {
		return slices.Index(packageTiers, a.Tier) - slices.Index(packageTiers, b.Tier)
	})
	return out, nil
}

func checkPackage(p GigPackage, field string) (GigPackage, error) {
	p.Title = strings.TrimSpace(p.Title)
	p.Description = strings.TrimSpace(p.Description)
	switch {
	case !slices.Contains(packageTiers, p.Tier):
		return p, FieldError(CodeInvalid, field+"tier", "must be one of basic, standard, premium")
	case p.Title == "" || utf8.RuneCountInString(p.Title) > MaxPackageTitle || checkPlainLine(p.Title) != nil:
		return p, FieldError(CodeInvalid, field+"title", fmt.Sprintf("must be one line of 1 to %d characters", MaxPackageTitle))
	case !utf8.ValidString(p.Description) || strings.ContainsRune(p.Description, 0) || utf8.RuneCountInString(p.Description) > MaxPackageDescription:
		return p, FieldError(CodeInvalid, field+"description", fmt.Sprintf("must be text of at most %d characters", MaxPackageDescription))
	case p.PriceMinor <= 0 || p.PriceMinor > MaxPackagePriceMinor:
		return p, FieldError(CodeInvalid, field+"price_minor", fmt.Sprintf("must be 1 to %d minor units", MaxPackagePriceMinor))
	case !IsCurrency(p.Currency):
		return p, FieldError(CodeInvalid, field+"currency", "must be an ISO 4217 currency code in upper case, such as USD")
	case p.DeliveryDays < 1 || p.DeliveryDays > MaxPackageDeliveryDays:
		return p, FieldError(CodeInvalid, field+"delivery_days", fmt.Sprintf("must be 1 to %d", MaxPackageDeliveryDays))
	case p.Revisions < 0 || p.Revisions > MaxPackageRevisions:
		return p, FieldError(CodeInvalid, field+"revisions", fmt.Sprintf("must be 0 to %d", MaxPackageRevisions))
	}
	return p, nil
}

// GigTransition says whether a gig in status from may move to status to: a draft or
// paused gig may be published once it has a basic package, a published gig paused.
// Moving to the status it has is allowed (a repeated request changes nothing). It
// returns a conflict Error otherwise.
func GigTransition(from GigStatus, hasBasic bool, to GigStatus) error {
	switch {
	case from == to:
		return nil
	case to == GigPublished && !hasBasic:
		return FieldError(CodeConflict, "packages", "a gig needs a basic package before it is published")
	case to == GigPublished:
		return nil
	case to == GigPaused && from == GigPublished:
		return nil
	}
	return Errorf(CodeConflict, "a %s gig cannot become %s", from, to)
}

// CheckGigDeletable allows deleting drafts only: a gig that was ever published may have
// orders, reviews and conversations pointing at it, so it is paused instead. It
// returns a conflict Error for any other status.
func CheckGigDeletable(status GigStatus) error {
	if status != GigDraft {
		return Errorf(CodeConflict, "only a draft can be deleted; pause a published gig instead")
	}
	return nil
}

// CheckPublishedPackages keeps a basic package on a gig others can see: replacing the
// packages of a published or paused gig must not drop it. It returns an invalid Error.
func CheckPublishedPackages(status GigStatus, list []GigPackage) error {
	if status == GigDraft || list == nil {
		return nil
	}
	if !slices.ContainsFunc(list, func(p GigPackage) bool { return p.Tier == "basic" }) {
		return FieldError(CodeInvalid, "packages", "a published or paused gig must keep its basic package")
	}
	return nil
}
