package handlers

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/gigstream/hub/market"
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

// queryPage reads limit (def when absent, 1..max) and cursor of a keyset page on
// (time, id): before is nil on the first page. Malformed values are 400s naming them.
func queryPage(c *fiber.Ctx, def, max int) (limit int, before *market.PageKey, err error) {
	if limit, err = queryInt(c, "limit", def, 1, max); err != nil {
		return 0, nil, err
	}
	cur, ok, err := queryCursor(c.Query("cursor"))
	if err != nil || !ok {
		return limit, nil, err
	}
	return limit, &market.PageKey{At: cur.At, ID: cur.ID}, nil
}

// pageOf cuts a list read with one item more than limit to the page and returns the
// next_cursor after its last item (keyed by key), or nil when no item followed.
func pageOf[T any](list []T, limit int, key func(T) (time.Time, string)) ([]T, *string) {
	if len(list) <= limit {
		return list, nil
	}
	list = list[:limit]
	next := encodeCursor(key(list[limit-1]))
	return list, &next
}
