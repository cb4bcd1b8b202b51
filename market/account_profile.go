package market

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
)

// ProfileUpdate changes some of a user's own profile fields; nil leaves one as it is.
// Id, e-mail, admin and verification are not among them: clients cannot set those.
type ProfileUpdate struct {
	DisplayName *string
	Bio         *string
	IsBuyer     *bool
	IsSeller    *bool
	// Country is an ISO 3166-1 alpha-2 code; "" clears it.
	Country *string
	// Languages and Skills replace the lists shown on the public profile.
	Languages *[]string
	Skills    *[]string
}

// maxBioLength bounds a bio, in bytes, after sanitizing.
const maxBioLength = 4000

// richText is the policy for user rich text (bios, gig descriptions): the user-generated
// content subset of HTML, with no scripts, styles or event handlers.
var richText = bluemonday.UGCPolicy()

// SanitizeRichText returns html reduced to safe user-generated-content markup.
func SanitizeRichText(html string) string { return strings.TrimSpace(richText.Sanitize(html)) }

// UpdateProfile applies p to the user's profile, sanitizing the bio. It returns an
// invalid Error naming the field that breaks a rule; a user must stay buyer, seller or both.
func (a *Accounts) UpdateProfile(ctx context.Context, u User, p ProfileUpdate) (User, error) {
	if p.DisplayName != nil {
		if err := CheckDisplayName(*p.DisplayName); err != nil {
			return User{}, err
		}
		name := strings.TrimSpace(*p.DisplayName)
		p.DisplayName = &name
	}
	if p.Bio != nil {
		bio := SanitizeRichText(*p.Bio)
		if len(bio) > maxBioLength {
			return User{}, FieldError(CodeInvalid, "bio", "must be at most 4000 bytes")
		}
		p.Bio = &bio
	}
	if err := checkProfileDetails(&p); err != nil {
		return User{}, err
	}
	buyer, seller := u.IsBuyer, u.IsSeller
	if p.IsBuyer != nil {
		buyer = *p.IsBuyer
	}
	if p.IsSeller != nil {
		seller = *p.IsSeller
	}
	if !buyer && !seller {
		return User{}, FieldError(CodeInvalid, "is_buyer", "a user must be a buyer, a seller or both")
	}
	return a.store.UpdateProfile(ctx, u.ID, p)
}

// The bounds of the lists on a public profile.
const (
	MaxProfileLanguages = 10
	MaxProfileSkills    = 30
	maxProfileWord      = 40
)

var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

// checkProfileDetails normalizes the country (upper case) and the lists (trimmed,
// without duplicates) of p, or returns an invalid Error naming the field.
func checkProfileDetails(p *ProfileUpdate) error {
	if p.Country != nil {
		c := strings.ToUpper(strings.TrimSpace(*p.Country))
		if c != "" && !countryPattern.MatchString(c) {
			return FieldError(CodeInvalid, "country", "must be an ISO 3166-1 alpha-2 code such as DE")
		}
		p.Country = &c
	}
	var err error
	if p.Languages != nil {
		if *p.Languages, err = checkProfileWords("languages", *p.Languages, MaxProfileLanguages); err != nil {
			return err
		}
	}
	if p.Skills != nil {
		if *p.Skills, err = checkProfileWords("skills", *p.Skills, MaxProfileSkills); err != nil {
			return err
		}
	}
	return nil
}

// checkProfileWords trims and de-duplicates (ignoring case) a profile list of plain
// words: 1 to 40 letters, digits, spaces and the punctuation of names (+#.-&/).
func checkProfileWords(field string, words []string, most int) ([]string, error) {
	out := make([]string, 0, len(words))
	for i, w := range words {
		w = strings.Join(strings.Fields(w), " ")
		n := utf8.RuneCountInString(w)
		if n < 1 || n > maxProfileWord || strings.ContainsFunc(w, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune(" +#.-&/'", r)
		}) {
			return nil, FieldError(CodeInvalid, fmt.Sprintf("%s[%d]", field, i), "must be 1 to 40 letters, digits, spaces or + # . - & / '")
		}
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, w) }) {
			out = append(out, w)
		}
	}
	if len(out) > most {
		return nil, FieldError(CodeInvalid, field, fmt.Sprintf("must be at most %d", most))
	}
	return out, nil
}
