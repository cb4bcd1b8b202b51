package market

import (
	"context"
	"strings"

	"github.com/microcosm-cc/bluemonday"
)

// ProfileUpdate changes some of a user's own profile fields; nil leaves one as it is.
// Id, e-mail, admin and verification are not among them: clients cannot set those.
type ProfileUpdate struct {
	DisplayName *string
	Bio         *string
	IsBuyer     *bool
	IsSeller    *bool
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
