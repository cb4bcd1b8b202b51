package market

import "encoding/json"

// Notification kinds of moderation: an admin's takedown of a seller's gig and its
// lifting, and the outcome of a user's abuse report. They are filed under
// CategorySecurity, which is always on: a takedown's reason must reach its seller (the
// statement of reasons), and a reporter asked for the answer.
const (
	KindGigTakenDown   = "gig_taken_down"
	KindGigRestored    = "gig_restored"
	KindReportResolved = "report_resolved"
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

// routeReportOutcome tells a reporter what became of their report (report.resolved on
// their user channel): actioned or dismissed, about what they reported, without the
// admin's note.
func routeReportOutcome(ev Event) []Notification {
	kind, reporterID, err := ParseChannel(ev.Channel)
	var d ReportOutcome
	if err != nil || kind != "user" || ev.Type != "report.resolved" || json.Unmarshal(ev.Data, &d) != nil {
		return nil
	}
	what := map[string]string{ReportGig: "the gig", ReportMessage: "the message", ReportUser: "the profile"}[d.TargetKind]
	if what == "" {
		return nil
	}
	n := Notification{UserID: reporterID, Kind: KindReportResolved, Facts: NotificationFacts{Note: preview(d.Excerpt)}}
	switch d.Status {
	case ReportActioned:
		n.Title, n.Body = "We acted on your report", "Thank you: we reviewed your report of "+what+" "+quoted(preview(d.Excerpt))+" and took action."
	case ReportDismissed:
		n.Title, n.Body = "We reviewed your report", "We reviewed your report of "+what+" "+quoted(preview(d.Excerpt))+" and found no breach of our rules."
	default:
		return nil
	}
	return []Notification{n}
}
