package market

// NotificationFacts are the parts of a notification its e-mail writes in the
// recipient's language: the routing table sets them next to the in-app title and body
// (which are English), and the store keeps them as JSON. A zero field is absent.
type NotificationFacts struct {
	AmountMinor int64  `json:"amount_minor,omitempty"` // in Currency's minor units
	Currency    string `json:"currency,omitempty"`
	Note        string `json:"note,omitempty"`   // written by the other party, shortened (see preview)
	Rating      int    `json:"rating,omitempty"` // a review's stars, 1…5
	// GigTitle names the gig of a notification about no order (a takedown); an order's
	// e-mail takes the title from the order.
	GigTitle string `json:"gig_title,omitempty"`
}

// HasAmount reports whether the facts name an amount.
func (f NotificationFacts) HasAmount() bool { return f.Currency != "" && f.AmountMinor != 0 }

// Scan reads the JSON object the store keeps; NULL is no facts.
func (f *NotificationFacts) Scan(src any) error {
	var out NotificationFacts
	if _, err := scanJSON(src, "notification facts", &out); err != nil {
		return err
	}
	*f = out
	return nil
}
