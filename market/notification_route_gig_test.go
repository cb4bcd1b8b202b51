package market

import (
	"strings"
	"testing"
	"time"
)

// TestRoutingTellsTheSellerOfATakedownAndItsLifting: gig.taken_down and gig.restored
// on a seller's user channel give them one always-on, e-mailed notification each, the
// reason in the takedown's body and facts; other gig events and channels give none.
func TestRoutingTellsTheSellerOfATakedownAndItsLifting(t *testing.T) {
	const gig = "44444444-4444-4444-8444-444444444444"
	down := RouteNotifications(RoutableEvent{Event: Event{Channel: UserChannel(routeSeller), Type: "gig.taken_down",
		Data: []byte(`{"gig_id":"` + gig + `","slug":"logo","title":"Logo","reason":"copies a trademark"}`)}})
	if len(down) != 1 || down[0].UserID != routeSeller || down[0].Kind != KindGigTakenDown || down[0].Link != "/gigs/"+gig ||
		!strings.Contains(down[0].Body, "copies a trademark") || down[0].Facts.Note != "copies a trademark" || down[0].Facts.GigTitle != "Logo" {
		t.Fatalf("gig.taken_down routes to %+v", down)
	}
	up := RouteNotifications(RoutableEvent{Event: Event{Channel: UserChannel(routeSeller), Type: "gig.restored",
		Data: []byte(`{"gig_id":"` + gig + `","slug":"logo","title":"Logo"}`)}})
	if len(up) != 1 || up[0].Kind != KindGigRestored || up[0].UserID != routeSeller || up[0].Facts.GigTitle != "Logo" {
		t.Fatalf("gig.restored routes to %+v", up)
	}
	for _, kind := range []string{KindGigTakenDown, KindGigRestored} {
		if cat, _ := CategoryOf(kind); cat != CategorySecurity || !EmailsKind(kind) {
			t.Fatalf("%s: category %s, e-mailed %v", kind, cat, EmailsKind(kind))
		}
		prefs := NotificationPrefs{Off: map[Switch]bool{{CategorySecurity, ChannelEmail}: true, {CategorySecurity, ChannelInApp}: true}}
		for _, ch := range Channels {
			if ok, _ := Allowed(prefs, kind, ch, time.Now()); !ok {
				t.Fatalf("%s is silenced on %s", kind, ch)
			}
		}
	}
	for _, ev := range []Event{
		{Channel: UserChannel(routeSeller), Type: "gig.taken_down", Data: []byte(`{"gig_id":"` + gig + `"}`)}, // no reason
		{Channel: "order:" + routeOrderID, Type: "gig.restored", Data: []byte(`{"gig_id":"` + gig + `"}`)},
		{Channel: UserChannel(routeSeller), Type: "gig.edited", Data: []byte(`{}`)},
	} {
		if got := RouteNotifications(RoutableEvent{Event: ev}); len(got) != 0 {
			t.Fatalf("%s on %s routes to %+v", ev.Type, ev.Channel, got)
		}
	}
}

// TestRoutingTellsTheReporterTheOutcome: report.resolved on a reporter's channel gives
// them one always-on, in-app notification saying whether the report was acted on,
// naming what they reported; an unknown status or kind gives none.
func TestRoutingTellsTheReporterTheOutcome(t *testing.T) {
	for status, want := range map[string]string{ReportActioned: "took action", ReportDismissed: "found no breach"} {
		got := RouteNotifications(RoutableEvent{Event: Event{Channel: UserChannel(routeBuyer), Type: "report.resolved",
			Data: []byte(`{"id":"r1","target_kind":"gig","excerpt":"Cheap logos","reason":"scam","status":"` + status + `"}`)}})
		if len(got) != 1 || got[0].UserID != routeBuyer || got[0].Kind != KindReportResolved ||
			!strings.Contains(got[0].Body, want) || !strings.Contains(got[0].Body, "Cheap logos") {
			t.Fatalf("%s routes to %+v", status, got)
		}
	}
	if cat, _ := CategoryOf(KindReportResolved); cat != CategorySecurity || EmailsKind(KindReportResolved) {
		t.Fatalf("report_resolved: category %s, e-mailed %v; want security, in-app and push only", cat, EmailsKind(KindReportResolved))
	}
	for _, data := range []string{`{"target_kind":"gig","status":"open"}`, `{"target_kind":"order","status":"actioned"}`} {
		if got := RouteNotifications(RoutableEvent{Event: Event{Channel: UserChannel(routeBuyer), Type: "report.resolved", Data: []byte(data)}}); len(got) != 0 {
			t.Fatalf("%s routes to %+v", data, got)
		}
	}
}
