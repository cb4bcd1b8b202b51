package handlers

import (
	"testing"
	"time"
)

func TestAddressBudgetAllowsAMinuteOfRequestsThenRefills(t *testing.T) {
	b := newAddressBudget(60) // one a second, a minute's worth at once
	now := time.Unix(1_700_000_000, 0)
	for i := range 60 {
		if wait := b.take("192.0.2.1", now); wait != 0 {
			t.Fatalf("request %d of the burst refused (wait %v)", i+1, wait)
		}
	}
	wait := b.take("192.0.2.1", now)
	if wait <= 0 || wait > time.Second {
		t.Fatalf("request past the burst: wait %v, want (0, 1s]", wait)
	}
	if b.take("192.0.2.2", now) != 0 {
		t.Fatal("another address shares the budget")
	}
	if b.take("192.0.2.1", now.Add(time.Second)) != 0 {
		t.Fatal("one second later one request's worth is not back")
	}
	b.take("192.0.2.1", now.Add(3*time.Minute)) // sweeps whole budgets
	if _, ok := b.tat["192.0.2.2"]; ok {
		t.Fatal("an address whose budget is whole again was kept")
	}
}

func TestRawQueryValue(t *testing.T) {
	for query, want := range map[string]string{
		"token=abc.def_-":          "abc.def_-",
		"x=1&token=a.b.c&y=2":      "a.b.c",
		"tokens=no&token=yes":      "yes",
		"token=a%2Eb":              "a.b",
		"token=%zz":                "",
		"ticket=t":                 "",
		"":                         "",
		"token":                    "",
		"token=first&token=second": "first",
	} {
		if got := rawQueryValue([]byte(query), "token"); got != want {
			t.Errorf("%q: got %q, want %q", query, got, want)
		}
	}
}
