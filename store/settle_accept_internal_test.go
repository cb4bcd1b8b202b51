package store

import (
	"strconv"
	"testing"
)

func TestShiftParams(t *testing.T) {
	for _, c := range []struct {
		in   string
		by   int
		want string
	}{
		{`SELECT $1, $2::text, $10`, 15, `SELECT $16, $17::text, $25`},
		{`VALUES ($9,$12)`, 0, `VALUES ($9,$12)`},
		{`WHERE a = 'x'`, 3, `WHERE a = 'x'`},
	} {
		if got := shiftParams(c.in, c.by); got != c.want {
			t.Errorf("shiftParams(%q, %d) = %q, want %q", c.in, c.by, got, c.want)
		}
	}
}

// TestAcceptWritesQueryParams checks that acceptWritesQuery's parts do not overlap:
// it uses each of writeAccept's 42 arguments, $1-$42, and no other.
func TestAcceptWritesQueryParams(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range paramRef.FindAllString(acceptWritesQuery, -1) {
		seen[p] = true
	}
	for i := 1; i <= 42; i++ {
		if p := "$" + strconv.Itoa(i); !seen[p] {
			t.Errorf("acceptWritesQuery does not use %s", p)
		}
		delete(seen, "$"+strconv.Itoa(i))
	}
	if len(seen) > 0 {
		t.Errorf("acceptWritesQuery uses parameters beyond $42: %v", seen)
	}
}
