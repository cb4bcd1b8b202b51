package market

import "encoding/json"

// Notification kinds of an admin's takedown of a seller's gig and of its lifting.
// They are filed under CategorySecurity, which is always on: a takedown's reason must
// reach its seller (the statement of reasons), so no switch silences it.
const (
	KindGigTakenDown = "gig_taken_down"
	KindGigRestored  = "gig_restored"
)

// routeGigModeration tells a seller of gig.taken_down (with the admin's reason, never
// the admin) and gig.restored on their user channel; other gig events give none.
func routeGigModeration(ev Event) []Notification {
	kind, sellerID, err := ParseChannel(ev.Channel)
	var d GigModeration
	if err != nil || kind != "user" || json.Unmarshal(ev.Data, &d) != nil {
		return nil
	}
	facts := NotificationFacts{GigTitle: d.Title}
	n := Notification{UserID: sellerID, Link: "/gigs/" + d.GigID}
	switch {
	case ev.Type == "gig.taken_down" && d.Reason != nil:
		facts.Note = *d.Reason
		n.Kind, n.Title, n.Body = KindGigTakenDown, "Gig taken down: "+quoted(d.Title),
			"An admin took your gig down; it is hidden and cannot be published until it is restored. Reason: "+*d.Reason
	case ev.Type == "gig.restored":
		n.Kind, n.Title, n.Body = KindGigRestored, "Takedown lifted: "+quoted(d.Title),
			"An admin lifted the takedown of your gig. It stays paused until you publish it again."
	default:
		return nil
	}
	n.Facts = facts
	return []Notification{n}
}
