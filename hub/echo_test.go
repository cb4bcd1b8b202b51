package hub

import (
	"testing"
	"time"
)

func TestEchoesCountIdenticalPayloadsAndExpire(t *testing.T) {
	e := newEchoes()
	now := time.Unix(1_700_000_000, 0)
	a, b := []byte("typing"), []byte("other")
	e.expect(a, now)
	e.expect(a, now.Add(time.Second))
	for i := range 2 {
		if !e.returned(a) {
			t.Fatalf("expected echo %d was not recognised", i+1)
		}
	}
	if e.returned(a) || e.returned(b) {
		t.Fatal("a payload nobody expected counted as an echo")
	}
	e.expect(b, now)
	e.expect(a, now.Add(echoWait+time.Second)) // sweeps b's expired expectation
	if e.returned(b) {
		t.Fatal("an expired expectation was kept")
	}
	if !e.returned(a) {
		t.Fatal("a live expectation was swept")
	}
}
