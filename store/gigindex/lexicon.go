package gigindex

import (
	"cmp"
	"slices"
	"strings"
)

// lexicon is every word the index has seen as written (lower case), with its stem and
// the number of gigs it came from: corrections and prefixes are looked up here, then
// searched by stem. Counts only grow until the index is rebuilt; they only order
// candidates, so that is good enough.
type lexicon struct {
	words  map[string]*lexWord
	sorted []string   // every word, in order: prefixes are ranges of it
	byLen  [][]string // words by length in bytes: corrections scan a few lengths
}

type lexWord struct {
	stem string
	gigs int
}

func newLexicon() lexicon { return lexicon{words: map[string]*lexWord{}} }

// add counts one more gig with word w.
func (l *lexicon) add(w string) {
	if lw, ok := l.words[w]; ok {
		lw.gigs++
		return
	}
	l.words[w] = &lexWord{stem: Stem(w), gigs: 1}
	i, _ := slices.BinarySearch(l.sorted, w)
	l.sorted = slices.Insert(l.sorted, i, w)
	for len(l.byLen) <= len(w) {
		l.byLen = append(l.byLen, nil)
	}
	l.byLen[len(w)] = append(l.byLen[len(w)], w)
}

// stem is w's stem, computed once per word.
func (l *lexicon) stem(w string) string {
	if lw, ok := l.words[w]; ok {
		return lw.stem
	}
	return Stem(w)
}

// MaxEdits is how many edits a query word of n letters may be away from an indexed
// word: none below 4 letters, one up to 7, two from 8.
func MaxEdits(n int) int {
	switch {
	case n < 4:
		return 0
	case n < 8:
		return 1
	default:
		return 2
	}
}

// corrections are the indexed words within MaxEdits of w (which is not indexed),
// the most frequent first, at most limit.
func (l *lexicon) corrections(w string, limit int) []string {
	k := MaxEdits(len([]rune(w)))
	if k == 0 {
		return nil
	}
	var found []string
	for n := max(1, len(w)-k); n <= len(w)+k && n < len(l.byLen); n++ {
		for _, cand := range l.byLen[n] {
			if cand != w && editDistanceWithin(w, cand, k) {
				found = append(found, cand)
			}
		}
	}
	return l.mostFrequent(found, limit)
}

// completions are the indexed words that start with prefix (longer than it), the
// most frequent first, at most limit.
func (l *lexicon) completions(prefix string, limit int) []string {
	i, _ := slices.BinarySearch(l.sorted, prefix)
	var found []string
	for ; i < len(l.sorted) && strings.HasPrefix(l.sorted[i], prefix); i++ {
		if l.sorted[i] != prefix {
			found = append(found, l.sorted[i])
		}
	}
	return l.mostFrequent(found, limit)
}

func (l *lexicon) mostFrequent(words []string, limit int) []string {
	slices.SortFunc(words, func(a, b string) int {
		return cmp.Or(cmp.Compare(l.words[b].gigs, l.words[a].gigs), strings.Compare(a, b))
	})
	return words[:min(len(words), limit)]
}

// editDistanceWithin reports whether the optimal-string-alignment distance of a and b
// (insertions, deletions, substitutions and swaps of neighbours, one edit each) is at
// most k. It works on bytes: the catalogue's words are ASCII in the main, and a
// multi-byte letter costing two edits only makes a correction stricter.
func editDistanceWithin(a, b string, k int) bool {
	if d := len(a) - len(b); d > k || -d > k {
		return false
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			best = min(best, cur[j])
		}
		if best > k {
			return false
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)] <= k
}
