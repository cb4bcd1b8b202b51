package storetest

import (
	"math/rand/v2"
	"strings"
)

// SearchQueries returns n distinct search-box queries over the vocabulary of
// GenerateCatalogue, the same for the same seed: a phrase of a category with an
// adjective, a tool or an audience ("minimalist logo design", "landing page design
// figma"), a tag and a description word, some with a typo of one swapped pair of
// letters and some with the last word cut short as a buyer is still typing it. Being
// distinct, no two of them share a result cache entry; benchmarks use them to measure
// cold searches. It panics if the vocabulary cannot make n distinct queries (hundreds
// of thousands can be made).
func SearchQueries(seed uint64, n int) []string {
	rnd := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	seen := map[string]bool{}
	out := make([]string, 0, n)
	for tries := 0; len(out) < n; tries++ {
		if tries > 50*n+1000 {
			panic("storetest: the vocabulary cannot make that many distinct queries")
		}
		q := searchQuery(rnd)
		if !seen[q] {
			seen[q] = true
			out = append(out, q)
		}
	}
	return out
}

// searchQuery draws one query in one of a few shapes, then maybe misspells or cuts it.
func searchQuery(rnd *rand.Rand) string {
	c := catalogueCategories[rnd.IntN(len(catalogueCategories))]
	var q string
	switch rnd.IntN(5) {
	case 0:
		q = pick(rnd, catalogueAdjectives) + " " + pick(rnd, c.Nouns)
	case 1:
		q = pick(rnd, c.Nouns) + " " + strings.ToLower(pick(rnd, catalogueTools))
	case 2:
		q = pick(rnd, c.Nouns) + " for " + pick(rnd, catalogueTargets)
	case 3:
		q = pick(rnd, c.Tags) + " " + pick(rnd, catalogueCommon)
	default:
		q = pick(rnd, catalogueAdjectives) + " " + pick(rnd, c.Tags) + " " + pick(rnd, catalogueTargets)
	}
	words := strings.Fields(q)
	last := len(words) - 1
	switch x := rnd.IntN(10); {
	case x < 2: // a typo: two neighbouring letters of a long word swapped
		i := rnd.IntN(len(words))
		if w := words[i]; len(w) >= 5 {
			j := 1 + rnd.IntN(len(w)-2)
			words[i] = w[:j] + string(w[j+1]) + string(w[j]) + w[j+2:]
		}
	case x < 4: // still typing the last word
		if w := words[last]; len(w) >= 5 {
			words[last] = w[:3+rnd.IntN(len(w)-3)]
		}
	}
	return strings.Join(words, " ")
}

// SuggestPrefixes returns n texts typed into a search box, the same for the same
// seed: the first letters of a tag, a title word or a category phrase, two to eight
// letters long, sometimes after a whole first word ("logo d"). They repeat: the
// vocabulary has fewer prefixes than a long benchmark asks for.
func SuggestPrefixes(seed uint64, n int) []string {
	rnd := rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d))
	out := make([]string, n)
	for i := range out {
		c := catalogueCategories[rnd.IntN(len(catalogueCategories))]
		phrase := pick(rnd, append(append([]string{}, c.Tags...), c.Nouns...))
		cut := min(len(phrase), 2+rnd.IntN(7))
		if sp := strings.IndexByte(phrase, ' '); sp > 0 && rnd.IntN(3) == 0 {
			cut = min(len(phrase), sp+2+rnd.IntN(3))
		}
		out[i] = strings.TrimSpace(phrase[:cut])
	}
	return out
}
