package handlers

// Conversions receives the product conversions the HTTP layer sees, for analytics
// (GA4, in cmd/). Calls must not block. Order conversions (placed, paid, completed)
// are taken from the order events instead, whichever request or job made them.
type Conversions interface {
	SignedUp(userID string)
	GigViewed(userID, gigID string)
}

// noConversions records nothing (Deps.Conversions unset).
type noConversions struct{}

func (noConversions) SignedUp(string)          {}
func (noConversions) GigViewed(string, string) {}

func orNoConversions(c Conversions) Conversions {
	if c == nil {
		return noConversions{}
	}
	return c
}
