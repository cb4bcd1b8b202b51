package handlers

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// pageCursor is what an opaque next_cursor holds: the sort time and id of the last
// item of a page (keyset pagination).
type pageCursor struct {
	At time.Time `json:"t"`
	ID string    `json:"id"`
}

// encodeCursor makes the opaque next_cursor of a page ending at (at, id).
func encodeCursor(at time.Time, id string) string {
	raw, _ := json.Marshal(pageCursor{At: at, ID: id}) // a time and a string always marshal
	return base64.RawURLEncoding.EncodeToString(raw)
}

// queryCursor reads the cursor query parameter: ok false when absent, a 400 naming
// cursor when it is not a next_cursor this API made.
func queryCursor(s string) (cur pageCursor, ok bool, err error) {
	if s == "" {
		return cur, false, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(raw, &cur) != nil || cur.At.IsZero() || !isCanonicalUUID(cur.ID) {
		return pageCursor{}, false, badRequest("cursor", "must be a next_cursor from a previous page")
	}
	return cur, true, nil
}

func isCanonicalUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}
