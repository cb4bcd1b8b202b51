package handlers

import "testing"

func TestETagMatchesIfNoneMatchLists(t *testing.T) {
	const etag = `"abc"`
	cases := map[string]bool{
		`"abc"`:              true,
		`W/"abc"`:            true,
		`"x", "abc"`:         true,
		`*`:                  true,
		`"abcd"`:             false,
		`abc`:                false,
		``:                   false,
		`,`:                  false,
		`"x",W/"y"`:          false,
		` "x" ,  W/"abc" , `: true,
	}
	for header, want := range cases {
		if got := etagMatches(header, etag); got != want {
			t.Errorf("etagMatches(%q) = %v, want %v", header, got, want)
		}
	}
}

func FuzzETagMatches(f *testing.F) {
	f.Add(`"a", W/"b"`, `"b"`)
	f.Add(`*`, `"x"`)
	f.Fuzz(func(t *testing.T, header, etag string) {
		got := etagMatches(header, etag)
		if etag == "" && got && !containsStar(header) {
			t.Fatalf("an empty etag matched %q", header)
		}
	})
}

func containsStar(header string) bool {
	for i := range header {
		if header[i] == '*' {
			return true
		}
	}
	return false
}
