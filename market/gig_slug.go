package market

import "strings"

// maxSlugBase leaves room for the suffix storage adds when a slug is taken.
const maxSlugBase = 80

// Slugify makes the readable part of a gig's URL from its title: its lower-case ASCII
// letters and digits, runs of anything else turned into single hyphens ("Logo design,
// fast!" becomes "logo-design-fast"). A title with too few of those gives "gig".
func Slugify(title string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(title) {
		if b.Len() >= maxSlugBase {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
			continue
		}
		hyphen = true
	}
	if b.Len() < 3 {
		return "gig"
	}
	return b.String()
}
