package hub

import (
	"testing"
	"time"
)

func TestEchoesCountIdenticalPayloadsAndExpire(t *testing.T) {
	e := newEchoes()
	now := time.Unix(1_700_000_000, 0)
	a, b := []byte("typing"), []byte("other")
	e.expect(a, now, 7)
	e.expect(a, now.Add(time.Second), 9)
	for i, want := range []uint64{7, 9} { // oldest first, each with its fan-out's mark
		if mark, ok := e.returned(a); !ok || mark != want {
			t.Fatalf("echo %d: returned %d, %v; want mark %d", i+1, mark, ok, want)
		}
	}
	if _, ok := e.returned(a); ok {
		t.Fatal("a payload expected twice counted as an echo a third time")
	}
	if _, ok := e.returned(b); ok {
		t.Fatal("a payload nobody expected counted as an echo")
	}
	e.expect(b, now, 1)
	e.expect(a, now.Add(echoWait+time.Second), 2) // sweeps b's expired expectation
	if _, ok := e.returned(b); ok {
		t.Fatal("an expired expectation was kept")
	}
	if _, ok := e.returned(a); !ok {
		t.Fatal("a live expectation was swept")
	}
}
