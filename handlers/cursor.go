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

// encodeKeyCursor makes an opaque next_cursor of any page key: base64url of its JSON.
// Keys are structs of times, strings and numbers, which always marshal.
func encodeKeyCursor(key any) string {
	raw, _ := json.Marshal(key)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// queryKeyCursor reads the cursor query parameter s into key: ok false when s is
// empty, and a 400 naming cursor when it is not a next_cursor this API made (not
// base64url JSON of the key, or a key that valid refuses).
func queryKeyCursor[K any](s string, key *K, valid func(K) bool) (ok bool, err error) {
	if s == "" {
		return false, nil
	}
	var k K
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(raw, &k) != nil || !valid(k) {
		return false, badRequest("cursor", "must be a next_cursor from a previous page")
	}
	*key = k
	return true, nil
}

// encodeCursor makes the opaque next_cursor of a page ending at (at, id).
func encodeCursor(at time.Time, id string) string {
	return encodeKeyCursor(pageCursor{At: at, ID: id})
}

// queryCursor reads the cursor query parameter: ok false when absent, a 400 naming
// cursor when it is not a next_cursor this API made.
func queryCursor(s string) (cur pageCursor, ok bool, err error) {
	ok, err = queryKeyCursor(s, &cur, func(c pageCursor) bool { return !c.At.IsZero() && isCanonicalUUID(c.ID) })
	return cur, ok, err
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
