package handlers

import (
	"testing"
	"time"
)

// TestKeyCursorsRoundTripAndRefuseWhatThisAPIDidNotMake: the statement's posting
// cursor, the provider events' cursor and the (time, id) cursor decode what they
// encoded, and refuse (400 naming cursor) garbage, another list's cursor and keys
// their list could not have made.
func TestKeyCursorsRoundTripAndRefuseWhatThisAPIDidNotMake(t *testing.T) {
	validPosting := func(p postingCursor) bool { return p.PostingID > 0 }
	var p postingCursor
	if ok, err := queryKeyCursor(encodeKeyCursor(postingCursor{PostingID: 42}), &p, validPosting); !ok || err != nil || p.PostingID != 42 {
		t.Fatalf("posting round trip: %+v ok=%v err=%v", p, ok, err)
	}
	if ok, err := queryKeyCursor("", &p, validPosting); ok || err != nil {
		t.Fatalf("no cursor: ok=%v err=%v", ok, err)
	}
	at := time.Date(2026, 12, 4, 3, 4, 5, 6000, time.UTC)
	validEvent := func(e providerEventCursor) bool { return !e.At.IsZero() && e.Provider != "" && e.EventID != "" }
	var e providerEventCursor
	want := providerEventCursor{At: at, Provider: "stripe", EventID: "evt_1"}
	if ok, err := queryKeyCursor(encodeKeyCursor(want), &e, validEvent); !ok || err != nil || e != want {
		t.Fatalf("provider event round trip: %+v ok=%v err=%v", e, ok, err)
	}
	for _, s := range []string{"nonsense", "eyJ9", encodeKeyCursor(postingCursor{PostingID: -1}), encodeKeyCursor(providerEventCursor{At: at})} {
		p, e = postingCursor{PostingID: 7}, providerEventCursor{}
		_, perr := queryKeyCursor(s, &p, validPosting)
		_, eerr := queryKeyCursor(s, &e, validEvent)
		if !namesCursor(perr) || !namesCursor(eerr) {
			t.Errorf("cursor %q: posting %v, event %v; want 400s naming cursor", s, perr, eerr)
		}
		if p.PostingID != 7 {
			t.Errorf("cursor %q overwrote the key on refusal: %+v", s, p)
		}
	}
	id := "3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b"
	if c, ok, err := queryCursor(encodeCursor(at, id)); !ok || err != nil || !c.At.Equal(at) || c.ID != id {
		t.Fatalf("page cursor round trip: %+v ok=%v err=%v", c, ok, err)
	}
	if _, _, err := queryCursor(encodeKeyCursor(want)); !namesCursor(err) {
		t.Fatalf("a provider event cursor read as a page cursor: %v", err)
	}
}
