package gigindex

import (
	"strings"
	"unicode"

	snowballstem "github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
)

// stopWords is PostgreSQL's english.stop: these words are never indexed or searched.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`i me my myself we our ours ourselves you your yours yourself yourselves
		he him his himself she her hers herself it its itself they them their theirs themselves what which
		who whom this that these those am is are was were be been being have has had having do does did
		doing a an the and but if or because as until while of at by for with about against between into
		through during before after above below to from up down in out on off over under again further then
		once here there when where why how all any both each few more most other some such no nor not only
		own same so than too very s t can will just don should now`) {
		m[w] = true
	}
	return m
}()

// IsStopWord reports whether a lower-case word is one the index ignores.
func IsStopWord(w string) bool { return stopWords[w] }

// Stem is the English Snowball stem of a lower-case word, as PostgreSQL's english
// configuration makes it.
func Stem(w string) string {
	env := snowballstem.NewEnv(w)
	english.Stem(env)
	return env.Current()
}

// Words splits text into lower-case words (runs of letters and digits), skipping
// HTML tags and character entities, in order.
func Words(text string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	inTag, inEntity := false, false
	for _, r := range text {
		switch {
		case inTag:
			inTag = r != '>'
			continue
		case inEntity:
			inEntity = r != ';' && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '#')
			if inEntity || r == ';' {
				continue
			}
		case r == '<':
			flush()
			inTag = true
			continue
		case r == '&':
			flush()
			inEntity = true
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		} else {
			flush()
		}
	}
	flush()
	return out
}
