package market

import "encoding/json"

// Notification kinds of disputes.
const (
	KindOrderDisputed     = "order_disputed"
	KindDisputeAnswered   = "dispute_answered"
	KindDisputeWithdrawn  = "dispute_withdrawn"
	KindDisputeResolved   = "dispute_resolved"
	disputeResolvedSeller = "The dispute was resolved in the seller's favour; the order is complete."
)

// routeDispute is the routing table's part for disputes: the seller hears of a
// dispute and its withdrawal, the buyer of the seller's answer, both of the
// resolution.
func routeDispute(ev RoutableEvent) []Notification {
	o := *ev.Order
	title := quoted(o.GigTitle)
	switch ev.Type {
	case "order.disputed":
		body, facts := disputeReason(ev.Data)
		return orderNotes(o, KindOrderDisputed, "Dispute opened: "+title, body, facts, toSeller)
	case "order.dispute_answered":
		return orderNotes(o, KindDisputeAnswered, "The seller answered your dispute", "On "+title+".", NotificationFacts{}, toBuyer)
	case "order.dispute_withdrawn":
		return orderNotes(o, KindDisputeWithdrawn, "Dispute withdrawn: "+title, "The buyer withdrew the dispute; the order goes on.", NotificationFacts{}, toSeller)
	case "order.dispute_resolved":
		body, facts := disputeResolvedSeller, NotificationFacts{}
		if o.RefundedMinor > 0 {
			body = "An admin resolved the dispute: " + FormatMoney(o.RefundedMinor, o.Currency) + " goes back to the buyer."
			facts = amountOf(o, o.RefundedMinor)
		}
		return orderNotes(o, KindDisputeResolved, "Dispute resolved: "+title, body, facts, toBuyer, toSeller)
	}
	return nil
}

func disputeReason(data []byte) (string, NotificationFacts) {
	var d struct {
		Dispute struct{ Reason string } `json:"dispute"`
	}
	if json.Unmarshal(data, &d) != nil || d.Dispute.Reason == "" {
		return "The buyer opened a dispute.", NotificationFacts{}
	}
	note := preview(d.Dispute.Reason)
	return "The buyer opened a dispute: " + note, NotificationFacts{Note: note}
}
