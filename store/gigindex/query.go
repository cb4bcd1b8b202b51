package gigindex

import (
	"strings"
	"unicode"
)

// Query is a parsed web-search query, the syntax of PostgreSQL's
// websearch_to_tsquery: words (all must match), `or` between two words, `-word` to
// exclude, and "quoted phrases".
type Query struct {
	// Groups must all match; a group matches when any of its words does. Words are
	// lower case, without stop words.
	Groups [][]string
	// Not are words no match may contain.
	Not []string
	// Phrase is true when the query quotes several words in a row: the index keeps no
	// positions, so such a query is for the database.
	Phrase bool
}

// HasWords reports whether the query has a word to search for.
func (q Query) HasWords() bool { return len(q.Groups) > 0 }

// Parse reads a web-search query. It never fails: characters that are not letters,
// digits, quotes or a leading minus only separate words.
func Parse(text string) Query {
	var q Query
	orNext := false
	for _, tok := range tokens(text) {
		switch {
		case tok.quoted:
			words := contentWords(tok.text)
			if len(words) > 1 {
				q.Phrase = true
			}
			q.add(words, tok.negated, orNext)
			orNext = false
		case !tok.negated && strings.EqualFold(tok.text, "or"):
			orNext = len(q.Groups) > 0
		default:
			q.add(contentWords(tok.text), tok.negated, orNext)
			orNext = false
		}
	}
	return q
}

func (q *Query) add(words []string, negated, or bool) {
	switch {
	case len(words) == 0:
	case negated:
		q.Not = append(q.Not, words...)
	case or && len(words) == 1:
		last := len(q.Groups) - 1
		q.Groups[last] = append(q.Groups[last], words[0])
	default:
		for _, w := range words {
			q.Groups = append(q.Groups, []string{w})
		}
	}
}

// contentWords are the words of text that are not stop words.
func contentWords(text string) []string {
	var out []string
	for _, w := range Words(text) {
		if !IsStopWord(w) {
			out = append(out, w)
		}
	}
	return out
}

type token struct {
	text            string
	quoted, negated bool
}

// tokens splits a query into space-separated words and quoted runs (a quote left open
// runs to the end); a minus right before either negates it.
func tokens(text string) []token {
	var out []token
	rs := []rune(text)
	for i := 0; i < len(rs); {
		if unicode.IsSpace(rs[i]) {
			i++
			continue
		}
		t := token{}
		if rs[i] == '-' {
			t.negated = true
			i++
		}
		if i < len(rs) && rs[i] == '"' {
			end := i + 1
			for end < len(rs) && rs[end] != '"' {
				end++
			}
			t.text, t.quoted = string(rs[i+1:end]), true
			i = end + 1
		} else {
			end := i
			for end < len(rs) && !unicode.IsSpace(rs[end]) && rs[end] != '"' {
				end++
			}
			t.text = string(rs[i:end])
			i = end
		}
		out = append(out, t)
	}
	return out
}
