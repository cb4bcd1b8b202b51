package handlers

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// savedSearchRoutes serve the caller's saved searches under /me/saved-searches.
type savedSearchRoutes struct {
	savedSearches *market.SavedSearches
}

// savedSearchParams are the parameters of GET /gigs a saved search keeps; online is
// read so that the domain can say why it is not kept.
var savedSearchParams = map[string]bool{
	"q": true, "category": true, "seller": true, "currency": true, "min_price": true, "max_price": true,
	"delivery_days": true, "min_rating": true, "online": true,
}

// create keeps a search: a JSON object of a name and the parameters of GET /gigs
// (strings, numbers or booleans), read by the catalogue's own parser.
func (h *savedSearchRoutes) create(c *fiber.Ctx) error {
	name, get, err := savedSearchBody(c)
	if err != nil {
		return err
	}
	f, err := gigFilterFrom(get)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	s, err := h.savedSearches.Create(c.UserContext(), u.ID, name, f)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(s)
}

// savedSearchRequest is a saved search's body, a JSON object whose fields are read one
// by one (see savedSearchBody).
type savedSearchRequest struct {
	fields map[string]json.RawMessage
}

// UnmarshalJSON keeps the object's fields.
func (r *savedSearchRequest) UnmarshalJSON(b []byte) error {
	return json.Unmarshal(b, &r.fields)
}

// savedSearchBody reads a saved search's body: its name and its parameters. A body
// that is not a JSON object, a parameter GET /gigs has but a saved search does not
// keep (sort, cursor, limit, facets) or does not know, or a value that is not a
// string, number or boolean is a 400 naming the field.
func savedSearchBody(c *fiber.Ctx) (string, params, error) {
	var req savedSearchRequest
	if err := decodeJSON(c, &req); err != nil {
		return "", nil, err
	}
	raw := req.fields
	if raw == nil {
		return "", nil, badRequest("", "The body must be a JSON object.")
	}
	var name string
	if v, ok := raw["name"]; ok {
		if err := json.Unmarshal(v, &name); err != nil {
			return "", nil, badRequest("name", "must be a string")
		}
	}
	values := map[string]string{}
	for k, v := range raw {
		if k == "name" {
			continue
		}
		if !savedSearchParams[k] {
			return "", nil, badRequest(k, "is not a filter a saved search keeps (q, category, seller, currency, min_price, max_price, delivery_days, min_rating)")
		}
		s, ok := scalarParam(v)
		if !ok {
			return "", nil, badRequest(k, "must be a string, a number or a boolean")
		}
		values[k] = s
	}
	return name, func(k string) string { return values[k] }, nil
}

// scalarParam turns a JSON string, number or boolean into the text of a query
// parameter; null is absent.
func scalarParam(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0:
		return "", false
	case string(v) == "null":
		return "", true
	case v[0] == '"':
		var s string
		err := json.Unmarshal(v, &s)
		return s, err == nil
	case string(v) == "true" || string(v) == "false":
		return string(v), true
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		return "", false
	}
	if _, err := strconv.ParseFloat(n.String(), 64); err != nil {
		return "", false
	}
	return n.String(), true
}

// list returns the caller's saved searches, newest first (at most
// market.MaxSavedSearches, so one page).
func (h *savedSearchRoutes) list(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	list, err := h.savedSearches.List(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, cachePrivateNoStore)
	return c.JSON(fiber.Map{"saved_searches": list, "max": market.MaxSavedSearches})
}

// remove deletes one of the caller's saved searches (404 for another's).
func (h *savedSearchRoutes) remove(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if err := h.savedSearches.Delete(c.UserContext(), u.ID, c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
