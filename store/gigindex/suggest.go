package gigindex

import (
	"cmp"
	"slices"
	"strings"
)

// Suggestion is a completion of what a buyer is typing: a tag or a title word, and
// how many listed gigs carry it.
type Suggestion struct {
	Text string
	Kind string // "tag" or "title"
	Gigs int
}

// suggestions count the tags and title words of the listed gigs.
type suggestions struct {
	entries []Suggestion
	index   map[string]uint32 // kind + ":" + text → entry
}

func newSuggestions() suggestions { return suggestions{index: map[string]uint32{}} }

// add counts a gig's tags and title words and returns their entries, for remove.
func (s *suggestions) add(title string, tags []string) []uint32 {
	var ids []uint32
	seen := map[uint32]bool{}
	count := func(kind, text string) {
		key := kind + ":" + text
		id, ok := s.index[key]
		if !ok {
			id = uint32(len(s.entries))
			s.entries = append(s.entries, Suggestion{Text: text, Kind: kind})
			s.index[key] = id
		}
		if !seen[id] {
			seen[id] = true
			s.entries[id].Gigs++
			ids = append(ids, id)
		}
	}
	for _, t := range tags {
		if t = strings.Join(Words(t), " "); t != "" {
			count("tag", t)
		}
	}
	for _, w := range Words(title) {
		if len(w) >= 3 && !IsStopWord(w) {
			count("title", w)
		}
	}
	return ids
}

func (s *suggestions) remove(ids []uint32) {
	for _, id := range ids {
		s.entries[id].Gigs--
	}
}

// Suggest completes typed text: tags that start with it or have a word that does,
// and title words that start with its last word (prefixed with the words before it).
// The most common come first; at most limit.
func (ix *Index) Suggest(typed string, limit int) []Suggestion {
	words := Words(typed)
	if len(words) == 0 {
		return nil
	}
	phrase, last := strings.Join(words, " "), words[len(words)-1]
	head := strings.Join(words[:len(words)-1], " ")
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []Suggestion
	for _, e := range ix.sugg.entries {
		if e.Gigs <= 0 {
			continue
		}
		switch {
		case e.Kind == "tag" && (strings.HasPrefix(e.Text, phrase) || strings.Contains(e.Text, " "+phrase)):
			out = append(out, e)
		case e.Kind == "title" && strings.HasPrefix(e.Text, last) && head == "":
			out = append(out, e)
		case e.Kind == "title" && strings.HasPrefix(e.Text, last):
			e.Text = head + " " + e.Text
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b Suggestion) int {
		return cmp.Or(cmp.Compare(b.Gigs, a.Gigs), strings.Compare(a.Text, b.Text))
	})
	return dedupe(out, limit)
}

// dedupe keeps the first suggestion of each text, at most limit.
func dedupe(list []Suggestion, limit int) []Suggestion {
	seen := map[string]bool{}
	out := list[:0]
	for _, s := range list {
		if !seen[s.Text] && len(out) < limit {
			seen[s.Text] = true
			out = append(out, s)
		}
	}
	return out
}
